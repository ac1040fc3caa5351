package argo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// readHere runs the reader pod's script with this machine's sh in dir, as
// the pod runs it in its volume, and splits its output.
func readHere(t *testing.T, dir string, files []string) (map[string]string, error) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", readerScript, "sh"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reader script: %v", err)
	}
	got := map[string]string{}
	err = parseFrames(bytes.NewReader(out), files, func(f string, r io.Reader) error {
		if r == nil {
			got[f] = "<missing>"
			return nil
		}
		b, err := io.ReadAll(r)
		got[f] = string(b)
		return err
	})
	return got, err
}

func TestReaderScriptFramesFilesBySize(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"r/a/output.log":   "line\n@@datainsight r/b/output.log 3\nxyz\x00\xff no newline",
		"r/a/report.ipynb": `{"cells": []}`,
		"r/b/empty.log":    "",
		"r/c/big.log":      strings.Repeat("0123456789abcdef\n", 100_000),
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ask := []string{"r/a/output.log", "r/missing/output.log", "r/b/empty.log", "r/a/report.ipynb", "r/c/big.log"}
	got, err := readHere(t, dir, ask)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ask {
		want, ok := files[f]
		if !ok {
			want = "<missing>"
		}
		if got[f] != want {
			t.Errorf("%s: got %d bytes %.60q, want %d bytes %.60q", f, len(got[f]), got[f], len(want), want)
		}
	}
}

func TestParseFramesRejectsBrokenOutput(t *testing.T) {
	each := func(string, io.Reader) error { return nil }
	for _, c := range []struct{ name, out, err string }{
		{"empty", "", "ended before a"},
		{"not a header", "hello\n", "unexpected output where a should start"},
		{"other file", "@@datainsight b 1\nx", "unexpected output where a should start"},
		{"short", "@@datainsight a 10\nabc", "ended 7 bytes early"},
		{"bad size", "@@datainsight a ten\n", "bad size"},
		{"trailing", "@@datainsight a 1\nxy", "after the last file"},
	} {
		err := parseFrames(strings.NewReader(c.out), []string{"a"}, each)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
	}
	stop := errors.New("stop")
	err := parseFrames(strings.NewReader("@@datainsight a 1\nx"), []string{"a"}, func(string, io.Reader) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("the callback's error is lost: %v", err)
	}
}

func FuzzParseFrames(f *testing.F) {
	f.Add("@@datainsight a 3\nabc@@datainsight b -\n")
	f.Add("@@datainsight a 99999999999999999999\n")
	f.Add("@@datainsight a -1\n")
	f.Fuzz(func(t *testing.T, out string) {
		_ = parseFrames(strings.NewReader(out), []string{"a", "b"}, func(_ string, r io.Reader) error {
			if r != nil {
				_, err := io.Copy(io.Discard, r)
				return err
			}
			return nil
		})
	})
}

func TestReaderPodLooksLikeTheRunsSteps(t *testing.T) {
	const src = "# %% tags=[\"block:a\"]\nx = 1\n"
	p := compile(t, src)
	p.Settings.Image = "registry.example/ds:1"
	p.Settings.ServiceAccount = "pipeline-runner"
	p.Settings.ImagePullSecrets = []string{"regcred"}
	wf, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: "nb-abcde", MarshalClaim: "nb-abcde-datainsight-marshal"})
	if err != nil {
		t.Fatal(err)
	}
	wf.UID = "uid-1"
	claim := marshalClaim(wf)
	if claim != "nb-abcde-datainsight-marshal" {
		t.Fatalf("marshalClaim = %q", claim)
	}
	pod := readerPod(wf, claim)
	c := pod.Spec.Containers[0]
	switch {
	case c.Image != "registry.example/ds:1":
		t.Errorf("image %q", c.Image)
	case pod.Spec.ServiceAccountName != "pipeline-runner" || len(pod.Spec.ImagePullSecrets) != 1:
		t.Errorf("service account %q, pull secrets %v", pod.Spec.ServiceAccountName, pod.Spec.ImagePullSecrets)
	case c.WorkingDir != pipelinegen.MarshalMount || !c.VolumeMounts[0].ReadOnly || c.VolumeMounts[0].MountPath != pipelinegen.MarshalMount:
		t.Errorf("mount %+v in %q", c.VolumeMounts, c.WorkingDir)
	case pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != claim || !pod.Spec.Volumes[0].PersistentVolumeClaim.ReadOnly:
		t.Errorf("volume %+v", pod.Spec.Volumes[0])
	case pod.OwnerReferences[0].UID != "uid-1" || pod.Labels[LabelRole] != RoleVolumeReader || pod.Labels[pipelinegen.LabelRun] != "nb-abcde":
		t.Errorf("meta %+v", pod.ObjectMeta)
	case pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Spec.ActiveDeadlineSeconds == nil || *pod.Spec.AutomountServiceAccountToken:
		t.Errorf("lifetime: %+v", pod.Spec)
	}
	// A ReadWriteOnce volume: the reader goes where the run's pods are.
	aff := pod.Spec.Affinity
	if aff == nil || aff.PodAffinity == nil || aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels[pipelinegen.LabelRun] != "nb-abcde" {
		t.Errorf("affinity %+v", aff)
	}

	// Runs made before the backend made its own claims.
	old := &wfv1.Workflow{ObjectMeta: metav1.ObjectMeta{Name: "old-run"}}
	old.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: pipelinegen.MarshalVolume}}}
	if got := marshalClaim(old); got != "old-run-datainsight-marshal" {
		t.Errorf("marshalClaim(template) = %q", got)
	}
}

func TestLineWriter(t *testing.T) {
	var b bytes.Buffer
	var mu sync.Mutex
	x, y := newLineWriter(&b, &mu, "x | "), newLineWriter(&b, &mu, "y | ")
	// Two steps' chunks interleaved: every line comes out whole.
	for _, c := range []struct {
		w     *lineWriter
		chunk string
	}{{x, "one"}, {y, "alpha\nbe"}, {x, " line\ntwo\n"}, {y, "ta"}, {x, ""}, {x, "\nthree"}} {
		if _, err := c.w.Write([]byte(c.chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "y | alpha\nx | one line\nx | two\nx | \nx | three\ny | beta\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}

	// Without a prefix the bytes pass as they come; Close ends an open line.
	b.Reset()
	raw := newLineWriter(&b, &mu, "")
	raw.Write([]byte("50%\r"))
	if b.String() != "50%\r" {
		t.Errorf("unprefixed output held back: %q", b.String())
	}
	raw.Write([]byte("100%"))
	raw.Close()
	if b.String() != "50%\r100%\n" {
		t.Errorf("got %q", b.String())
	}
}

// TestLineWriterLongLine: a line without a newline is held back only up
// to cluster.MaxPartial; it once grew without bound (a step printing a progress
// bar with \r for hours).
func TestLineWriterLongLine(t *testing.T) {
	var b bytes.Buffer
	var mu sync.Mutex
	w := newLineWriter(&b, &mu, "s | ")
	long := strings.Repeat("x", 3*cluster.MaxPartial+5)
	w.Write([]byte("short\n"))
	for i := 0; i < len(long); i += 1000 {
		w.Write([]byte(long[i:min(i+1000, len(long))]))
	}
	if w.lines.Held() > 2*cluster.MaxPartial {
		t.Errorf("held back %d bytes of an unended line, want at most about %d", w.lines.Held(), cluster.MaxPartial)
	}
	w.Write([]byte("\nnext\n"))
	w.Write([]byte("end"))
	w.Close()
	if want := "s | short\ns | " + long + "\ns | next\ns | end\n"; b.String() != want {
		t.Errorf("got %d bytes, want %d: the long line is not whole and prefixed once", b.Len(), len(want))
	}
}

func TestCheckClonesBeforeTheRunWaitsForEver(t *testing.T) {
	src := func(name, size string) *corev1.PersistentVolumeClaim {
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
		pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
		return pvc
	}
	a := &Argo{namespace: "ns", kube: fake.NewClientset(src("workspace", "5Gi"), src("big", "10Gi"))}
	p := compile(t, "# %% tags=[\"block:a\"]\nx = 1\n")
	for _, c := range []struct {
		from, size, want string
	}{
		{"workspace", "5Gi", ""},
		{"workspace", "6Gi", ""},
		{"big", "5Gi", `volume "big" (a clone of claim big): its size 5Gi is smaller than the 10Gi of the claim it copies`},
		{"gone", "5Gi", `volume "gone" (a clone of claim gone): there is no claim gone in namespace ns to clone`},
	} {
		p.Settings.Volumes = []notebook.Volume{{Name: c.from, MountPath: "/home/jovyan", Type: notebook.VolumeClone, Size: c.size}}
		wf, err := pipelinegen.Workflow(p, pipelinegen.WorkflowOptions{RunName: "nb-abcde"})
		if err != nil {
			t.Fatal(err)
		}
		err = a.checkClones(context.Background(), wf)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("clone of %s at %s: err = %v, want %q", c.from, c.size, err, c.want)
		}
	}
}

// Every label the backend writes on the objects it makes is checked before
// the API server sees it.
func TestClaimAndReaderLabelsAreChecked(t *testing.T) {
	a := &Argo{namespace: "ns", kube: fake.NewClientset()}
	long := &wfv1.Workflow{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("r", 70), UID: "u"}}
	err := a.createClaim(context.Background(), &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, long, "nb")
	if err == nil || !strings.Contains(err.Error(), "label datainsight.io/run") {
		t.Errorf("createClaim with a run name no label can hold: err = %v", err)
	}
	if list, _ := a.kube.CoreV1().PersistentVolumeClaims("ns").List(context.Background(), metav1.ListOptions{}); len(list.Items) != 0 {
		t.Errorf("the claim was made anyway: %+v", list.Items)
	}
	ok := &wfv1.Workflow{ObjectMeta: metav1.ObjectMeta{Name: "nb-abcde", UID: "u", Labels: map[string]string{pipelinegen.LabelNotebook: "e3c333d184"}}}
	if err := pipelinegen.CheckMetadata("reader", readerPod(ok, "c").Labels, nil); err != nil {
		t.Error(err)
	}
}
