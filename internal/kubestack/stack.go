package kubestack

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/datainsight/datainsight/internal/testenv"
)

// Versions of the parts, as pinned by hack/stack/versions.sh (change both).
const (
	EtcdVersion = "v3.5.21"
	KubeVersion = "v1.33.5"
	ArgoVersion = "v3.7.3"
	KwokVersion = "v0.7.0"
)

const (
	// EnvBin names the directory holding the built binaries; unset, it is
	// the cache directory hack/stack/build.sh builds into (see BinDir).
	EnvBin = "DATAINSIGHT_STACK_BIN"
	// BuildScript builds the binaries; tests never run it themselves.
	BuildScript = "hack/stack/build.sh"

	// NodeName is the one (kwok) node; the controller pins every pod to it.
	NodeName = "kwok-node-0"
	// ArgoNamespace is where the workflow-controller and its configmap live.
	ArgoNamespace = "argo"
	// ControllerConfigMap is the workflow-controller's configmap.
	ControllerConfigMap = "workflow-controller-configmap"

	// LabelHold on a pod (a step template's metadata) keeps it Running.
	LabelHold = "datainsight.io/test-hold"
	// LabelFail on a pod makes its "main" container exit 1.
	LabelFail = "datainsight.io/test-fail"
	// AnnotationFailMessage sets the failed container's termination message.
	AnnotationFailMessage = "datainsight.io/test-fail-message"
	// LabelUnschedulable on a pod leaves it Pending with PodScheduled=False,
	// reason Unschedulable.
	LabelUnschedulable = "datainsight.io/test-unschedulable"
	// AnnotationUnschedulableMessage sets that condition's message; the
	// default is DefaultUnschedulableMessage.
	AnnotationUnschedulableMessage = "datainsight.io/test-unschedulable-message"
	// DefaultUnschedulableMessage is what kube-scheduler says when no node has
	// a free GPU (hack/stack/kwok/pod-unschedulable.yaml).
	DefaultUnschedulableMessage = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
	// DefaultFailMessage is the failed container's message without
	// AnnotationFailMessage (hack/stack/kwok/pod-fail.yaml).
	DefaultFailMessage = "step failed (kwok test-fail stage)"
	// ReaderContainer names the containers whose execs run on this
	// machine, in VolumeDir.
	ReaderContainer = "reader"
)

// ErrNotBuilt is returned by New when the stack's binaries or modules are
// missing; Start skips the test then.
var ErrNotBuilt = errors.New("test stack not built")

var binaries = []string{"etcd", "kube-apiserver", "workflow-controller", "kwok"}

// StackName is the cache directory's name for these versions.
func StackName() string {
	return "stack-etcd" + EtcdVersion + "-kube" + KubeVersion + "-argo" + ArgoVersion + "-kwok" + KwokVersion
}

// BinDir is where the binaries are: $DATAINSIGHT_STACK_BIN, else
// ${DATAINSIGHT_CACHE:-$HOME/.cache/datainsight}/<StackName>/bin, the
// directory hack/stack/build.sh builds into.
func BinDir() string {
	if d := os.Getenv(EnvBin); d != "" {
		return d
	}
	cache := os.Getenv("DATAINSIGHT_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		cache = filepath.Join(home, ".cache", "datainsight")
	}
	return filepath.Join(cache, StackName(), "bin")
}

// Options configures New; the zero value is what tests want.
type Options struct {
	// BinDir holds the binaries (default BinDir()).
	BinDir string
	// ModCache is the Go module cache with Argo's and kwok's modules, whose
	// CRDs, RBAC manifests and stages are read at run time (default
	// `go env GOMODCACHE`).
	ModCache string
	// StagesDir holds our kwok stages (default: hack/stack/kwok of the
	// module the working directory is in).
	StagesDir string
	// MinimalCRDs applies Argo's minimal CRDs instead of the full ones: a
	// faster start, without schema validation of workflows.
	MinimalCRDs bool
	// PodLog is served as every container's log (default DefaultPodLog).
	PodLog []string
	// Logf receives progress lines (default: none).
	Logf func(format string, args ...any)
}

// DefaultPodLog is what every container's log holds unless Options.PodLog
// says otherwise.
var DefaultPodLog = []string{
	"kubestack: log line 1",
	"kubestack: log line 2",
	"kubestack: log line 3",
}

// Stack is a running control plane. Its methods are safe for concurrent use.
type Stack struct {
	// Dir is the temporary directory holding data, logs and configuration.
	Dir string
	// Host is the API server's URL.
	Host string
	// Token is the admin's bearer token (user "admin", group system:masters).
	Token string
	// Kubeconfig is the path of a kubeconfig file for the admin.
	Kubeconfig string
	// CAData is the PEM CA bundle that signed the API server's certificate.
	CAData []byte
	// PodLogFile is the CRI-format file kwok serves as every container's
	// log; AppendPodLog adds lines to it.
	PodLogFile string
	// VolumeDir stands in for every volume a reader container mounts: an
	// exec in a container named ReaderContainer runs on this machine, in
	// this folder.
	VolumeDir string
	// StartupTime is how long New took.
	StartupTime time.Duration

	opts     Options
	apiPort  int
	apiArgs  []string
	restCfg  *rest.Config
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	crdNames []string
	mu       sync.Mutex // guards procs, closers and podLog
	procs    []*process
	closers  []func()
	podLog   []string
	stopOnce sync.Once
	stopped  atomic.Bool
}

// Start starts a stack for t and stops it when t ends. It skips t under
// -short, and when the binaries are missing (naming BuildScript).
func Start(t testing.TB) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("kubestack: a real Kubernetes + Argo stack is skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := New(ctx, Options{Logf: t.Logf})
	if errors.Is(err, ErrNotBuilt) {
		testenv.Missing(t, "kubestack: %v", err)
	}
	if err != nil {
		t.Fatalf("kubestack: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpLogs(t.Logf)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("kubestack: stop: %v", err)
		}
	})
	return s
}

// New starts a stack; Stop stops it. Use it from TestMain to share one stack
// among a package's tests (it starts in about 20 s with the full CRDs).
func New(ctx context.Context, opts Options) (_ *Stack, err error) {
	started := time.Now()
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	sweepStaleDirs()
	dir, err := os.MkdirTemp("", "kubestack-")
	if err != nil {
		return nil, err
	}
	s := &Stack{Dir: dir, opts: opts, podLog: append([]string(nil), opts.PodLog...)}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w%s", err, s.LogTails())
			_ = s.Stop()
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}

	p, err := newPKI()
	if err != nil {
		return nil, err
	}
	s.CAData = p.caPEM
	s.Token = randomToken()
	controllerToken := randomToken()
	files := map[string][]byte{
		"ca.crt":     p.caPEM,
		"server.crt": p.certPEM,
		"server.key": p.keyPEM,
		"sa.key":     p.saKeyPEM,
		"sa.pub":     p.saPubPEM,
		// token,user,uid,"groups"
		"tokens.csv": fmt.Appendf(nil, "%s,admin,admin,\"system:masters\"\n%s,system:serviceaccount:%s:argo,argo,\"system:serviceaccounts,system:serviceaccounts:%[3]s\"\n",
			s.Token, controllerToken, ArgoNamespace),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	s.VolumeDir = filepath.Join(dir, "volume")
	if err := os.Mkdir(s.VolumeDir, 0o755); err != nil {
		return nil, err
	}
	s.PodLogFile = filepath.Join(dir, "pod.log")
	if err := os.WriteFile(s.PodLogFile, criLines(s.podLog), 0o644); err != nil {
		return nil, err
	}

	// etcd
	etcdPort, peerPort := freePort(), freePort()
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	etcd, err := s.start("etcd", nil,
		"--name=kubestack",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubestack="+peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	if err := s.waitHTTP(ctx, etcd, etcdURL+"/health", nil, ""); err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	s.logf("kubestack: etcd ready after %v", since(started))

	// kube-apiserver
	s.apiPort = freePort()
	s.Host = "https://127.0.0.1:" + strconv.Itoa(s.apiPort)
	s.apiArgs = []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(s.apiPort),
		"--cert-dir=" + filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file=" + filepath.Join(dir, "server.crt"),
		"--tls-private-key-file=" + filepath.Join(dir, "server.key"),
		"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		"--endpoint-reconciler-type=none",
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		// Pod logs go to kwok's kubelet server (the node's InternalIP and
		// daemon port); without --kubelet-certificate-authority the API server
		// does not verify its certificate.
		"--kubelet-preferred-address-types=InternalIP",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}
	api, err := s.start("kube-apiserver", nil, s.apiArgs...)
	if err != nil {
		return nil, err
	}
	if err := s.waitAPIServer(ctx, api); err != nil {
		return nil, err
	}
	s.logf("kubestack: kube-apiserver ready after %v", since(started))

	s.restCfg = &rest.Config{
		Host:            s.Host,
		BearerToken:     s.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.CAData},
		QPS:             200,
		Burst:           400,
		Timeout:         time.Minute,
	}
	if s.kube, err = kubernetes.NewForConfig(s.restCfg); err != nil {
		return nil, err
	}
	if s.dyn, err = dynamic.NewForConfig(s.restCfg); err != nil {
		return nil, err
	}
	s.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := s.writeKubeconfig(s.Kubeconfig, "admin", s.Token, "default"); err != nil {
		return nil, err
	}
	controllerKubeconfig := filepath.Join(dir, "argo.kubeconfig")
	if err := s.writeKubeconfig(controllerKubeconfig, "argo", controllerToken, ArgoNamespace); err != nil {
		return nil, err
	}

	if err := s.applyArgo(ctx); err != nil {
		return nil, err
	}
	if err := s.createNode(ctx); err != nil {
		return nil, err
	}
	s.logf("kubestack: CRDs, RBAC, configmap and node created after %v", since(started))

	// kwok: stages from hack/stack/kwok plus kwok's own pod-delete stage,
	// and the pod log.
	kwokConfig, err := s.kwokConfig()
	if err != nil {
		return nil, err
	}
	// The node advertises the kubelet proxy's port; the proxy forwards to
	// kwok's server (see kubeletProxy).
	kwokPort := freePort()
	nodePort, err := s.startKubeletProxy("127.0.0.1:"+strconv.Itoa(kwokPort), filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		return nil, err
	}
	kwok, err := s.start("kwok", nil,
		"--kubeconfig="+s.Kubeconfig,
		"--config="+kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1",
		"--node-port="+strconv.Itoa(nodePort),
		"--server-address=127.0.0.1:"+strconv.Itoa(kwokPort),
		"--tls-cert-file="+filepath.Join(dir, "server.crt"),
		"--tls-private-key-file="+filepath.Join(dir, "server.key"),
		"--node-lease-duration-seconds=40",
	)
	if err != nil {
		return nil, err
	}

	if err := s.waitCRDs(ctx, api); err != nil {
		return nil, err
	}
	s.logf("kubestack: CRDs established after %v", since(started))

	controller, err := s.start("workflow-controller",
		[]string{"DEFAULT_REQUEUE_TIME=1s", "LEADER_ELECTION_DISABLE=true"},
		"--kubeconfig="+controllerKubeconfig,
		"--namespace="+ArgoNamespace,
		"--configmap="+ControllerConfigMap,
		"--executor-image=quay.io/argoproj/argoexec:"+ArgoVersion,
		"--loglevel=info",
	)
	if err != nil {
		return nil, err
	}

	if err := s.waitNodeReady(ctx, kwok); err != nil {
		return nil, err
	}
	if err := s.startBinder(); err != nil {
		return nil, err
	}
	s.logf("kubestack: kwok node ready after %v", since(started))
	if err := s.waitLog(ctx, controller, controllerReadyLine); err != nil {
		return nil, err
	}
	s.StartupTime = time.Since(started)
	s.logf("kubestack: workflow-controller ready; stack up in %v (%s)", s.StartupTime.Round(time.Millisecond), s.Dir)
	return s, nil
}

// ownerFile in a stack's directory holds the pid of the process that
// started it.
const ownerFile = "owner.pid"

// sweepStaleDirs removes the directories of stacks whose test process died
// without cleaning up (a go test timeout panics past t.Cleanup; the stack's
// processes die with it, killed by their parent-death signal, but their data,
// about 130 MB, would stay).
func sweepStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "kubestack-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// controllerReadyLine is what the workflow-controller (v3.7.3) logs first once
// its informers have synced (its workflow garbage collector starts then).
const controllerReadyLine = "Performing periodic GC"

func (o *Options) defaults() error {
	if o.BinDir == "" {
		o.BinDir = BinDir()
	}
	for _, b := range binaries {
		if fi, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%w: %s missing in %s: run %s first (or set %s)", ErrNotBuilt, b, o.BinDir, BuildScript, EnvBin)
		}
	}
	if o.ModCache == "" {
		o.ModCache = goModCache()
	}
	for _, m := range []string{argoModDir(o.ModCache), kwokModDir(o.ModCache)} {
		if _, err := os.Stat(m); err != nil {
			return fmt.Errorf("%w: module %s missing: run %s first", ErrNotBuilt, m, BuildScript)
		}
	}
	if o.StagesDir == "" {
		d, err := findStagesDir()
		if err != nil {
			return err
		}
		o.StagesDir = d
	}
	if o.PodLog == nil {
		o.PodLog = DefaultPodLog
	}
	return nil
}

func goModCache() string {
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return d
		}
	}
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	return filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
}

func argoModDir(modCache string) string {
	return filepath.Join(modCache, "github.com", "argoproj", "argo-workflows", "v3@"+ArgoVersion)
}

func kwokModDir(modCache string) string {
	return filepath.Join(modCache, "sigs.k8s.io", "kwok@"+KwokVersion)
}

// findStagesDir finds hack/stack/kwok in the working directory or above it
// (go test runs in the package's directory, inside the module).
func findStagesDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "hack", "stack", "kwok")
		if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kwok stages: no hack/stack/kwok in %s or above (set Options.StagesDir)", wd)
		}
	}
}

// RESTConfig returns a copy of the admin's client configuration.
func (s *Stack) RESTConfig() *rest.Config { return rest.CopyConfig(s.restCfg) }

// Kube returns an admin clientset.
func (s *Stack) Kube() kubernetes.Interface { return s.kube }

// Stop stops every process (the controller first, etcd last) and removes Dir.
// It is safe to call more than once.
func (s *Stack) Stop() error {
	var err error
	s.stopOnce.Do(func() {
		s.stopped.Store(true)
		s.mu.Lock()
		procs := append([]*process(nil), s.procs...)
		closers := s.closers
		s.mu.Unlock()
		for _, c := range closers {
			c()
		}
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
		err = os.RemoveAll(s.Dir)
	})
	return err
}

// RestartAPIServer stops kube-apiserver and starts it again on the same port
// with the same data, for watch-resume tests. Every client of the stack sees
// the outage: use a stack of the test's own (Start), not Shared.
func (s *Stack) RestartAPIServer(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.restartAPIServer(ctx); err != nil {
		t.Fatalf("kubestack: restart kube-apiserver: %v%s", err, s.LogTails())
	}
}

func (s *Stack) restartAPIServer(ctx context.Context) error {
	started := time.Now()
	if old := s.proc("kube-apiserver"); old != nil {
		old.stop()
	}
	api, err := s.start("kube-apiserver", nil, s.apiArgs...)
	if err != nil {
		return err
	}
	if err := s.waitAPIServer(ctx, api); err != nil {
		return err
	}
	s.logf("kubestack: kube-apiserver restarted in %v", since(started))
	return nil
}

// Namespace creates a fresh namespace for t (namespaces never finish
// deleting here, so every test gets its own) with a "default" service account
// that has the permissions Argo's executor needs, and returns its name.
func (s *Stack) Namespace(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, err := s.CreateNamespace(ctx, t.Name())
	if err != nil {
		t.Fatalf("kubestack: %v", err)
	}
	return name
}

// CreateNamespace is Namespace without a testing.TB: prefix (sanitized) plus
// a random suffix.
func (s *Stack) CreateNamespace(ctx context.Context, prefix string) (string, error) {
	ns, err := s.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(prefix)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("create namespace %q: %w", prefix, err)
	}
	if err := s.applyExecutorRBAC(ctx, ns.Name); err != nil {
		return "", err
	}
	return ns.Name, nil
}

// namespacePrefix turns a test name into a namespace name prefix.
func namespacePrefix(name string) string {
	var b strings.Builder
	dash := true
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	p := strings.Trim(b.String(), "-")
	if len(p) > 50 {
		p = strings.TrimRight(p[:50], "-")
	}
	if p == "" {
		p = "test"
	}
	return p + "-"
}

// ServiceAccountToken creates service account name in ns with a Role that
// allows everything in ns and nothing elsewhere, and returns a token for it
// (TokenRequest API, valid for an hour), for namespace-confinement tests.
func (s *Stack) ServiceAccountToken(t testing.TB, ns, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := s.CreateServiceAccountToken(ctx, ns, name)
	if err != nil {
		t.Fatalf("kubestack: %v", err)
	}
	return tok
}

// CreateServiceAccountToken is ServiceAccountToken without a testing.TB.
func (s *Stack) CreateServiceAccountToken(ctx context.Context, ns, name string) (string, error) {
	if err := s.applyNamespaceAdmin(ctx, ns, name); err != nil {
		return "", err
	}
	exp := int64(3600)
	tr, err := s.kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %s/%s: %w", ns, name, err)
	}
	return tr.Status.Token, nil
}

// WriteKubeconfig writes a kubeconfig file for this stack with the given
// bearer token and default namespace into Dir and returns its path.
func (s *Stack) WriteKubeconfig(t testing.TB, token, namespace string) string {
	t.Helper()
	f, err := os.CreateTemp(s.Dir, "kubeconfig-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := s.writeKubeconfig(f.Name(), "user", token, namespace); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func (s *Stack) writeKubeconfig(path, user, token, namespace string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubestack"] = &clientcmdapi.Cluster{Server: s.Host, CertificateAuthorityData: s.CAData}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["kubestack"] = &clientcmdapi.Context{Cluster: "kubestack", AuthInfo: user, Namespace: namespace}
	cfg.CurrentContext = "kubestack"
	return clientcmd.WriteToFile(*cfg, path)
}

// PodLog returns the lines every container's log holds.
func (s *Stack) PodLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.podLog...)
}

// AppendPodLog adds lines to every container's log; a client following a log
// sees them arrive.
func (s *Stack) AppendPodLog(lines ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.PodLogFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(criLines(lines)); err != nil {
		f.Close()
		return err
	}
	s.podLog = append(s.podLog, lines...)
	return f.Close()
}

// criLines formats lines the way container runtimes write logs, which is what
// kwok's log server reads.
func criLines(lines []string) []byte {
	var b bytes.Buffer
	ts := time.Now().UTC()
	for i, l := range lines {
		fmt.Fprintf(&b, "%s stdout F %s\n", ts.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), l)
	}
	return b.Bytes()
}

func (s *Stack) createNode(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": NodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		// Nodes may carry status on create (kubelets register that way).
		// No nvidia.com/gpu: a GPU step is unschedulable here.
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("32"),
				corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods:   resource.MustParse("1000"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("32"),
				corev1.ResourceMemory: resource.MustParse("256Gi"),
				corev1.ResourcePods:   resource.MustParse("1000"),
			},
		},
	}
	if _, err := s.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", NodeName, err)
	}
	return nil
}

// process is one child process of the stack, in its own process group.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

func (s *Stack) start(name string, env []string, args ...string) (*process, error) {
	bin := filepath.Join(s.opts.BinDir, name)
	logPath := filepath.Join(s.Dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(append([]string{bin}, args...), " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.Dir
	// A small, fixed environment: the controller reads ARGO_* variables
	// and kwok reads ~/.kwok, so nothing of the caller's leaks in.
	cmd.Env = append([]string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + s.Dir,
		"TMPDIR=" + s.Dir,
	}, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

func (s *Stack) proc(name string) *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.procs) - 1; i >= 0; i-- {
		if s.procs[i].name == name {
			return s.procs[i]
		}
	}
	return nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after a grace period.
func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

func (p *process) exitError() error {
	return fmt.Errorf("%s exited: %v", p.name, p.err)
}

// poll calls cond every interval until it returns true, an error, ctx ends or
// proc exits. It is for start-up only; tests wait on watches.
func poll(ctx context.Context, proc *process, what string, cond func(context.Context) (bool, error)) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if proc != nil && proc.exited() {
			return false, proc.exitError()
		}
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil && ctx.Err() != nil {
		if last != nil {
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, err, last)
		}
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return err
}

func (s *Stack) waitHTTP(ctx context.Context, proc *process, url string, client *http.Client, token string) error {
	if client == nil {
		client = http.DefaultClient
	}
	return poll(ctx, proc, url, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("%s: %s", url, resp.Status)
		}
		return true, nil
	})
}

func (s *Stack) waitAPIServer(ctx context.Context, proc *process) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAData)
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	if err := s.waitHTTP(ctx, proc, s.Host+"/readyz", client, s.Token); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	return nil
}

func (s *Stack) waitNodeReady(ctx context.Context, kwok *process) error {
	return poll(ctx, kwok, "node "+NodeName+" Ready", func(ctx context.Context) (bool, error) {
		n, err := s.kube.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

func (s *Stack) waitLog(ctx context.Context, proc *process, line string) error {
	return poll(ctx, proc, proc.name+" to log "+strconv.Quote(line), func(context.Context) (bool, error) {
		b, err := os.ReadFile(proc.logPath)
		return bytes.Contains(b, []byte(line)), err
	})
}

func (s *Stack) logf(format string, args ...any) {
	// After Stop, t.Logf may belong to a finished test (which panics).
	if s.opts.Logf != nil && !s.stopped.Load() {
		s.opts.Logf(format, args...)
	}
}

// LogTails returns the end of every process's log, for error messages.
func (s *Stack) LogTails() string {
	var b strings.Builder
	s.dumpLogs(func(format string, args ...any) { fmt.Fprintf(&b, "\n"+format, args...) })
	return b.String()
}

func (s *Stack) dumpLogs(logf func(string, ...any)) {
	s.mu.Lock()
	seen := map[string]bool{}
	var paths []string
	for _, p := range s.procs {
		if !seen[p.logPath] {
			seen[p.logPath] = true
			paths = append(paths, p.logPath)
		}
	}
	s.mu.Unlock()
	sort.Strings(paths)
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 25 {
			lines = lines[len(lines)-25:]
		}
		logf("--- last lines of %s:\n%s", path, strings.Join(lines, "\n"))
	}
}

// ProcessRSS returns the resident memory, in bytes, of each running process
// of the stack, by name.
func (s *Stack) ProcessRSS() map[string]int64 {
	s.mu.Lock()
	procs := append([]*process(nil), s.procs...)
	s.mu.Unlock()
	rss := map[string]int64{}
	for _, p := range procs {
		if p.exited() {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				rss[p.name] = kb * 1024
			}
		}
	}
	return rss
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0 // the process that binds it fails and says why
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
