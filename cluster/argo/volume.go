package argo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
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
	// ReaderStartTimeout is how long a reader pod may take to start.
	ReaderStartTimeout = 3 * time.Minute
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

// createMarshalClaim makes the claim of a run's marshal volume before its
// Workflow exists; adoptClaim then gives it to the Workflow, so deleting
// the run (or its TTL) deletes the volume, while the run's success does not.
func (a *Argo) createMarshalClaim(ctx context.Context, p *pipelinegen.Pipeline, run string) (string, error) {
	pvc, err := pipelinegen.MarshalClaim(p, marshalClaimName(run))
	if err != nil || pvc == nil {
		return "", err
	}
	pvc.Namespace = a.namespace
	pvc.Labels = claimLabels(p.NotebookID, run)
	if _, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		return "", a.explain("submit "+p.Name+": creating its marshal volume", err)
	}
	return pvc.Name, nil
}

func claimLabels(notebookID, run string) map[string]string {
	return map[string]string{pipelinegen.LabelNotebook: notebookID, pipelinegen.LabelRun: run, labelManagedBy: managedBy}
}

// dropClaim deletes a claim made for a run that could not be created,
// even when ctx is done.
func (a *Argo) dropClaim(ctx context.Context, claim string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Delete(dctx, claim, metav1.DeleteOptions{})
}

// cloneClaim makes the marshal claim of run like an earlier run's.
func (a *Argo) cloneClaim(ctx context.Context, from, run, notebookID string) (string, error) {
	old, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, from, metav1.GetOptions{})
	if err != nil {
		return "", a.explain("the marshal volume it was run with, "+from, err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name: marshalClaimName(run), Namespace: a.namespace,
			Labels: claimLabels(notebookID, run),
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      old.Spec.AccessModes,
			Resources:        old.Spec.Resources,
			StorageClassName: old.Spec.StorageClassName,
			VolumeMode:       old.Spec.VolumeMode,
		},
	}
	if _, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		return "", a.explain("creating its marshal volume", err)
	}
	return pvc.Name, nil
}

func (a *Argo) adoptClaim(ctx context.Context, claim string, wf *wfv1.Workflow) error {
	return a.setOwners(ctx, claim, "", []metav1.OwnerReference{workflowOwner(wf)})
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
	if len(wf.Spec.VolumeClaimTemplates) > 0 {
		return marshalClaimName(wf.Name)
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
	pod, err := a.kube.CoreV1().Pods(a.namespace).Create(ctx, readerPod(wf, claim), metav1.CreateOptions{})
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

	req := a.kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(a.namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: readerContainer,
			Command:   append([]string{"sh", "-c", readerScript, "sh"}, files...),
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(a.cfg, "GET", req.URL().String())
	if err != nil {
		return err
	}
	spdy, err := remotecommand.NewSPDYExecutor(a.cfg, "POST", req.URL())
	if err != nil {
		return err
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	var eachErr error // the caller's own error, returned as it is
	go func() {
		err := parseFrames(pr, files, func(file string, content io.Reader) error {
			eachErr = each(file, content)
			return eachErr
		})
		pr.CloseWithError(err) // unblocks the exec should parsing stop early
		done <- err
	}()
	execErr := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: pw, Stderr: &limitedWriter{w: &stderr, n: 4 << 10}})
	pw.CloseWithError(execErr)
	parseErr := <-done
	switch {
	case eachErr != nil:
		return eachErr
	case execErr != nil && !errors.Is(execErr, io.ErrClosedPipe):
		return fmt.Errorf("run %s: reading its volume through pod %s: %w %s", wf.Name, pod.Name, execErr, strings.TrimSpace(stderr.String()))
	case parseErr != nil:
		return fmt.Errorf("run %s: reading its volume through pod %s: %w", wf.Name, pod.Name, parseErr)
	}
	return nil
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
	ctx, cancel := context.WithTimeout(ctx, ReaderStartTimeout)
	defer cancel()
	w, err := a.kube.CoreV1().Pods(a.namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", pod.Name).String(),
		ResourceVersion: pod.ResourceVersion,
	})
	if err != nil {
		return a.explain("watching pod "+pod.Name, err)
	}
	defer w.Stop()
	why := "it was not scheduled"
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pod %s did not start within %s: %s", pod.Name, ReaderStartTimeout, why)
		case ev, ok := <-w.ResultChan():
			if !ok {
				// The watch ended (API server restart): look once more.
				cur, err := a.kube.CoreV1().Pods(a.namespace).Get(ctx, pod.Name, metav1.GetOptions{})
				if err != nil {
					return a.explain("pod "+pod.Name, err)
				}
				return a.waitRunning(ctx, cur)
			}
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			switch p.Status.Phase {
			case corev1.PodRunning:
				return nil
			case corev1.PodFailed, corev1.PodSucceeded:
				return fmt.Errorf("pod %s ended before it could be read (%s) %s", pod.Name, p.Status.Phase, p.Status.Message)
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
					why = c.Message
				}
			}
			for _, cs := range p.Status.ContainerStatuses {
				if wt := cs.State.Waiting; wt != nil {
					switch wt.Reason {
					case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError":
						return fmt.Errorf("pod %s cannot start: %s: %s", pod.Name, wt.Reason, wt.Message)
					}
					why = wt.Reason
				}
			}
		}
	}
}

// stepFile is where a step's file is on the marshal volume, relative to
// its root.
func stepFile(run, step, name string) string { return path.Join(run, step, name) }

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		l.w.Write(p[:k])
	}
	return len(p), nil
}

// Report copies a step's report from the run's marshal volume.
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
	file := stepFile(id, opts.Step, name)
	return a.readVolume(ctx, wf, []string{file}, func(_ string, content io.Reader) error {
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

// prefixWriter starts every line it writes with prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if !p.mid {
			if _, err := io.WriteString(p.w, p.prefix); err != nil {
				return 0, err
			}
			p.mid = true
		}
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i+1]
			p.mid = false
		}
		if _, err := p.w.Write(chunk); err != nil {
			return 0, err
		}
		b = b[len(chunk):]
	}
	return n, nil
}

// end finishes a last line that had no newline.
func (p *prefixWriter) end() error {
	if p.mid {
		p.mid = false
		_, err := io.WriteString(p.w, "\n")
		return err
	}
	return nil
}
