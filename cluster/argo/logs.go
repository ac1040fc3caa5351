package argo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Logs writes a step's log (or every step's, each line prefixed "STEP | ")
// from its pod, or from the marshal volume once the pod is gone; steps read
// from the volume come first. Following a run that has not ended streams
// each step as its pod starts, until the run ends.
func (a *Argo) Logs(ctx context.Context, id string, opts cluster.LogOptions, w io.Writer) error {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return a.explain("logs "+id, err)
	}
	var want [][2]string
	for _, s := range stepPairs(wf) {
		if opts.Step == "" || s[0] == opts.Step {
			want = append(want, s)
		}
	}
	if len(want) == 0 {
		return fmt.Errorf("run %s has no step %q", id, opts.Step)
	}
	if opts.Follow && !wf.Status.Phase.Completed() {
		return a.followLogs(ctx, id, opts.Step, w)
	}
	pods, err := a.runPods(ctx, id)
	if err != nil {
		return err
	}
	var fromPods [][2]string // step, pod
	var fromVolume []string
	for _, s := range want {
		node := nodeFor(wf, s[1])
		if node == nil {
			continue
		}
		switch pod := podOf(pods, node); {
		case pod != "":
			fromPods = append(fromPods, [2]string{s[0], pod})
		case node.Phase == wfv1.NodeSucceeded || node.Phase == wfv1.NodeFailed || node.Phase == wfv1.NodeError:
			fromVolume = append(fromVolume, s[0])
		}
	}
	var mu sync.Mutex
	var volumeErr error
	if len(fromVolume) > 0 {
		files := make([]string, len(fromVolume))
		for i, s := range fromVolume {
			files[i] = stepFile(id, s, pipelinegen.StepLog)
		}
		i := 0
		err := a.readVolume(ctx, wf, files, func(_ string, content io.Reader) error {
			step := fromVolume[i]
			i++
			if content == nil {
				if opts.Step != "" {
					return fmt.Errorf("logs %s %s: its pod is gone and it kept no log on the run's volume", id, step)
				}
				return nil
			}
			lw := newLineWriter(w, &mu, prefix(opts.Step, step))
			if _, err := io.Copy(lw, content); err != nil {
				return err
			}
			return lw.Close()
		})
		if err != nil {
			if opts.Step != "" || ctx.Err() != nil {
				return err
			}
			// The steps whose pods still exist are shown all the same.
			volumeErr = err
		}
	}
	for _, sp := range fromPods {
		if err := a.podLog(ctx, sp[1], false, newLineWriter(w, &mu, prefix(opts.Step, sp[0]))); err != nil {
			return err
		}
	}
	return volumeErr
}

// prefix is what starts a step's lines: nothing when one step was asked for.
func prefix(asked, step string) string {
	if asked != "" {
		return ""
	}
	return step + " | "
}

// followLogs streams the log of each step (or of the one asked for) from
// the moment its pod runs, steps side by side, whole lines at a time,
// until the run ends.
func (a *Argo) followLogs(ctx context.Context, id, step string, w io.Writer) error {
	events, err := a.Watch(ctx, id)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	started := map[string]bool{}
	var gone []string // ended steps whose pods were already collected
	for ev := range events {
		if ev.Type != cluster.EventStep || started[ev.Step] || step != "" && ev.Step != step {
			continue
		}
		if ev.Phase != cluster.Running && ev.Phase != cluster.Succeeded && ev.Phase != cluster.Failed {
			continue
		}
		pod, err := a.stepPod(ctx, id, ev.Step)
		if err != nil {
			return err
		}
		if pod == "" {
			if ev.Phase != cluster.Running {
				// Ended, and its pod collected already (podGC at the
				// run's end): its log is on the volume.
				started[ev.Step] = true
				gone = append(gone, ev.Step)
			}
			continue // not made yet: a later event will say
		}
		started[ev.Step] = true
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			if err := a.podLog(ctx, pod, true, newLineWriter(w, &mu, prefix(step, name))); err != nil {
				errOnce.Do(func() { first = err })
			}
		}(ev.Step)
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	for _, name := range gone {
		if first != nil {
			break
		}
		lw := newLineWriter(w, &mu, prefix(step, name))
		if err := a.Logs(ctx, id, cluster.LogOptions{Step: name}, lw); err != nil && step != "" {
			return err
		}
		first = lw.Close()
	}
	return first
}

// stepPod returns the name of a step's pod, or "" when it has none yet.
func (a *Argo) stepPod(ctx context.Context, id, step string) (string, error) {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return "", a.explain("logs "+id, err)
	}
	for _, s := range stepPairs(wf) {
		if s[0] != step {
			continue
		}
		node := nodeFor(wf, s[1])
		if node == nil {
			return "", nil
		}
		pods, err := a.runPods(ctx, id)
		if err != nil {
			return "", err
		}
		return podOf(pods, node), nil
	}
	return "", nil
}

func (a *Argo) runPods(ctx context.Context, id string) (*corev1.PodList, error) {
	pods, err := a.kube.CoreV1().Pods(a.namespace).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + id})
	if err != nil {
		return nil, a.explain("logs "+id, err)
	}
	return pods, nil
}

// podOf finds the pod of a node (the latest attempt's, for a retried step).
func podOf(pods *corev1.PodList, node *wfv1.NodeStatus) string {
	pod := ""
	for _, p := range pods.Items {
		if p.Annotations[annotationNode] == node.ID || p.Name == node.ID {
			pod = p.Name
		}
	}
	return pod
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

// lineWriter writes to a writer shared with other steps' logs: with a
// prefix, whole lines at a time, each starting with the prefix, so that
// steps followed side by side do not cut into each other's lines; without
// one, as it comes (a progress bar redrawn with \r shows as it moves).
// Close ends a last line that has no newline.
type lineWriter struct {
	w       io.Writer
	mu      *sync.Mutex
	prefix  string
	partial []byte // with a prefix: the line begun
	open    bool   // without one: the last byte written was not a newline
}

func newLineWriter(w io.Writer, mu *sync.Mutex, prefix string) *lineWriter {
	return &lineWriter{w: w, mu: mu, prefix: prefix}
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.prefix == "" {
		if len(b) > 0 {
			l.open = b[len(b)-1] != '\n'
		}
		return l.w.Write(b)
	}
	n := len(b)
	var out []byte
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		out = append(out, l.prefix...)
		out = append(out, l.partial...)
		out = append(out, b[:i+1]...)
		l.partial, b = l.partial[:0], b[i+1:]
	}
	l.partial = append(l.partial, b...)
	if len(out) > 0 {
		if _, err := l.w.Write(out); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (l *lineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []byte
	switch {
	case l.prefix == "" && l.open:
		out = []byte{'\n'}
	case l.prefix != "" && len(l.partial) > 0:
		out = append(append([]byte(l.prefix), l.partial...), '\n')
	}
	l.partial, l.open = l.partial[:0], false
	if len(out) == 0 {
		return nil
	}
	_, err := l.w.Write(out)
	return err
}
