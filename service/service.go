package service

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/argo"
	"github.com/datainsight/datainsight/cluster/local"
	"github.com/datainsight/datainsight/notebook"
)

// Options are what a Service is given besides its configuration.
type Options struct {
	// Logger receives the service's logs (default: none).
	Logger *slog.Logger
	// Spawn starts a detached process that carries out the local run
	// recorded in runDir with the interpreter python, and returns once it
	// is started (SubmitOptions.Detach); nil refuses detached runs. The
	// command line passes one that runs `datainsight __runner`.
	Spawn func(python, runDir string) error
}

// Service carries out what the command line and the sidecar ask. It is
// safe for concurrent use: the sidecar shares one between its clients.
type Service struct {
	cfg   Config
	log   *slog.Logger
	spawn func(python, runDir string) error

	mu        sync.Mutex
	locals    map[string]*localBackend // by runs folder
	analyzers map[string]*cachedAnalyzer
	uses      uint64
}

// cachedAnalyzer is the analyzer of one notebook, which remembers its
// cells' facts: re-analysing after an edit (the panel does on every
// change) reparses only the edited cells.
type cachedAnalyzer struct {
	a    *analyzer.Analyzer
	used uint64
}

// maxAnalyzers bounds how many notebooks' analyzers are kept; the least
// recently used goes first.
const maxAnalyzers = 32

// localBackend is the one local backend of a runs folder. Runs carried out
// by this process are known only to the instance that started them (its
// cancel, its wake-ups for watchers), so every call about that folder goes
// through the same instance; mu guards the fields of l that a Submit or a
// Retry sets for itself.
type localBackend struct {
	l    *local.Local // per-call inputs go in local.Call: l is never changed
	used uint64       // when it was last asked for (Service.uses)
}

// New returns a Service. cfg comes from LoadConfig.
func New(cfg Config, opts Options) *Service {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Backend == "" {
		cfg.Backend = BackendLocal
	}
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	if cfg.MaxNotebookBytes <= 0 {
		cfg.MaxNotebookBytes = notebook.DefaultMaxBytes
	}
	return &Service{cfg: cfg, log: log, spawn: opts.Spawn, locals: map[string]*localBackend{}, analyzers: map[string]*cachedAnalyzer{}}
}

// analyzer returns the analyzer for the notebook at path: one of its own,
// so that notebooks whose cells share ids do not evict each other's facts;
// a fresh one for a notebook with no path.
func (s *Service) analyzer(path string) *analyzer.Analyzer {
	if path == "" {
		return analyzer.New()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uses++
	if ca := s.analyzers[path]; ca != nil {
		ca.used = s.uses
		return ca.a
	}
	if len(s.analyzers) >= maxAnalyzers {
		oldest := ""
		for p, ca := range s.analyzers {
			if oldest == "" || ca.used < s.analyzers[oldest].used {
				oldest = p
			}
		}
		delete(s.analyzers, oldest)
	}
	ca := &cachedAnalyzer{a: analyzer.New(), used: s.uses}
	s.analyzers[path] = ca
	return ca.a
}

// Config returns the configuration the service runs with.
func (s *Service) Config() Config {
	c := s.cfg
	c.GPUTolerations = append([]string(nil), c.GPUTolerations...)
	return c
}

// Place says which runs an operation is about: those of a backend, and on
// the local backend those recorded for a notebook (in its folder, unless
// the configuration names a runs folder).
type Place struct {
	// Notebook is the notebook whose runs these are; the zero value means
	// the current folder's.
	Notebook NotebookRef
	// Backend is "local" or "argo"; "" for the configured one.
	Backend string
}

// backend opens the backend of a place. lb is set for the local backend.
func (s *Service) backend(at Place) (b cluster.Backend, lb *localBackend, err error) {
	name := at.Backend
	if name == "" {
		name = s.cfg.Backend
	}
	switch name {
	case BackendLocal:
		lb, err := s.local(at.Notebook)
		if err != nil {
			return nil, nil, err
		}
		return lb.l, lb, nil
	case BackendArgo:
		a, err := s.argo(at.Notebook)
		if err != nil {
			return nil, nil, err
		}
		return a, nil, nil
	}
	return nil, nil, fmt.Errorf("%w %q (local or argo)", ErrUnknownBackend, name)
}

// local returns the local backend of the runs folder for nb: the
// configured one, or .datainsight/runs beside the notebook (or in the
// current folder), made absolute, since steps run in the notebook's
// folder, not in this one.
func (s *Service) local(nb NotebookRef) (*localBackend, error) {
	if nb.Dir == "" {
		var err error
		if nb, err = ResolveNotebook(""); err != nil {
			return nil, err
		}
	}
	dir := s.cfg.RunsDir
	if dir == "" {
		dir = nb.RunsDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("the runs folder %s: %w", dir, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uses++
	lb := s.locals[dir]
	if lb == nil {
		s.evictLocal()
		lb = &localBackend{l: &local.Local{Dir: dir, Python: s.cfg.Python, Log: s.log, Store: s.cfg.Store}}
		s.locals[dir] = lb
	}
	lb.used = s.uses
	return lb, nil
}

// maxLocals bounds the local backends kept, one per runs folder: a
// sidecar serving a large tree of notebooks, each folder with its runs,
// would otherwise keep one for every folder it was ever asked about.
const maxLocals = 64

// evictLocal forgets the least recently used local backend when there are
// maxLocals, where that loses nothing: when runs are carried out by
// processes of their own (Options.Spawn), a backend holds no state a new
// one would not read back from its folder. Runs carried out in this
// process are known only to the backend that started them, so without
// Spawn none is forgotten. s.mu is held.
func (s *Service) evictLocal() {
	if s.spawn == nil || len(s.locals) < maxLocals {
		return
	}
	oldest := ""
	for dir, lb := range s.locals {
		if oldest == "" || lb.used < s.locals[oldest].used {
			oldest = dir
		}
	}
	delete(s.locals, oldest)
}

// cluster is the configured cluster and the namespace Argo runs go to.
func (s *Service) cluster() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if s.cfg.Kubeconfig != "" {
		rules.ExplicitPath = s.cfg.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: s.cfg.Context})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, "", &ClusterError{Err: fmt.Errorf("no cluster configuration: %w", err)}
	}
	ns := s.cfg.Namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, "", &ClusterError{Err: err}
		}
	}
	return rc, ns, nil
}

// Namespace is the namespace Argo runs go to (the configuration's, else
// the kubeconfig context's), or why there is none: for showing, as the
// panel does; nothing a client sends changes it.
func (s *Service) Namespace() (string, error) {
	_, ns, err := s.cluster()
	return ns, err
}

// argo returns a client of the configured cluster and namespace; nb's
// folder is where its steps run when the workspace volume is mounted.
func (s *Service) argo(nb NotebookRef) (*argo.Argo, error) {
	rc, ns, err := s.cluster()
	if err != nil {
		return nil, err
	}
	opts := argo.Options{ArtifactRepository: s.cfg.ArtifactRepository, NotebookDir: nb.AnalysisDir(),
		Store: s.cfg.ArtifactStoreConfig}
	if st := s.cfg.ArtifactStoreConfig; st != nil {
		opts.ArtifactKeyPrefix = st.Prefix
	}
	if s.cfg.ArtifactRepositoryRef != "" {
		ref, err := ParseArtifactRepositoryRef(s.cfg.ArtifactRepositoryRef)
		if err != nil {
			return nil, &ConfigError{Setting: "artifact_repository_ref", Value: s.cfg.ArtifactRepositoryRef, Err: err}
		}
		opts.ArtifactRepositoryRef = ref
	}
	for _, spec := range s.cfg.GPUTolerations {
		tol, err := notebook.ParseToleration(strings.TrimSpace(spec))
		if err != nil {
			return nil, &ConfigError{Setting: "gpu_tolerations", Value: spec, Err: err}
		}
		opts.GPUTolerations = append(opts.GPUTolerations, tol)
	}
	return argo.New(rc, ns, opts)
}
