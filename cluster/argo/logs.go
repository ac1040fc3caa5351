package argo

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Logs writes a step's log (or every step's, each line prefixed "STEP | ")
// from its pod, or once the pod is gone from the marshal volume (from the
// object store in marshal mode "artifacts"); steps read from there come
// first. Following a run that has not ended streams
// each step's pods (every attempt of a retried step) as they start, until
// the run ends.
func (a *Argo) Logs(ctx context.Context, id string, opts cluster.LogOptions, w io.Writer) error {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return a.explain("logs "+id, err)
	}
	var steps []string
	for _, s := range stepPairs(wf) {
		if opts.Step == "" || s[0] == opts.Step {
			steps = append(steps, s[0])
		}
	}
	if len(steps) == 0 {
		return fmt.Errorf("run %s has no step %q", id, opts.Step)
	}
	var mu sync.Mutex
	if opts.Follow && !wf.Status.Phase.Completed() {
		return a.followLogs(ctx, id, steps, reusedSteps(wf), opts.Step != "", &mu, w)
	}
	return a.logsNow(ctx, wf, steps, opts.Step != "", &mu, w)
}

// A reused step's pod only links the earlier run's outputs into this run
// (resume.go): its own log says no more than that. The output the step had
// when it was computed is the log kept with those outputs, which the link
// brings along: that is the step's log, after a line naming the run it
// came from.

// linkedFromRE finds the run a reused step links from in its script (see
// linkScript).
var linkedFromRE = regexp.MustCompile(`reuses its outputs from run (\S+) \(`)

// linkedFrom names the run whose outputs a reused step of wf links.
func linkedFrom(wf *wfv1.Workflow, step string) string {
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		if pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations) == step && t.Script != nil {
			if m := linkedFromRE.FindStringSubmatch(t.Script.Source); m != nil {
				return m[1]
			}
		}
	}
	if from := wf.Annotations[annotationResumedFrom]; from != "" {
		return from
	}
	return "an earlier run"
}

// cachedBanner starts the log of a reused step, as the local backend's does.
func cachedBanner(origin string) string { return "# cached: output of run " + origin + "\n" }

// logsNow writes the steps' logs as they are: from each step's latest pod,
// or from the volume for a step that ended and whose pods are gone.
func (a *Argo) logsNow(ctx context.Context, wf *wfv1.Workflow, steps []string, single bool, mu *sync.Mutex, w io.Writer) error {
	id := wf.Name
	pods, err := a.kube.CoreV1().Pods(a.namespace).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + id})
	if err != nil {
		return a.explain("logs "+id, err)
	}
	latest := latestPods(pods.Items)
	tasks := map[string]string{}
	for _, s := range stepPairs(wf) {
		tasks[s[0]] = s[1]
	}
	reused := reusedSteps(wf)
	var fromPods, fromVolume []string
	for _, s := range steps {
		node := nodeFor(wf, tasks[s])
		switch {
		case reused[s] && node != nil && node.Phase == wfv1.NodeSucceeded:
			fromVolume = append(fromVolume, s) // the output it had when computed, not the link's
		case latest[s] != "":
			fromPods = append(fromPods, s)
		case node != nil && (node.Phase == wfv1.NodeSucceeded || node.Phase == wfv1.NodeFailed || node.Phase == wfv1.NodeError):
			fromVolume = append(fromVolume, s)
		}
	}
	var volumeErr error
	if len(fromVolume) > 0 {
		files := make([]string, len(fromVolume))
		for i, s := range fromVolume {
			files[i] = stepFile(keptRun(wf, s), s, pipelinegen.StepLog)
		}
		i := 0
		err := a.readKept(ctx, wf, files, func(_ string, content io.Reader) error {
			step := fromVolume[i]
			i++
			if content == nil && reused[step] && latest[step] != "" {
				fromPods = append(fromPods, step) // no log came with the outputs: the link's own
				return nil
			}
			if content == nil {
				if single {
					return fmt.Errorf("logs %s %s: its pod is gone and it kept no log %s", id, step, a.keptWhere(wf))
				}
				return nil
			}
			lw := newLineWriter(w, mu, prefix(single, step))
			if reused[step] {
				if _, err := io.WriteString(lw, cachedBanner(linkedFrom(wf, step))); err != nil {
					return err
				}
			}
			if _, err := io.Copy(lw, content); err != nil {
				return err
			}
			return lw.Close()
		})
		if err != nil {
			if single || ctx.Err() != nil {
				return err
			}
			// The steps whose pods still exist are shown all the same.
			volumeErr = err
		}
	}
	for _, s := range fromPods {
		if err := a.podLog(ctx, latest[s], false, newLineWriter(w, mu, prefix(single, s))); err != nil {
			return err
		}
	}
	return volumeErr
}

// prefix is what starts a step's lines: nothing when one step was asked for.
func prefix(single bool, step string) string {
	if single {
		return ""
	}
	return step + " | "
}

// followLogs streams the logs of the steps' pods from the moment each
// runs, side by side, whole lines at a time, until the run ends. A step
// none of whose pods could be followed (it ended, and its pods went,
// between two looks), or one reused from an earlier run, is then read as
// it is.
func (a *Argo) followLogs(ctx context.Context, id string, steps []string, reused map[string]bool, single bool, mu *sync.Mutex, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := a.Watch(ctx, id)
	if err != nil {
		return err
	}
	pods := a.watchPods(ctx, id)
	want := map[string]bool{}
	for _, s := range steps {
		want[s] = true
	}
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		first    error
		streamed = map[string]bool{} // pods
		followed = map[string]bool{} // steps
	)
	for done := false; !done; {
		select {
		case p := <-pods:
			step := pipelinegen.StepName(p.Labels, p.Annotations)
			// A reused step's output is read from the volume at the end.
			if !want[step] || reused[step] || streamed[p.Name] || !mainStarted(p) {
				continue
			}
			streamed[p.Name], followed[step] = true, true
			wg.Add(1)
			go func(pod, step string) {
				defer wg.Done()
				if err := a.podLog(ctx, pod, true, newLineWriter(w, mu, prefix(single, step))); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
				}
			}(p.Name, step)
		case _, ok := <-events:
			done = !ok
		}
	}
	// The run has ended (or ctx is done): its containers have, so the
	// streams end.
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var rest []string
	for _, s := range steps {
		if !followed[s] {
			rest = append(rest, s)
		}
	}
	if len(rest) > 0 {
		wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
		if err != nil {
			return a.explain("logs "+id, err)
		}
		if err := a.logsNow(ctx, wf, rest, single, mu, w); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// watchPods sends the run's pods as they are and as they change, until
// ctx is done; after a watch ends (an API server restart, 410 Gone) it
// lists them again.
func (a *Argo) watchPods(ctx context.Context, id string) <-chan *corev1.Pod {
	ch := make(chan *corev1.Pod)
	send := func(p *corev1.Pod) bool {
		select {
		case ch <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	sel := metav1.ListOptions{LabelSelector: labelWorkflow + "=" + id}
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		list, err := a.kube.CoreV1().Pods(a.namespace).List(ctx, sel)
		if err != nil {
			return
		}
		for i := range list.Items {
			if !send(&list.Items[i]) {
				return
			}
		}
		opts := sel
		opts.ResourceVersion = list.ResourceVersion
		wt, err := a.kube.CoreV1().Pods(a.namespace).Watch(ctx, opts)
		if err != nil {
			return
		}
		defer wt.Stop()
		for ev := range wt.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				return // an error event: list again
			}
			if ev.Type != watch.Deleted && !send(p) {
				return
			}
		}
	}, time.Second)
	return ch
}

// mainStarted reports whether a step pod's main container has started
// (its log can be read).
func mainStarted(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.Name == "main" {
			return c.State.Running != nil || c.State.Terminated != nil
		}
	}
	return false
}

// latestPods maps each step to its newest pod (a retried step's latest
// attempt).
func latestPods(pods []corev1.Pod) map[string]string {
	newest := map[string]*corev1.Pod{}
	for i := range pods {
		p := &pods[i]
		s := pipelinegen.StepName(p.Labels, p.Annotations)
		if s == "" {
			continue
		}
		if cur := newest[s]; cur == nil || cur.CreationTimestamp.Before(&p.CreationTimestamp) ||
			cur.CreationTimestamp.Equal(&p.CreationTimestamp) && cur.Name < p.Name {
			newest[s] = p
		}
	}
	m := map[string]string{}
	for s, p := range newest {
		m[s] = p.Name
	}
	return m
}

func (a *Argo) podLog(ctx context.Context, pod string, follow bool, lw *lineWriter) error {
	req := a.kube.CoreV1().Pods(a.namespace).GetLogs(pod, &corev1.PodLogOptions{Container: "main", Follow: follow})
	rc, err := req.Stream(ctx)
	if err != nil {
		return a.explain("logs of pod "+pod, err)
	}
	defer rc.Close()
	if _, err := io.Copy(lw, rc); err != nil {
		return err
	}
	return lw.Close()
}

// lineWriter writes one step's log to a writer shared with other steps'
// logs, through cluster.Lines (whole prefixed lines, bounded), under the
// writers' common lock. Close ends a last line that has no newline.
type lineWriter struct {
	w     io.Writer
	mu    *sync.Mutex
	lines cluster.Lines
	out   []byte // what one Write writes; reused
}

func newLineWriter(w io.Writer, mu *sync.Mutex, prefix string) *lineWriter {
	return &lineWriter{w: w, mu: mu, lines: cluster.Lines{Prefix: prefix}}
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(b), l.flush(l.lines.Append(l.out[:0], b))
}

func (l *lineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flush(l.lines.End(l.out[:0]))
}

// flush writes out, kept for the next call. Callers hold l.mu.
func (l *lineWriter) flush(out []byte) error {
	l.out = out[:0]
	if len(out) == 0 {
		return nil
	}
	_, err := l.w.Write(out)
	return err
}
