package argo

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/pipelinegen"
)

// tracker follows every datainsight Workflow of the namespace with one
// watch (a shared informer: it lists, watches from the list's
// resourceVersion, and lists again after a disconnect or a 410 Gone), and
// turns each change into events for the runs someone is watching.
type tracker struct {
	inf    cache.SharedIndexInformer
	stop   chan struct{}
	mu     sync.Mutex
	subs   map[string][]*subscriber
	synced chan struct{}
}

type subscriber struct {
	id   string
	rv   uint64 // resourceVersion of last: an older object (a queued event) is ignored
	last *cluster.Run
	mu   sync.Mutex
	q    []cluster.Event
	wake chan struct{}
	done bool // the run ended: deliver what is queued, then close
}

func (a *Argo) track() *tracker {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tracker != nil {
		return a.tracker
	}
	lw := cache.NewFilteredListWatchFromClient(a.wf.ArgoprojV1alpha1().RESTClient(), "workflows", a.namespace,
		func(o *metav1.ListOptions) { o.LabelSelector = pipelinegen.LabelNotebook })
	t := &tracker{
		inf:    cache.NewSharedIndexInformer(lw, &wfv1.Workflow{}, 0, cache.Indexers{}),
		stop:   make(chan struct{}),
		subs:   map[string][]*subscriber{},
		synced: make(chan struct{}),
	}
	// The cache keeps what runs are made of, not how: templates (each
	// with its step's whole script) and managed fields are dropped, so
	// following hundreds of runs stays small.
	t.inf.SetTransform(func(obj any) (any, error) {
		if wf, ok := obj.(*wfv1.Workflow); ok {
			wf.ManagedFields = nil
			wf.Spec.Templates = nil
			wf.Status.StoredTemplates = nil
			wf.Status.StoredWorkflowSpec = nil
		}
		return obj, nil
	})
	t.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.changed(obj) },
		UpdateFunc: func(_, obj any) { t.changed(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if wf, ok := obj.(*wfv1.Workflow); ok {
				t.deleted(wf.Name)
			}
		},
	})
	go t.inf.Run(t.stop)
	go func() {
		cache.WaitForCacheSync(t.stop, t.inf.HasSynced)
		close(t.synced)
	}()
	a.tracker = t
	return t
}

// Close stops the backend's watch.
func (a *Argo) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tracker != nil {
		close(a.tracker.stop)
		a.tracker = nil
	}
}

func (t *tracker) changed(obj any) {
	wf, ok := obj.(*wfv1.Workflow)
	if !ok {
		return
	}
	t.mu.Lock()
	subs := append([]*subscriber(nil), t.subs[wf.Name]...)
	t.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	r, rv := toRun(wf), resourceVersion(wf)
	for _, s := range subs {
		s.update(r, rv)
	}
}

func (t *tracker) deleted(id string) {
	t.mu.Lock()
	subs := t.subs[id]
	t.mu.Unlock()
	for _, s := range subs {
		s.push(cluster.Event{Time: time.Now().UTC(), Run: id, Type: cluster.EventRun, Phase: cluster.Error, Message: "the run was deleted"}, true)
	}
}

// update queues the events that lead from the subscriber's last view of
// the run to r.
func (s *subscriber) update(r *cluster.Run, rv uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	if rv != 0 && rv <= s.rv {
		return
	}
	s.rv = rv
	prev := s.last
	s.last = r
	now := time.Now().UTC()
	if prev == nil {
		s.pushLocked(cluster.Event{Time: now, Run: r.ID, Type: cluster.EventRun, Phase: cluster.Pending,
			Message: fmt.Sprintf("run %s of %s: %d steps", r.ID, r.Notebook, len(r.Steps))}, false)
		prev = &cluster.Run{Phase: cluster.Pending}
	}
	old := map[string]cluster.StepStatus{}
	for _, st := range prev.Steps {
		old[st.Name] = st
	}
	for _, st := range r.Steps {
		o, seen := old[st.Name]
		if !seen {
			o = cluster.StepStatus{Phase: cluster.Pending}
		}
		if st.Phase != o.Phase || (st.Phase == cluster.Pending && st.Message != o.Message) {
			// A step that jumped from Pending straight to an end was seen
			// running by nobody: report the Running too, so every step's
			// history reads the same on every backend.
			if o.Phase == cluster.Pending && (st.Phase == cluster.Succeeded || st.Phase == cluster.Failed) {
				s.pushLocked(cluster.Event{Time: now, Run: r.ID, Type: cluster.EventStep, Step: st.Name, Phase: cluster.Running}, false)
			}
			s.pushLocked(cluster.Event{Time: now, Run: r.ID, Type: cluster.EventStep, Step: st.Name, Phase: st.Phase, Message: st.Message,
				Cached: st.Cached && st.Phase == cluster.Succeeded}, false)
		}
	}
	if r.Phase != prev.Phase && r.Phase != cluster.Pending {
		s.pushLocked(cluster.Event{Time: now, Run: r.ID, Type: cluster.EventRun, Phase: r.Phase, Message: r.Message}, r.Phase.Done())
	}
}

func (s *subscriber) push(ev cluster.Event, final bool) {
	s.mu.Lock()
	s.pushLocked(ev, final)
	s.mu.Unlock()
	s.signal()
}

// pushLocked queues an event; callers hold s.mu and signal afterwards.
func (s *subscriber) pushLocked(ev cluster.Event, final bool) {
	if !s.done {
		s.q = append(s.q, ev)
		s.done = final
	}
}

func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Watch streams a run's events until it ends: first its current state,
// then every change the namespace's watch sees.
func (a *Argo) Watch(ctx context.Context, id string) (<-chan cluster.Event, error) {
	t := a.track()
	select {
	case <-t.synced:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s := &subscriber{id: id, wake: make(chan struct{}, 1)}
	t.mu.Lock()
	t.subs[id] = append(t.subs[id], s)
	t.mu.Unlock()
	// The starting state comes from the API server, not the cache, which
	// may lag behind a change just made (a retry, a submit).
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		t.remove(s)
		return nil, a.explain("watch "+id, err)
	}
	s.update(toRun(wf), resourceVersion(wf))
	ch := make(chan cluster.Event, 16)
	go func() {
		defer close(ch)
		defer t.remove(s)
		for {
			s.mu.Lock()
			q, done := s.q, s.done
			s.q = nil
			s.mu.Unlock()
			for _, ev := range q {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
			if done {
				return
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// resourceVersion returns an object's resourceVersion as a number (etcd's
// revision, increasing), or 0 when it is not one.
func resourceVersion(wf *wfv1.Workflow) uint64 {
	n, err := strconv.ParseUint(wf.ResourceVersion, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func (t *tracker) remove(s *subscriber) {
	t.mu.Lock()
	defer t.mu.Unlock()
	subs := t.subs[s.id]
	for i, x := range subs {
		if x == s {
			t.subs[s.id] = append(subs[:i], subs[i+1:]...)
			break
		}
	}
	if len(t.subs[s.id]) == 0 {
		delete(t.subs, s.id)
	}
}
