package argo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/kubestack"
	"github.com/datainsight/datainsight/internal/miniotest"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Runs in marshal mode "artifacts" go through the real controller with a
// real MinIO as the workflow's artifact repository. kwok runs no
// containers, so an executorStandIn does what Argo's executor would in
// each pod: it checks that the step's input artifacts are in the bucket
// (the init container downloads them), uploads what the step would have
// left at the keys its output artifacts name, and reports those outputs
// in a WorkflowTaskResult, from which the controller wires the consumers'
// input artifacts.

const (
	artifactsBucket    = "pipelines"
	artifactsPrefix    = "team/runs"
	artifactsConfigMap = "artifact-repositories"
	artifactsRepoKey   = "minio"
	artifactsSecret    = "minio-credentials"
)

// artifactsNotebook has a value whose name Argo cannot carry (λ), a step
// two others load from, and a step that saves nothing.
const artifactsNotebook = `# metadata: {"datainsight": {"marshal": {"mode": "artifacts"}}}
# %% tags=["block:load"]
data = [1, 2, 3]
λ = 0.5
# %% tags=["block:left"]
left = sum(data) * λ
# %% tags=["block:right"]
right = max(data)
# %% tags=["block:join"]
print(left + right)
`

// artifactsEnv is a namespace whose artifact repository (a ConfigMap the
// workflows name, and a Secret with the keys) is a bucket in a MinIO on
// loopback, and a backend for it.
type artifactsEnv struct {
	stack *kubestack.Stack
	srv   *miniotest.Server
	mc    *minio.Client
	ns    string
	a     *Argo
	exec  *executorStandIn
}

// diamondArtifacts is a notebook in marshal mode artifacts whose steps
// form a diamond (load; left and right from it; join of both), with a
// parameter only right reads.
const diamondArtifacts = `# metadata: {"datainsight": {"marshal": {"mode": "artifacts"}}}
# %% tags=["pipeline-parameters"]
scale = 2
# %% tags=["block:load"]
data = [1, 2, 3]
# %% tags=["block:left"]
left = sum(data)
# %% tags=["block:right"]
right = max(data) * scale
# %% tags=["block:join"]
print(left + right)
`

func newArtifactsEnv(t *testing.T) *artifactsEnv {
	t.Helper()
	stack := kubestack.Shared(t)
	srv := miniotest.Start(t)
	ctx := context.Background()
	mc, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, artifactsBucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	ns := stack.Namespace(t)
	kube := stack.Kube()
	if _, err := kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: artifactsSecret},
		StringData: map[string]string{"accesskey": srv.AccessKey, "secretkey": srv.SecretKey},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	insecure := true
	repo, err := yaml.Marshal(wfv1.ArtifactRepository{S3: &wfv1.S3ArtifactRepository{S3Bucket: wfv1.S3Bucket{
		Endpoint: srv.Endpoint, Bucket: artifactsBucket, Insecure: &insecure,
		AccessKeySecret: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: artifactsSecret}, Key: "accesskey"},
		SecretKeySecret: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: artifactsSecret}, Key: "secretkey"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: artifactsConfigMap},
		Data:       map[string]string{artifactsRepoKey: string(repo)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &artifactsEnv{stack: stack, srv: srv, mc: mc, ns: ns}
	e.exec = &executorStandIn{mc: mc, endpoint: srv.Endpoint, bucket: artifactsBucket, inputs: map[string][]string{}}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = stack.CompleteTaskResults(rctx, ns, e.exec.outputs)
	}()
	t.Cleanup(func() { cancel(); <-done })
	e.a, err = New(stack.RESTConfig(), ns, Options{
		ArtifactKeyPrefix:     artifactsPrefix,
		ArtifactRepositoryRef: &wfv1.ArtifactRepositoryRef{ConfigMap: artifactsConfigMap, Key: artifactsRepoKey},
		// No keys: they come from the environment. The prefix is the
		// run's own, whatever this one says.
		Store: &s3store.Config{Endpoint: srv.Endpoint, PlainHTTP: true, Bucket: artifactsBucket, Prefix: "not/the/runs/prefix"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.a.Close)
	return e
}

// storeConfig is the store the runs' files are in, as a reader outside
// the cluster reaches it.
func (e *artifactsEnv) storeConfig() s3store.Config {
	return s3store.Config{Endpoint: e.srv.Endpoint, PlainHTTP: true, Bucket: artifactsBucket, Prefix: artifactsPrefix,
		AccessKey: e.srv.AccessKey, SecretKey: e.srv.SecretKey}
}

// executorStandIn plays the part of Argo's executor (see above).
type executorStandIn struct {
	mc       *minio.Client
	endpoint string
	bucket   string

	mu     sync.Mutex
	errs   []string
	inputs map[string][]string // step -> "artifact=key" of each input it was given
}

func (x *executorStandIn) fail(format string, args ...any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.errs = append(x.errs, fmt.Sprintf(format, args...))
}

func (x *executorStandIn) failures() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.errs...)
}

func (x *executorStandIn) inputsOf(step string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.inputs[step]...)
}

// stepFileContent is what the stand-in leaves of a step's file.
func stepFileContent(run, step, file string) []byte {
	switch file {
	case pipelinegen.StepReport:
		return fmt.Appendf(nil, `{"cells": [], "metadata": {"datainsight": {"run": %q, "step": %q}}, "nbformat": 4, "nbformat_minor": 5}`, run, step)
	case pipelinegen.StepReportHTML:
		return fmt.Appendf(nil, "<!DOCTYPE html><p>report of %s in %s</p>", step, run)
	case pipelinegen.StepLog:
		return fmt.Appendf(nil, "%s: first line\n%s: last line, no newline", step, step)
	}
	return fmt.Appendf(nil, "pickled %s of %s in %s", strings.TrimSuffix(file, s3store.ArtifactSuffix), step, run)
}

func (x *executorStandIn) outputs(pod *corev1.Pod, tmpl *wfv1.Template) *wfv1.Outputs {
	out := &wfv1.Outputs{ExitCode: ptr("0")}
	step := pipelinegen.StepName(pod.Labels, pod.Annotations)
	run := pod.Labels[labelWorkflow]
	if tmpl == nil || step == "" {
		x.fail("pod %s: no step template", pod.Name)
		return out
	}
	// Key-only artifacts take the rest of their location from the
	// template's archive location, which the controller fills from the
	// repository the workflow names.
	loc := tmpl.ArchiveLocation
	if len(tmpl.Inputs.Artifacts) == 0 && len(tmpl.Outputs.Artifacts) == 0 {
		// A reused step's pod: nothing to download or upload.
		x.mu.Lock()
		x.inputs[step] = nil
		x.mu.Unlock()
		return out
	}
	if loc == nil || loc.S3 == nil || loc.S3.Endpoint != x.endpoint || loc.S3.Bucket != x.bucket || loc.S3.Insecure == nil || !*loc.S3.Insecure {
		x.fail("step %s: archive location %+v, want the MinIO bucket %s at %s", step, loc, x.bucket, x.endpoint)
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var given []string
	for _, in := range tmpl.Inputs.Artifacts {
		if in.S3 == nil || in.S3.Key == "" {
			x.fail("step %s: input artifact %s has no S3 key: %+v", step, in.Name, in.ArtifactLocation)
			continue
		}
		if _, err := x.mc.StatObject(ctx, x.bucket, in.S3.Key, minio.StatObjectOptions{}); err != nil {
			x.fail("step %s: input artifact %s: s3://%s/%s: %v", step, in.Name, x.bucket, in.S3.Key, err)
		}
		given = append(given, in.Name+"="+in.S3.Key)
	}
	x.mu.Lock()
	x.inputs[step] = given
	x.mu.Unlock()

	// The runtime writes the values, then the manifest; the executor
	// uploads what is there and reports it. metrics.json is left out:
	// an optional artifact the step did not write is not reported.
	type value struct {
		File     string `json:"file"`
		Size     int    `json:"size"`
		Checksum string `json:"checksum"`
		Format   string `json:"format"`
		Type     string `json:"type"`
	}
	manifest := map[string]map[string]value{"values": {}}
	content := map[string][]byte{}
	for _, art := range tmpl.Outputs.Artifacts {
		file := path.Base(art.Path)
		if name, ok := strings.CutSuffix(file, s3store.ArtifactSuffix); ok {
			b := stepFileContent(run, step, file)
			sum := sha256.Sum256(b)
			manifest["values"][name] = value{File: name + ".pkl", Size: len(b), Checksum: "sha256:" + hex.EncodeToString(sum[:]), Format: "pickle", Type: "list"}
			content[art.Name] = b
		}
	}
	for _, art := range tmpl.Outputs.Artifacts {
		file := path.Base(art.Path)
		switch {
		case file == s3store.ManifestFile:
			content[art.Name], _ = json.Marshal(manifest)
		case file == pipelinegen.StepMetrics:
		case content[art.Name] == nil:
			content[art.Name] = stepFileContent(run, step, file)
		}
	}
	for _, art := range tmpl.Outputs.Artifacts {
		b, ok := content[art.Name]
		if !ok {
			continue
		}
		if art.S3 == nil || art.S3.Key == "" || art.S3.Bucket != "" {
			x.fail("step %s: output artifact %s is not key-only S3: %+v", step, art.Name, art.ArtifactLocation)
			continue
		}
		if _, err := x.mc.PutObject(ctx, x.bucket, art.S3.Key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			x.fail("step %s: upload %s to s3://%s/%s: %v", step, art.Name, x.bucket, art.S3.Key, err)
			continue
		}
		out.Artifacts = append(out.Artifacts, art)
	}
	return out
}

func ptr(s string) *string { return &s }

// runArtifacts submits the artifacts notebook and waits for its end,
// seen through the backend's Watch and Get.
func (e *artifactsEnv) runArtifacts(t *testing.T) (*pipelinegen.Pipeline, *cluster.Run) {
	t.Helper()
	p := compile(t, artifactsNotebook)
	if !pipelinegen.ArtifactsMode(p) {
		t.Fatal("the notebook is not in marshal mode artifacts")
	}
	return p, e.run(t, p, cluster.SubmitOptions{})
}

func (e *artifactsEnv) run(t *testing.T, p *pipelinegen.Pipeline, opts cluster.SubmitOptions) *cluster.Run {
	t.Helper()
	r, err := e.a.Submit(context.Background(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	r = waitRun(t, e.a, r.ID, func(r *cluster.Run) bool { return r.Phase.Done() })
	for _, f := range e.exec.failures() {
		t.Error(f)
	}
	for _, s := range r.Steps {
		if s.Phase != cluster.Succeeded {
			t.Errorf("run %s: step %s: %s %q", r.ID, s.Name, s.Phase, s.Message)
		}
	}
	if r.Phase != cluster.Succeeded {
		t.Fatalf("run %s: %s %q", r.ID, r.Phase, r.Message)
	}
	return r
}

// An artifacts-mode run succeeds on the controller with MinIO as its
// repository: no claim is made, each consumer is given exactly the keys
// its producers' values and manifests were uploaded at, and the run's
// values are read back from the bucket by the store code.
func TestArtifactsModeRunsThroughTheController(t *testing.T) {
	e := newArtifactsEnv(t)
	ctx := context.Background()
	p, r := e.runArtifacts(t)

	wf, err := e.a.workflows().Get(ctx, r.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := wf.Status.ArtifactRepositoryRef; ref == nil || ref.ConfigMap != artifactsConfigMap || ref.Key != artifactsRepoKey || ref.Namespace != e.ns {
		t.Errorf("resolved artifact repository %+v, want %s/%s key %s", ref, e.ns, artifactsConfigMap, artifactsRepoKey)
	}
	pvcs, err := e.stack.Kube().CoreV1().PersistentVolumeClaims(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pvcs.Items) != 0 {
		t.Errorf("%d claims made for an artifacts-mode run", len(pvcs.Items))
	}

	key := func(step, file string) string { return path.Join(artifactsPrefix, r.ID, step, file) }
	for _, st := range p.Steps {
		var want []string
		for name, producer := range st.Ins {
			want = append(want, key(producer, name+s3store.ArtifactSuffix))
			if !slicesContains(want, key(producer, s3store.ManifestFile)) {
				want = append(want, key(producer, s3store.ManifestFile))
			}
		}
		var got []string
		for _, in := range e.exec.inputsOf(st.Name) {
			_, k, _ := strings.Cut(in, "=")
			got = append(got, k)
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("step %s was given the input artifacts %v, want its producers' %v", st.Name, got, want)
		}
	}
	if n := len(e.exec.inputsOf("left")); n != 3 {
		t.Errorf("left was given %d artifacts, want load's manifest, data and λ", n)
	}

	// What the controller recorded of a producer's outputs names the same
	// keys: the optional file the step did not write is not there.
	load := nodeFor(wf, "load")
	if load == nil || load.Outputs == nil {
		t.Fatalf("no outputs recorded for load: %+v", load)
	}
	recorded := map[string]string{}
	for _, art := range load.Outputs.Artifacts {
		if art.S3 != nil {
			recorded[path.Base(art.S3.Key)] = art.S3.Key
		}
	}
	for _, f := range []string{"data.artifact", "λ.artifact", s3store.ManifestFile, pipelinegen.StepReport, pipelinegen.StepLog} {
		if recorded[f] != key("load", f) {
			t.Errorf("load's recorded output %s at %q, want %q", f, recorded[f], key("load", f))
		}
	}
	if _, ok := recorded[pipelinegen.StepMetrics]; ok {
		t.Error("an optional output the step did not write is recorded")
	}

	// The store code reads the cluster run's values by their manifest.
	store, err := s3store.Open(ctx, e.storeConfig())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := store.GetStep(ctx, r.ID, "load", dir, []string{"data", "λ"}, s3store.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"data", "λ"} {
		b, err := os.ReadFile(filepath.Join(dir, m.Values[n].File))
		if want := stepFileContent(r.ID, "load", n+s3store.ArtifactSuffix); err != nil || !bytes.Equal(b, want) {
			t.Errorf("value %s read back: %q (%v), want %q", n, b, err, want)
		}
	}
	steps, err := store.Steps(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(steps, " "); got != "left load right" {
		t.Errorf("steps with a manifest in the store: %q, want the three that save values", got)
	}
}

// Once an artifacts-mode run's pods are gone, its logs and reports are
// read from the bucket by the backend itself (keys from the environment),
// with no pod started to read them; what is not there, wrong keys and a
// backend with no store configured are errors that say so.
func TestArtifactsModeLogsAndReportsFromTheStore(t *testing.T) {
	e := newArtifactsEnv(t)
	ctx := context.Background()
	_, r := e.runArtifacts(t)
	t.Setenv(s3store.EnvAccessKey, e.srv.AccessKey)
	t.Setenv(s3store.EnvSecretKey, e.srv.SecretKey)

	kube := e.stack.Kube()
	zero := int64(0)
	all := metav1.ListOptions{}
	if err := kube.CoreV1().Pods(e.ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + r.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the step pods to go", func() bool {
		pods, err := kube.CoreV1().Pods(e.ns).List(ctx, all)
		return err == nil && len(pods.Items) == 0
	})

	var one bytes.Buffer
	if err := e.a.Logs(ctx, r.ID, cluster.LogOptions{Step: "load"}, &one); err != nil {
		t.Fatal(err)
	}
	if want := string(stepFileContent(r.ID, "load", pipelinegen.StepLog)) + "\n"; one.String() != want {
		t.Errorf("Logs(load) = %q, want the kept log %q", one.String(), want)
	}
	var every bytes.Buffer
	if err := e.a.Logs(ctx, r.ID, cluster.LogOptions{}, &every); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"load", "left", "right", "join"} {
		for _, line := range strings.Split(string(stepFileContent(r.ID, step, pipelinegen.StepLog)), "\n") {
			if !strings.Contains(every.String(), step+" | "+line+"\n") {
				t.Errorf("Logs(all) lacks %q:\n%s", step+" | "+line, every.String())
			}
		}
	}
	for _, c := range []struct {
		html bool
		file string
	}{{false, pipelinegen.StepReport}, {true, pipelinegen.StepReportHTML}} {
		var got bytes.Buffer
		if err := e.a.Report(ctx, r.ID, cluster.ReportOptions{Step: "left", HTML: c.html}, &got); err != nil {
			t.Fatal(err)
		}
		if want := stepFileContent(r.ID, "left", c.file); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("Report(left, html=%v) = %q, want %q", c.html, got.String(), want)
		}
	}
	// Nothing was started in the cluster to read them.
	if pods, err := kube.CoreV1().Pods(e.ns).List(ctx, all); err != nil || len(pods.Items) != 0 {
		t.Errorf("pods in the namespace after reading from the store: %v (%v)", pods, err)
	}

	// A step whose report and log are not in the store.
	for _, f := range []string{pipelinegen.StepReport, pipelinegen.StepLog} {
		if err := e.mc.RemoveObject(ctx, artifactsBucket, path.Join(artifactsPrefix, r.ID, "join", f), minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.a.Report(ctx, r.ID, cluster.ReportOptions{Step: "join"}, io.Discard); !errors.Is(err, cluster.ErrNoReport) {
		t.Errorf("Report(join) with no report kept = %v, want ErrNoReport", err)
	}
	where := "s3://" + artifactsBucket + "/" + artifactsPrefix
	if err := e.a.Logs(ctx, r.ID, cluster.LogOptions{Step: "join"}, io.Discard); err == nil || !strings.Contains(err.Error(), "kept no log in "+where) {
		t.Errorf("Logs(join) with no log kept = %v, want it to say it kept none in %s", err, where)
	}

	// Wrong keys in the environment.
	t.Setenv(s3store.EnvSecretKey, "not-the-key")
	err := e.a.Report(ctx, r.ID, cluster.ReportOptions{Step: "left"}, io.Discard)
	if !errors.Is(err, s3store.ErrAccessDenied) || !strings.Contains(err.Error(), r.ID) || !strings.Contains(err.Error(), artifactsBucket) {
		t.Errorf("Report with wrong keys = %v, want access denied naming the run and the bucket", err)
	}

	// A backend that was not told where the store is.
	bare, err := New(e.stack.RESTConfig(), e.ns, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	err = bare.Report(ctx, r.ID, cluster.ReportOptions{Step: "left"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no store configured") || !strings.Contains(err.Error(), r.ID) {
		t.Errorf("Report with no store configured = %v", err)
	}
}

// The cache needs no shared volume in artifacts mode: an unchanged step is
// not run again, its consumers are given the objects of the run that
// computed it (through a chain of reuses too), its log and report are read
// from there, and a step whose objects are gone from the store is run
// again with the steps after it.
func TestArtifactsModeCacheInTheStore(t *testing.T) {
	e := newArtifactsEnv(t)
	ctx := context.Background()
	t.Setenv(s3store.EnvAccessKey, e.srv.AccessKey)
	t.Setenv(s3store.EnvSecretKey, e.srv.SecretKey)
	p := compile(t, diamondArtifacts)
	key := func(run, step, file string) string { return path.Join(artifactsPrefix, run, step, file) }
	cached := func(r *cluster.Run) string {
		var names []string
		for _, s := range r.Steps {
			if s.Cached {
				names = append(names, s.Name)
			}
		}
		sort.Strings(names)
		return strings.Join(names, " ")
	}
	given := func(step string) string {
		var keys []string
		for _, in := range e.exec.inputsOf(step) {
			_, k, _ := strings.Cut(in, "=")
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return strings.Join(keys, " ")
	}

	r1 := e.run(t, p, cluster.SubmitOptions{})
	if got := cached(r1); got != "" {
		t.Errorf("first run: cached %q", got)
	}

	// right reads the changed parameter: it and join run again.
	r2 := e.run(t, p, cluster.SubmitOptions{Parameters: map[string]string{"scale": "3"}})
	if got := cached(r2); got != "left load" {
		t.Errorf("second run: cached %q, want left and load", got)
	}
	if got, want := given("right"), key(r1.ID, "load", "data.artifact")+" "+key(r1.ID, "load", "manifest.json"); got != want {
		t.Errorf("second run: right was given %s, want the first run's %s", got, want)
	}
	wantJoin := []string{key(r1.ID, "left", "left.artifact"), key(r1.ID, "left", "manifest.json"),
		key(r2.ID, "right", "manifest.json"), key(r2.ID, "right", "right.artifact")}
	sort.Strings(wantJoin)
	if got, want := given("join"), strings.Join(wantJoin, " "); got != want {
		t.Errorf("second run: join was given %s, want %s", got, want)
	}

	// Nothing changed: every step is reused, each from the run that
	// computed it.
	r3 := e.run(t, p, cluster.SubmitOptions{Parameters: map[string]string{"scale": "3"}})
	if got := cached(r3); got != "join left load right" {
		t.Errorf("third run: cached %q, want every step", got)
	}
	zero := int64(0)
	if err := e.stack.Kube().CoreV1().Pods(e.ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + r3.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the third run's pods to go", func() bool {
		pods, err := e.stack.Kube().CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + r3.ID})
		return err == nil && len(pods.Items) == 0
	})
	var log bytes.Buffer
	if err := e.a.Logs(ctx, r3.ID, cluster.LogOptions{Step: "load"}, &log); err != nil {
		t.Fatal(err)
	}
	if want := "# cached: output of run " + r1.ID + "\n" + string(stepFileContent(r1.ID, "load", pipelinegen.StepLog)) + "\n"; log.String() != want {
		t.Errorf("third run: Logs(load) = %q, want %q", log.String(), want)
	}
	var report bytes.Buffer
	if err := e.a.Report(ctx, r3.ID, cluster.ReportOptions{Step: "right"}, &report); err != nil {
		t.Fatal(err)
	}
	if want := stepFileContent(r2.ID, "right", pipelinegen.StepReport); !bytes.Equal(report.Bytes(), want) {
		t.Errorf("third run: Report(right) = %q, want the second run's %q", report.String(), want)
	}

	// right's outputs leave the store: it runs again, and join after it.
	if err := e.mc.RemoveObject(ctx, artifactsBucket, key(r2.ID, "right", "manifest.json"), minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	r4 := e.run(t, p, cluster.SubmitOptions{Parameters: map[string]string{"scale": "3"}})
	if got := cached(r4); got != "left load" {
		t.Errorf("fourth run: cached %q, want left and load", got)
	}
	if got, want := given("right"), key(r1.ID, "load", "data.artifact")+" "+key(r1.ID, "load", "manifest.json"); got != want {
		t.Errorf("fourth run: right was given %s, want the first run's %s", got, want)
	}
}
