package argo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

// A run in marshal mode "artifacts" has no volume: what its steps leave
// (log, report, metrics, values) is uploaded as artifacts to
// <prefix>/<run>/<step>/<file> in the bucket of its artifact repository,
// the layout of s3store. Once its pods are gone, logs and reports are read
// from there by this process itself, with no pod in the cluster.

// runKeyPrefix returns the key prefix under which a run's steps upload
// their files, as the run's own output artifacts say it (a later change
// of the backend's prefix does not lose earlier runs), and whether the run
// keeps its files in object storage at all.
func runKeyPrefix(wf *wfv1.Workflow) (string, bool) {
	if prefix, ok := wf.Annotations[annotationKeyPrefix]; ok {
		return prefix, true
	}
	const run = "{{workflow.name}}"
	for i := range wf.Spec.Templates {
		for _, art := range wf.Spec.Templates[i].Outputs.Artifacts {
			if art.S3 == nil || path.Base(art.Path) != pipelinegen.StepLog {
				continue
			}
			if strings.HasPrefix(art.S3.Key, run+"/") {
				return "", true
			}
			if prefix, _, ok := strings.Cut(art.S3.Key, "/"+run+"/"); ok {
				return prefix, true
			}
		}
	}
	return "", false
}

// openRunStore connects to the store a run keeps its files in: the bucket
// the backend is configured with, under the run's key prefix, with keys
// from the configuration or else from the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY), as s3store.Config.FromEnv reads them.
func (a *Argo) openRunStore(ctx context.Context, wf *wfv1.Workflow, prefix string) (*s3store.Store, error) {
	if a.opts.Store == nil {
		return nil, fmt.Errorf("run %s keeps its steps' files in its artifact repository (under %q), and this backend has no store configured to read them from (the repository's S3 endpoint and bucket)", wf.Name, prefix)
	}
	cfg := *a.opts.Store
	cfg.Prefix = prefix
	cfg, err := cfg.FromEnv(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("run %s: its store: %w", wf.Name, err)
	}
	s, err := s3store.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", wf.Name, err)
	}
	return s, nil
}

// readKept streams files a run's steps left (named run/step/file, as
// stepFile makes them) from wherever the run keeps them: its object store
// in artifacts mode, else its marshal volume. each gets a nil reader for a
// file that is not there, and must consume the reader.
func (a *Argo) readKept(ctx context.Context, wf *wfv1.Workflow, files []string, each func(file string, content io.Reader) error) error {
	prefix, ok := runKeyPrefix(wf)
	if !ok {
		return a.readVolume(ctx, wf, files, each)
	}
	store, err := a.openRunStore(ctx, wf, prefix)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := readStoreFile(ctx, store, f, each); err != nil {
			return err
		}
	}
	return nil
}

func readStoreFile(ctx context.Context, store *s3store.Store, file string, each func(string, io.Reader) error) error {
	parts := strings.Split(file, "/")
	if len(parts) != 3 {
		return fmt.Errorf("%s is not a file of a step of a run", file)
	}
	body, err := store.OpenFile(ctx, parts[0], parts[1], parts[2])
	if errors.Is(err, s3store.ErrNotFound) {
		return each(file, nil)
	}
	if err != nil {
		return fmt.Errorf("run %s: step %s: %w", parts[0], parts[1], err)
	}
	defer body.Close()
	return each(file, body)
}

// keptWhere says where a run keeps what its steps leave, for messages.
func (a *Argo) keptWhere(wf *wfv1.Workflow) string {
	prefix, ok := runKeyPrefix(wf)
	if !ok {
		return "on the run's volume"
	}
	if a.opts.Store == nil {
		return "in its artifact repository"
	}
	cfg := *a.opts.Store
	cfg.Prefix = prefix
	return "in " + cfg.Target()
}

// keptRun is the run under which a step's files are kept: in marshal mode
// "artifacts" a reused step's stay with the run that computed them.
func keptRun(wf *wfv1.Workflow, step string) string {
	if _, ok := runKeyPrefix(wf); ok && reusedSteps(wf)[step] {
		return linkedFrom(wf, step)
	}
	return wf.Name
}

// reusedOrigins maps each reused step of wf to the run that computed its
// outputs, as the step's script names it (see linkScript).
func reusedOrigins(wf *wfv1.Workflow) map[string]string {
	out := map[string]string{}
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		if t.Script == nil {
			continue
		}
		step := pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations)
		if m := linkedFromRE.FindStringSubmatch(t.Script.Source); m != nil && reusedSteps(wf)[step] {
			out[step] = m[1]
		}
	}
	return out
}

// deleteStored removes from the store what a finished run in marshal mode
// "artifacts" left there, before the run itself goes: a store that
// cannot be reached fails the delete and the run stays, so that nothing
// is left in the store that no run names. Outputs that later runs reuse
// (they point at the run that computed them) stay until the last of those
// runs is deleted, which removes them with its own. A backend with no
// store configured cannot reach the objects and leaves them, as Argo's
// own delete does.
func (a *Argo) deleteStored(ctx context.Context, wf *wfv1.Workflow) error {
	prefix, ok := runKeyPrefix(wf)
	if !ok || a.opts.Store == nil {
		return nil
	}
	opts := metav1.ListOptions{}
	if nb := wf.Labels[pipelinegen.LabelNotebook]; nb != "" {
		// Only runs of the same notebook reuse each other's steps.
		opts.LabelSelector = pipelinegen.LabelNotebook + "=" + nb
	}
	list, err := a.workflows().List(ctx, opts)
	if err != nil {
		return a.explain("delete "+wf.Name+": looking for runs that reuse its steps", err)
	}
	exists := map[string]bool{}
	readBy := map[string]map[string]bool{} // run -> its steps other runs reuse
	for i := range list.Items {
		other := &list.Items[i]
		if other.Name == wf.Name || other.DeletionTimestamp != nil {
			continue // a run being deleted has already let go of the store
		}
		if p, ok := runKeyPrefix(other); !ok || p != prefix {
			continue
		}
		exists[other.Name] = true
		for step, origin := range reusedOrigins(other) {
			if readBy[origin] == nil {
				readBy[origin] = map[string]bool{}
			}
			readBy[origin][step] = true
		}
	}
	store, err := a.openRunStore(ctx, wf, prefix)
	if err != nil {
		return fmt.Errorf("delete %s: %w (the run is kept)", wf.Name, err)
	}
	var keep []string
	for step := range readBy[wf.Name] {
		keep = append(keep, step)
	}
	if err := store.DeleteRun(ctx, wf.Name, keep...); err != nil {
		return fmt.Errorf("delete %s: its files in %s/%s: %w (the run is kept; delete it again once the store can be reached)", wf.Name, store.Config().Target(), wf.Name, err)
	}
	for step, origin := range reusedOrigins(wf) {
		if origin == wf.Name || exists[origin] || readBy[origin][step] {
			continue
		}
		if err := store.DeleteStep(ctx, origin, step); err != nil {
			return fmt.Errorf("delete %s: the outputs of its step %s kept for it in %s/%s: %w (the run is kept)", wf.Name, step, store.Config().Target(), origin, err)
		}
	}
	return nil
}
