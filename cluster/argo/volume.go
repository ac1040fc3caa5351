package argo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// What a run leaves on its marshal volume outlives its pods: the volume is
// read by a short-lived reader pod that mounts it read-only and sleeps,
// and an exec in that pod streams the files out. An exec, not the pod's
// log: kubelets rotate container logs (10 MiB by default), and a step's
// log can be longer than that.

const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "datainsight"
	// LabelRole marks the pods the backend makes besides a run's steps.
	LabelRole = "datainsight.io/role"
	// RoleVolumeReader is the LabelRole of pods that read a marshal volume.
	RoleVolumeReader = "volume-reader"
	readerContainer  = "reader"
	// readerLifetime bounds a reader pod the backend could not delete
	// (the CLI was killed): the kubelet stops it, the workflow's deletion
	// removes it.
	readerLifetime = 10 * time.Minute
	// readerStartTimeout is how long a reader pod may take to start (an
	// image pull, a volume attach).
	readerStartTimeout = 3 * time.Minute
	frameMark          = "@@datainsight"
)

// readerScript prints each file named in its arguments (relative to the
// working folder, the volume's mount) after a header line
// "@@datainsight PATH SIZE", or "@@datainsight PATH -" when there is no
// such file. head -c holds the copy to the size announced, should a file
// still grow.
const readerScript = `for f do
  if [ -f "$f" ]; then
    n=$(wc -c < "$f")
    printf '` + frameMark + ` %s %s\n' "$f" $n
    head -c $n "$f"
  else
    printf '` + frameMark + ` %s -\n' "$f"
  fi
done`

// marshalClaimName names the claim Submit makes for a run's marshal volume
// (the name Argo would give a volumeClaimTemplate's claim).
func marshalClaimName(run string) string { return run + "-" + pipelinegen.MarshalVolume }

// createClaim creates a run's claim, owned by its Workflow.
func (a *Argo) createClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim, wf *wfv1.Workflow, notebookID string) error {
	pvc.Namespace = a.namespace
	pvc.Labels = claimLabels(notebookID, wf.Name)
	pvc.OwnerReferences = []metav1.OwnerReference{workflowOwner(wf)}
	if err := pipelinegen.CheckMetadata("claim "+pvc.Name, pvc.Labels, pvc.Annotations); err != nil {
		return err
	}
	_, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Create(ctx, pvc, metav1.CreateOptions{})
	return err
}

// checkClones checks the claims a run's volumes are cloned from (Kale's
// "clone" volumes) before the run is created: a missing one, or a clone
// smaller than its source, leaves the clone pending and the run waiting
// for ever, with nothing in the run to say why.
func (a *Argo) checkClones(ctx context.Context, wf *wfv1.Workflow) error {
	for _, t := range wf.Spec.VolumeClaimTemplates {
		ds := t.Spec.DataSource
		if ds == nil || ds.Kind != "PersistentVolumeClaim" || ds.APIGroup != nil && *ds.APIGroup != "" {
			continue
		}
		what := fmt.Sprintf("volume %q (a clone of claim %s)", t.Annotations[pipelinegen.AnnotationVolume], ds.Name)
		src, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: there is no claim %s in namespace %s to clone", what, ds.Name, a.namespace)
		}
		if err != nil {
			return a.explain(what, err)
		}
		have := src.Status.Capacity.Storage()
		if have.IsZero() {
			have = src.Spec.Resources.Requests.Storage()
		}
		if want := t.Spec.Resources.Requests.Storage(); want.Cmp(*have) < 0 {
			return fmt.Errorf("%s: its size %s is smaller than the %s of the claim it copies; a clone must be at least as large", what, want, have)
		}
	}
	return nil
}

func claimLabels(notebookID, run string) map[string]string {
	return map[string]string{pipelinegen.LabelNotebook: notebookID, pipelinegen.LabelRun: run, labelManagedBy: managedBy}
}

// dropRun deletes a Workflow that was created but cannot run, even when
// ctx is done.
func (a *Argo) dropRun(ctx context.Context, name string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = a.workflows().Delete(dctx, name, metav1.DeleteOptions{})
}

// claimLike returns the spec of a claim for run like an earlier run's.
func (a *Argo) claimLike(ctx context.Context, from, run string) (*corev1.PersistentVolumeClaim, error) {
	old, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, from, metav1.GetOptions{})
	if err != nil {
		return nil, a.explain("the marshal volume it was run with, "+from, err)
	}
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: marshalClaimName(run)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      old.Spec.AccessModes,
			Resources:        old.Spec.Resources,
			StorageClassName: old.Spec.StorageClassName,
			VolumeMode:       old.Spec.VolumeMode,
		},
	}, nil
}

// workflowOwner makes wf the owner of an object: it goes when wf does.
func workflowOwner(wf *wfv1.Workflow) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow", Name: wf.Name, UID: wf.UID}
}

// setOwners sets a claim's owners; with a resourceVersion, only if the
// claim has not changed since.
func (a *Argo) setOwners(ctx context.Context, claim, resourceVersion string, owners []metav1.OwnerReference) error {
	meta := map[string]any{"ownerReferences": owners}
	if resourceVersion != "" {
		meta["resourceVersion"] = resourceVersion
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return err
	}
	_, err = a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Patch(ctx, claim, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// marshalClaim returns the claim holding a run's marshal volume.
func marshalClaim(wf *wfv1.Workflow) string {
	for _, v := range wf.Spec.Volumes {
		if v.Name == pipelinegen.MarshalVolume && v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	// Runs whose volume came from a volumeClaimTemplate.
	for _, v := range wf.Status.PersistentVolumeClaims {
		if v.Name == pipelinegen.MarshalVolume && v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	for _, t := range wf.Spec.VolumeClaimTemplates {
		if t.Name == pipelinegen.MarshalVolume {
			return marshalClaimName(wf.Name)
		}
	}
	return ""
}

// readVolume streams files of a run's marshal volume, named relative to its
// root, through a reader pod: each is handed to each with its content, or a
// nil reader when the volume has no such file. each must consume the reader.
func (a *Argo) readVolume(ctx context.Context, wf *wfv1.Workflow, files []string, each func(file string, content io.Reader) error) error {
	claim := marshalClaim(wf)
	if claim == "" {
		return fmt.Errorf("run %s has no marshal volume", wf.Name)
	}
	pvc, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, claim, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || err == nil && pvc.DeletionTimestamp != nil {
		return fmt.Errorf("run %s: its marshal volume (claim %s) is gone, and its pods too: nothing of its steps is left to read", wf.Name, claim)
	}
	if err != nil {
		return a.explain("run "+wf.Name+": its marshal volume", err)
	}
	if !wf.Status.Phase.Completed() && slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteOncePod) {
		// A reader would wait for the running step, or hold up the next.
		return fmt.Errorf("run %s: its volume %s is ReadWriteOncePod: it can be read once the run has ended", wf.Name, claim)
	}
	reader := readerPod(wf, claim)
	if err := pipelinegen.CheckMetadata("run "+wf.Name+": the pod reading its volume", reader.Labels, reader.Annotations); err != nil {
		return err
	}
	pod, err := a.kube.CoreV1().Pods(a.namespace).Create(ctx, reader, metav1.CreateOptions{})
	if err != nil {
		return a.explain("run "+wf.Name+": starting a pod to read its volume", err)
	}
	defer func() {
		// Even when ctx is cancelled (Ctrl-C), the pod must go.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		zero := int64(0)
		_ = a.kube.CoreV1().Pods(a.namespace).Delete(dctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}()
	if err := a.waitRunning(ctx, pod); err != nil {
		return fmt.Errorf("run %s: reading its volume: %w", wf.Name, err)
	}
	exec, err := a.executor(pod.Name, append([]string{"sh", "-c", readerScript, "sh"}, files...))
	if err != nil {
		return err
	}

	pr, pw := io.Pipe()
	stderr := &headWriter{n: 4 << 10}
	done := make(chan error, 1)
	// The caller's own error (ErrNoReport, ...) is returned as it is; an
	// error of the stream it was reading is the exec's to explain.
	var callerErr error
	go func() {
		err := parseFrames(pr, files, func(file string, content io.Reader) error {
			var tr *trackedReader
			if content != nil {
				tr = &trackedReader{r: content}
				content = tr
			}
			err := each(file, content)
			if err != nil && (tr == nil || tr.err == nil) {
				callerErr = err
			}
			return err
		})
		pr.CloseWithError(err) // unblocks the exec should parsing stop early
		done <- err
	}()
	execErr := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: pw, Stderr: stderr})
	pw.CloseWithError(execErr)
	parseErr := <-done
	switch {
	case callerErr != nil:
		return callerErr
	case ctx.Err() != nil:
		return ctx.Err()
	case execErr != nil && !errors.Is(execErr, io.ErrClosedPipe):
		return fmt.Errorf("run %s: reading its volume through pod %s: %w %s", wf.Name, pod.Name, execErr, stderr)
	case parseErr != nil:
		return fmt.Errorf("run %s: reading its volume through pod %s: %w %s", wf.Name, pod.Name, parseErr, stderr)
	}
	return nil
}

// executor runs a command in a reader pod: over WebSocket, or SPDY where a
// proxy or an older API server refuses the upgrade.
func (a *Argo) executor(pod string, command []string) (remotecommand.Executor, error) {
	req := a.kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(a.namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: readerContainer, Command: command, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(a.cfg, "GET", req.URL().String())
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(a.cfg, "POST", req.URL())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// trackedReader remembers the error its reader returned.
type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// headWriter keeps the first n bytes written to it; the exec's streams
// may still write while it is read.
type headWriter struct {
	mu sync.Mutex
	b  strings.Builder
	n  int
}

func (t *headWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := min(len(p), t.n-t.b.Len()); k > 0 {
		t.b.Write(p[:k])
	}
	return len(p), nil
}

func (t *headWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.b.String())
}

// parseFrames splits the reader script's output into its files, in the
// order they were asked for.
func parseFrames(r io.Reader, files []string, each func(string, io.Reader) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for _, want := range files {
		header, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("the output ended before %s (%v)", want, err)
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[0] != frameMark || f[1] != want {
			return fmt.Errorf("unexpected output where %s should start: %.80q", want, header)
		}
		if f[2] == "-" {
			if err := each(want, nil); err != nil {
				return err
			}
			continue
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad size for %s: %q", want, f[2])
		}
		body := &io.LimitedReader{R: br, N: n}
		if err := each(want, body); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
		if body.N > 0 {
			return fmt.Errorf("%s ended %d bytes early", want, body.N)
		}
	}
	if extra, _ := br.Peek(1); len(extra) > 0 {
		return errors.New("unexpected output after the last file")
	}
	return nil
}

// readerPod mounts the run's marshal volume read-only and sleeps until it
// is deleted. It looks like the run's steps to the cluster — same image,
// service account, pull secrets, security context and, for a
// ReadWriteOnce volume, the same node — so it may go wherever they could.
func readerPod(wf *wfv1.Workflow, claim string) *corev1.Pod {
	var step *wfv1.Template
	for i := range wf.Spec.Templates {
		if wf.Spec.Templates[i].Script != nil {
			step = &wf.Spec.Templates[i]
			break
		}
	}
	image := pipelinegen.DefaultImage
	var affinity *corev1.Affinity
	// While a step runs, a ReadWriteOnce volume can only be read on its
	// node: the reader must tolerate whatever taints that node has (a GPU
	// node's, say). Tolerations only allow; nothing here requires a node.
	var tolerations []corev1.Toleration
	for _, t := range wf.Spec.Templates {
		for _, tol := range t.Tolerations {
			if !slices.Contains(tolerations, tol) {
				tolerations = append(tolerations, tol)
			}
		}
	}
	var security *corev1.PodSecurityContext = wf.Spec.SecurityContext
	if step != nil {
		image = step.Script.Image
		affinity = step.Affinity
		if step.SecurityContext != nil {
			security = step.SecurityContext
		}
	}
	lifetime := int64(readerLifetime.Seconds())
	no := false
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")}
	base := wf.Name
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-.")
	}
	owner := workflowOwner(wf)
	isController := true
	owner.Controller = &isController
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: base + "-reader-",
			Labels: map[string]string{
				pipelinegen.LabelRun:      wf.Name,
				pipelinegen.LabelNotebook: wf.Labels[pipelinegen.LabelNotebook],
				LabelRole:                 RoleVolumeReader,
			},
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:        &lifetime,
			AutomountServiceAccountToken: &no,
			ServiceAccountName:           wf.Spec.ServiceAccountName,
			ImagePullSecrets:             wf.Spec.ImagePullSecrets,
			SecurityContext:              security,
			Affinity:                     affinity,
			Tolerations:                  tolerations,
			Containers: []corev1.Container{{
				Name:       readerContainer,
				Image:      image,
				Command:    []string{"sleep", strconv.FormatInt(lifetime, 10)},
				WorkingDir: pipelinegen.MarshalMount,
				VolumeMounts: []corev1.VolumeMount{{
					Name: pipelinegen.MarshalVolume, MountPath: pipelinegen.MarshalMount, ReadOnly: true,
				}},
				Resources: corev1.ResourceRequirements{Requests: small, Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
			}},
			Volumes: []corev1.Volume{{
				Name: pipelinegen.MarshalVolume,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
					ClaimName: claim, ReadOnly: true,
				}},
			}},
		},
	}
}

// waitRunning waits for the reader's container to run, failing early on
// what will not resolve itself (a failed pod, an image that cannot be
// pulled) and naming why the pod waits when it times out.
func (a *Argo) waitRunning(ctx context.Context, pod *corev1.Pod) error {
	wctx, cancel := context.WithTimeout(ctx, readerStartTimeout)
	defer cancel()
	why := "it was not scheduled"
	for {
		// The pod as it is now, then its changes: a watch may end (an API
		// server restart) and be started again from where it was.
		ready, err := podReady(pod, &why)
		if ready || err != nil {
			return err
		}
		w, err := a.kube.CoreV1().Pods(a.namespace).Watch(wctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", pod.Name).String(),
			ResourceVersion: pod.ResourceVersion,
		})
		if err != nil && wctx.Err() == nil {
			return a.explain("watching pod "+pod.Name, err)
		}
		for w != nil {
			select {
			case <-wctx.Done():
				w.Stop()
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("pod %s did not start within %s: %s", pod.Name, readerStartTimeout, why)
			case ev, ok := <-w.ResultChan():
				if !ok {
					w = nil
					break
				}
				if p, ok := ev.Object.(*corev1.Pod); ok {
					if ready, err := podReady(p, &why); ready || err != nil {
						w.Stop()
						return err
					}
				}
			}
		}
		cur, err := a.kube.CoreV1().Pods(a.namespace).Get(wctx, pod.Name, metav1.GetOptions{})
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() != nil:
			return fmt.Errorf("pod %s did not start within %s: %s", pod.Name, readerStartTimeout, why)
		case err != nil:
			return a.explain("pod "+pod.Name, err)
		}
		pod = cur
	}
}

// podReady reports whether a reader pod runs, an error when it never will,
// and otherwise updates why it waits.
func podReady(p *corev1.Pod, why *string) (bool, error) {
	switch p.Status.Phase {
	case corev1.PodRunning:
		return true, nil
	case corev1.PodFailed, corev1.PodSucceeded:
		return false, fmt.Errorf("pod %s ended before it could be read (%s) %s", p.Name, p.Status.Phase, p.Status.Message)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
			*why = c.Message
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if wt := cs.State.Waiting; wt != nil {
			switch wt.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
				return false, fmt.Errorf("pod %s cannot start: %s: %s", p.Name, wt.Reason, wt.Message)
			}
			*why = wt.Reason
		}
	}
	return false, nil
}

// stepFile is where a step's file is on the marshal volume, relative to
// its root.
func stepFile(run, step, name string) string { return path.Join(run, step, name) }

// Report copies a step's report from the run's marshal volume, or from
// its object store in marshal mode "artifacts".
func (a *Argo) Report(ctx context.Context, id string, opts cluster.ReportOptions, w io.Writer) error {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return a.explain("report "+id, err)
	}
	if !hasStep(wf, opts.Step) {
		return fmt.Errorf("run %s has no step %q", id, opts.Step)
	}
	name := pipelinegen.StepReport
	if opts.HTML {
		name = pipelinegen.StepReportHTML
	}
	file := stepFile(keptRun(wf, opts.Step), opts.Step, name)
	return a.readKept(ctx, wf, []string{file}, func(_ string, content io.Reader) error {
		if content == nil {
			return fmt.Errorf("run %s: step %s has %w yet (it has not run, or was skipped)", id, opts.Step, cluster.ErrNoReport)
		}
		_, err := io.Copy(w, content)
		return err
	})
}

func hasStep(wf *wfv1.Workflow, step string) bool {
	for _, s := range stepPairs(wf) {
		if s[0] == step {
			return true
		}
	}
	return false
}
