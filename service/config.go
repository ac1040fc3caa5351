package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/notebook"
)

// Backend names.
const (
	BackendLocal = "local"
	BackendArgo  = "argo"
)

// Config is everything the service is configured with. It is read once,
// by LoadConfig: the config file, then DATAINSIGHT_* environment
// variables, then the caller's overrides (the command line's flags), each
// over the one before; then defaults fill what none of them set.
type Config struct {
	// Backend runs the pipelines: "local" (python3 processes on this
	// machine; the default) or "argo" (Argo Workflows on Kubernetes).
	Backend string `json:"backend,omitempty"`
	// Python is the interpreter local steps run with (default python3).
	Python string `json:"python,omitempty"`
	// RunsDir is where local runs are recorded; "" records each
	// notebook's runs in .datainsight/runs beside it. A relative folder
	// is relative to the current folder.
	RunsDir string `json:"runs_dir,omitempty"`
	// Kubeconfig is the kubeconfig file for the argo backend (default
	// $KUBECONFIG, else ~/.kube/config, else in-cluster).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context is the kubeconfig context (default: its current one).
	Context string `json:"context,omitempty"`
	// Namespace is where Argo runs go (default: the context's). Never
	// taken from a notebook or a request.
	Namespace string `json:"namespace,omitempty"`
	// ArtifactRepository says the cluster has an Argo artifact
	// repository: step reports are kept as artifacts.
	ArtifactRepository bool `json:"artifact_repository,omitempty"`
	// GPUTolerations are given to every GPU step on Argo, each
	// KEY[=VALUE]:EFFECT.
	GPUTolerations []string `json:"gpu_tolerations,omitempty"`
	// MaxNotebookBytes bounds the size of a notebook read (default
	// notebook.DefaultMaxBytes).
	MaxNotebookBytes int64 `json:"max_notebook_bytes,omitempty"`
	// Marshal, s3://BUCKET[/PREFIX], keeps local runs' values in object
	// storage as well as in the runs folder, so that both backends share
	// them; "" keeps them in the runs folder only.
	Marshal string `json:"marshal,omitempty"`

	// ArtifactStore, s3://BUCKET[/PREFIX], is the object storage Argo
	// runs in marshal mode "artifacts" keep their values, reports and logs
	// in: the bucket of the cluster's artifact repository, as this
	// machine reaches it, and where in it runs go (default prefix
	// "datainsight"). With it, logs and reports are read from the store
	// once the pods are gone, and the cache checks that what it reuses is
	// still there.
	ArtifactStore string `json:"artifact_store,omitempty"`
	// ArtifactRepositoryRef, CONFIGMAP[:KEY], names the artifact
	// repository artifacts-mode workflows use (default: the cluster's).
	ArtifactRepositoryRef string `json:"artifact_repository_ref,omitempty"`

	// Store is where Marshal points, with the endpoint and keys from the
	// environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...): set by
	// LoadConfig, never read from a file nor written out.
	Store *s3store.Config `json:"-"`
	// ArtifactStoreConfig is where ArtifactStore points, the same way.
	ArtifactStoreConfig *s3store.Config `json:"-"`
}

// Environment variables LoadConfig reads, over the config file.
const (
	EnvBackend          = "DATAINSIGHT_BACKEND"
	EnvPython           = "DATAINSIGHT_PYTHON"
	EnvRunsDir          = "DATAINSIGHT_RUNS_DIR"
	EnvKubeconfig       = "DATAINSIGHT_KUBECONFIG"
	EnvContext          = "DATAINSIGHT_CONTEXT"
	EnvNamespace        = "DATAINSIGHT_NAMESPACE"
	EnvGPUTolerations   = "DATAINSIGHT_GPU_TOLERATIONS" // comma-separated
	EnvMaxNotebookBytes = "DATAINSIGHT_MAX_NOTEBOOK_BYTES"
	EnvMarshal          = "DATAINSIGHT_MARSHAL"
	EnvArtifactStore    = "DATAINSIGHT_ARTIFACT_STORE"
	EnvArtifactRepoRef  = "DATAINSIGHT_ARTIFACT_REPOSITORY_REF"
)

// envOf is the variable that sets each setting check validates.
var envOf = map[string]string{
	"backend": EnvBackend, "marshal": EnvMarshal, "artifact_store": EnvArtifactStore,
	"artifact_repository_ref": EnvArtifactRepoRef, "max_notebook_bytes": EnvMaxNotebookBytes,
}

// ConfigError is a setting that is not valid, with where it came from.
type ConfigError struct {
	// Source is where the value was found: the config file's path, an
	// environment variable's name, or "" for the caller's overrides.
	Source string
	// Setting is the Config field, as the config file spells it
	// (max_notebook_bytes); "" when the whole file is at fault.
	Setting string
	Value   string
	Err     error
}

func (e *ConfigError) Error() string {
	switch {
	case strings.HasPrefix(e.Source, "DATAINSIGHT_"):
		return fmt.Sprintf("%s=%q: %v", e.Source, e.Value, e.Err)
	case e.Setting == "":
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	case e.Source == "":
		return fmt.Sprintf("%s %q: %v", e.Setting, e.Value, e.Err)
	}
	return fmt.Sprintf("%s: %s %q: %v", e.Source, e.Setting, e.Value, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ErrUnknownBackend is matched by the error for a backend name other than
// local and argo.
var ErrUnknownBackend = errors.New("unknown backend")

// ConfigPath is the config file LoadConfig reads:
// $XDG_CONFIG_HOME/datainsight/config.yaml, else
// ~/.config/datainsight/config.yaml; "" when neither variable is set.
func ConfigPath(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "datainsight", "config.yaml")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "datainsight", "config.yaml")
	}
	return ""
}

// LoadConfig reads the configuration: the config file (if there is one;
// unknown fields are errors; paths may start with ~/), then the environment, then overrides (its
// non-zero fields), then the defaults; and validates it. getenv is
// os.Getenv outside tests.
func LoadConfig(getenv func(string) string, overrides Config) (Config, error) {
	var cfg Config
	if path := ConfigPath(getenv); path != "" {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return cfg, &ConfigError{Source: path, Err: err}
		default:
			if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
				return cfg, &ConfigError{Source: path, Err: err}
			}
			if err := cfg.check(path); err != nil {
				return cfg, err
			}
			// A file's paths may start at the home folder, as a shell's do.
			if home := getenv("HOME"); home != "" {
				for _, p := range []*string{&cfg.Python, &cfg.RunsDir, &cfg.Kubeconfig} {
					if strings.HasPrefix(*p, "~/") {
						*p = filepath.Join(home, (*p)[2:])
					}
				}
			}
		}
	}
	env := Config{
		Backend: getenv(EnvBackend), Python: getenv(EnvPython), RunsDir: getenv(EnvRunsDir),
		Kubeconfig: getenv(EnvKubeconfig), Context: getenv(EnvContext), Namespace: getenv(EnvNamespace),
		Marshal: getenv(EnvMarshal), ArtifactStore: getenv(EnvArtifactStore), ArtifactRepositoryRef: getenv(EnvArtifactRepoRef),
	}
	if v := getenv(EnvGPUTolerations); v != "" {
		env.GPUTolerations = strings.Split(v, ",")
	}
	if v := getenv(EnvMaxNotebookBytes); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return cfg, &ConfigError{Source: EnvMaxNotebookBytes, Setting: "max_notebook_bytes", Value: v, Err: errors.New("must be a positive number of bytes")}
		}
		env.MaxNotebookBytes = n
	}
	if err := env.check(""); err != nil {
		// Name the variable that set it.
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Source = envOf[ce.Setting]
		}
		return cfg, err
	}
	cfg.merge(env)
	if err := overrides.check(""); err != nil {
		return cfg, err
	}
	cfg.merge(overrides)
	if cfg.Backend == "" {
		cfg.Backend = BackendLocal
	}
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	if cfg.MaxNotebookBytes == 0 {
		cfg.MaxNotebookBytes = notebook.DefaultMaxBytes
	}
	var err error
	if cfg.Store, err = storeConfig(getenv, "marshal", cfg.Marshal); err != nil {
		return cfg, err
	}
	if cfg.ArtifactStoreConfig, err = storeConfig(getenv, "artifact_store", cfg.ArtifactStore); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// storeConfig is the store a target names (nil for none), reached with the
// endpoint and keys of the environment.
func storeConfig(getenv func(string) string, setting, target string) (*s3store.Config, error) {
	if target == "" {
		return nil, nil
	}
	st, err := s3store.ParseTarget(target)
	if err == nil {
		st, err = st.FromEnv(getenv)
	}
	if err != nil {
		return nil, &ConfigError{Setting: setting, Value: target, Err: err}
	}
	return &st, nil
}

// ParseArtifactRepositoryRef reads CONFIGMAP[:KEY], the artifact
// repository an artifacts-mode workflow names.
func ParseArtifactRepositoryRef(v string) (*wfv1.ArtifactRepositoryRef, error) {
	cm, key, _ := strings.Cut(v, ":")
	if cm == "" {
		return nil, errors.New("want CONFIGMAP[:KEY]")
	}
	if errs := validation.IsDNS1123Subdomain(cm); len(errs) > 0 {
		return nil, fmt.Errorf("config map %q: %s", cm, strings.Join(errs, "; "))
	}
	if key != "" {
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			return nil, fmt.Errorf("key %q: %s", key, strings.Join(errs, "; "))
		}
	}
	return &wfv1.ArtifactRepositoryRef{ConfigMap: cm, Key: key}, nil
}

// check validates what a source set.
func (c Config) check(source string) error {
	if c.Backend != "" && c.Backend != BackendLocal && c.Backend != BackendArgo {
		return &ConfigError{Source: source, Setting: "backend", Value: c.Backend, Err: fmt.Errorf("%w (local or argo)", ErrUnknownBackend)}
	}
	if c.MaxNotebookBytes < 0 {
		return &ConfigError{Source: source, Setting: "max_notebook_bytes", Value: strconv.FormatInt(c.MaxNotebookBytes, 10), Err: errors.New("must be a positive number of bytes")}
	}
	for _, t := range []struct{ setting, value string }{{"marshal", c.Marshal}, {"artifact_store", c.ArtifactStore}} {
		if t.value == "" {
			continue
		}
		if _, err := s3store.ParseTarget(t.value); err != nil {
			return &ConfigError{Source: source, Setting: t.setting, Value: t.value, Err: err}
		}
	}
	if c.ArtifactRepositoryRef != "" {
		if _, err := ParseArtifactRepositoryRef(c.ArtifactRepositoryRef); err != nil {
			return &ConfigError{Source: source, Setting: "artifact_repository_ref", Value: c.ArtifactRepositoryRef, Err: err}
		}
	}
	// Tolerations are checked when the argo backend is opened: a bad one
	// must not stop local runs.
	return nil
}

// merge sets the fields o sets.
func (c *Config) merge(o Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Backend, o.Backend)
	set(&c.Python, o.Python)
	set(&c.RunsDir, o.RunsDir)
	set(&c.Kubeconfig, o.Kubeconfig)
	set(&c.Context, o.Context)
	set(&c.Namespace, o.Namespace)
	set(&c.Marshal, o.Marshal)
	set(&c.ArtifactStore, o.ArtifactStore)
	set(&c.ArtifactRepositoryRef, o.ArtifactRepositoryRef)
	if o.ArtifactRepository {
		c.ArtifactRepository = true
	}
	if len(o.GPUTolerations) > 0 {
		c.GPUTolerations = o.GPUTolerations
	}
	if o.MaxNotebookBytes > 0 {
		c.MaxNotebookBytes = o.MaxNotebookBytes
	}
}
