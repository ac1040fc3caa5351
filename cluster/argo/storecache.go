package argo

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// In marshal mode "artifacts" the outputs of every run outlive it in the
// object store, keyed by run and step, so the cache needs no shared
// volume: a step whose earlier run qualifies by the rules of the volume
// cache (planFrom: same container and script, same values of the
// parameters it reads, no file reads, only reused steps upstream, not
// cache:off) is not run again. Its consumers are given the earlier run's
// objects instead of its own (key-only input artifacts, the rest of the
// location from the repository), and its pod only says so. The values
// stay where they were computed: nothing is copied, and a chain of reuses
// always points at the run that computed them.

// annotationKeyPrefix records the key prefix of a run in marshal mode
// "artifacts": a run all of whose steps are reused has no output
// artifacts left to read it from.
const annotationKeyPrefix = "datainsight.io/artifact-key-prefix"

// taskArtifactRE reads the task and artifact a DAG argument takes.
var taskArtifactRE = regexp.MustCompile(`^\{\{tasks\.([^.{}]+)\.outputs\.artifacts\.([^.{}]+)\}\}$`)

// planStoreCache finds the earlier run of the notebook, with the same key
// prefix, whose outputs the new run (wf) can reuse most of. With a store
// configured, a step whose outputs are no longer whole in the store (its
// manifest is gone) is not reused, nor are the steps after it.
func (a *Argo) planStoreCache(ctx context.Context, p *pipelinegen.Pipeline, params map[string]string, wf *wfv1.Workflow) (*resumePlan, error) {
	prefix, ok := runKeyPrefix(wf)
	if !ok {
		return nil, nil
	}
	list, err := a.workflows().List(ctx, metav1.ListOptions{LabelSelector: pipelinegen.LabelNotebook + "=" + p.NotebookID})
	if err != nil {
		return nil, a.explain("looking for cached steps", err)
	}
	// Opened once a run has something to reuse: the first run of a
	// notebook needs no store here.
	var store *s3store.Store
	openStore := func() (*s3store.Store, error) {
		if store == nil && a.opts.Store != nil {
			s, err := a.openRunStore(ctx, wf, prefix)
			if err != nil {
				return nil, fmt.Errorf("looking for cached steps: %w (or submit with --no-cache)", err)
			}
			store = s
		}
		return store, nil
	}
	runs := list.Items
	sort.Slice(runs, func(i, j int) bool { return runs[j].CreationTimestamp.Before(&runs[i].CreationTimestamp) })
	var best *resumePlan
	seen := 0
	for i := range runs {
		old := &runs[i]
		if oldPrefix, ok := runKeyPrefix(old); !ok || oldPrefix != prefix || !old.Status.Phase.Completed() {
			continue
		}
		if seen++; seen > cacheCandidates {
			break
		}
		plan := planFrom(p, old, params, wf, false)
		plan.origins = map[string]string{}
		oldReused := reusedSteps(old)
		for s := range plan.reused {
			plan.origins[s] = old.Name
			if oldReused[s] {
				plan.origins[s] = linkedFrom(old, s)
			}
		}
		if len(plan.reused) == 0 {
			continue
		}
		store, err := openStore()
		if err != nil {
			return nil, err
		}
		if store != nil {
			if err := plan.dropMissing(ctx, store, p); err != nil {
				return nil, fmt.Errorf("looking for cached steps in run %s: %w", old.Name, err)
			}
		}
		if best == nil || len(plan.reused) > len(best.reused) {
			best = plan
		}
	}
	if best == nil || len(best.reused) == 0 {
		return nil, nil
	}
	best.keyPrefix = prefix
	return best, nil
}

// dropMissing takes back the reuse of steps whose outputs are not whole in
// the store any more, and of the steps after them (p.Steps is in
// dependency order).
func (plan *resumePlan) dropMissing(ctx context.Context, store *s3store.Store, p *pipelinegen.Pipeline) error {
	for _, s := range p.Steps {
		if !plan.reused[s.Name] {
			continue
		}
		keep := true
		for _, up := range s.After {
			keep = keep && plan.reused[up]
		}
		if keep && len(s.Outs) > 0 {
			_, err := store.Manifest(ctx, plan.origins[s.Name], s.Name)
			switch {
			case errors.Is(err, s3store.ErrNotFound) || errors.Is(err, s3store.ErrIncomplete):
				keep = false
			case err != nil:
				return err
			}
		}
		if !keep {
			delete(plan.reused, s.Name)
			delete(plan.origins, s.Name)
		}
	}
	return nil
}

// applyStore makes wf reuse the planned steps' outputs where they are in
// the store.
func (plan *resumePlan) applyStore(wf *wfv1.Workflow) {
	tmpls := map[string]*wfv1.Template{}
	for i := range wf.Spec.Templates {
		tmpls[wf.Spec.Templates[i].Name] = &wf.Spec.Templates[i]
	}
	// task -> output artifact -> the key its object is at in the run that
	// computed it.
	keys := map[string]map[string]string{}
	for _, t := range wf.Spec.Templates {
		if t.DAG == nil {
			continue
		}
		for _, task := range t.DAG.Tasks {
			tm := tmpls[task.Template]
			if tm == nil {
				continue
			}
			step := pipelinegen.StepName(tm.Metadata.Labels, tm.Metadata.Annotations)
			if !plan.reused[step] {
				continue
			}
			keys[task.Name] = map[string]string{}
			for _, art := range tm.Outputs.Artifacts {
				keys[task.Name][art.Name] = path.Join(plan.keyPrefix, plan.origins[step], step, path.Base(art.Path))
			}
		}
	}
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		if t.DAG == nil {
			continue
		}
		for j := range t.DAG.Tasks {
			args := t.DAG.Tasks[j].Arguments.Artifacts
			for k := range args {
				m := taskArtifactRE.FindStringSubmatch(args[k].From)
				if m == nil {
					continue
				}
				if key, ok := keys[m[1]][m[2]]; ok {
					args[k].From = ""
					args[k].ArtifactLocation = wfv1.ArtifactLocation{S3: &wfv1.S3Artifact{Key: key}}
				}
			}
		}
	}
	reused := plan.replaceReused(wf, func(t *wfv1.Template, step string) wfv1.Template {
		// Nothing to fetch or compute: little CPU and memory, no GPU, no
		// retries, no artifacts; where the step would have gone.
		return wfv1.Template{
			Name:         t.Name,
			Metadata:     t.Metadata,
			NodeSelector: t.NodeSelector,
			Tolerations:  t.Tolerations,
			Script: &wfv1.ScriptTemplate{
				Container: reuseContainer(t.Script.Image, "128Mi"),
				Source:    storeReuseScript(plan.origins[step], step),
			},
		}
	})
	sort.Strings(reused)
	plan.markReused(wf, reused)
}

// storeReuseScript is the pod of a reused step: its words are what
// linkedFromRE reads the origin from.
func storeReuseScript(origin, step string) string {
	return fmt.Sprintf("# Step %[2]s of this run reuses its outputs from run %[1]s (the cache, in object storage): its consumers read them there.\nprint(%[3]s)\n",
		origin, step, notebook.PyQuote("datainsight: step "+step+" reused from run "+origin))
}
