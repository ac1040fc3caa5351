package argo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Annotations of a resumed run.
const (
	annotationResumedFrom = "datainsight.io/resumed-from"
	annotationReused      = "datainsight.io/reused"      // JSON: the steps whose outputs came from the resumed run
	annotationStepHashes  = "datainsight.io/step-hashes" // JSON: step -> hash of its compiled container and script
)

// A resumed run shares the earlier run's marshal volume; so does a cached
// one, on the notebook's own volume (marshal.pvc). A step is reused
// when it succeeded there with the same container and script (the script
// holds the step's cells, loads and saves), the same values of the
// parameters it reads, no file reads (files on the cluster cannot be
// checksummed from here) and only reused steps upstream. A reused step's
// pod hard-links the earlier outputs into the new run's folder instead of
// running the cells: the steps after it load them as usual.

// resumePlan is what a run takes from an earlier one.
type resumePlan struct {
	from   *wfv1.Workflow
	claim  string
	ours   bool // the claim was made by the backend (not the notebook's marshal.pvc)
	resume bool // --resume (else the cache)
	reused map[string]bool
	// In marshal mode "artifacts" (storecache.go): the run whose objects
	// each reused step takes, and the key prefix they are under.
	origins   map[string]string
	keyPrefix string
}

func (a *Argo) planResume(ctx context.Context, p *pipelinegen.Pipeline, fromID string, params map[string]string, wf *wfv1.Workflow) (*resumePlan, error) {
	old, err := a.workflows().Get(ctx, fromID, metav1.GetOptions{})
	if err != nil {
		return nil, a.explain("--resume "+fromID, err)
	}
	if !old.Status.Phase.Completed() {
		return nil, fmt.Errorf("--resume %s: %w", fromID, cluster.ErrNotFinished)
	}
	if old.Labels[pipelinegen.LabelNotebook] != p.NotebookID {
		return nil, fmt.Errorf("--resume %s: that run is of %s, not of %s", fromID, old.Annotations[pipelinegen.AnnotationNotebook], p.Notebook)
	}
	claim := marshalClaim(old)
	if claim == "" {
		return nil, fmt.Errorf("--resume %s: that run has no marshal volume", fromID)
	}
	pvc, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, claim, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) || err == nil && pvc.DeletionTimestamp != nil:
		return nil, fmt.Errorf("--resume %s: its marshal volume (claim %s) is gone: run without --resume", fromID, claim)
	case err != nil:
		return nil, a.explain("--resume "+fromID+": its marshal volume", err)
	}
	if m := p.Settings.Marshal; m != nil && m.PVC != "" && m.PVC != claim {
		return nil, fmt.Errorf("--resume %s: that run's values are on volume %s, the notebook now names %s: run without --resume", fromID, claim, m.PVC)
	}
	plan := planFrom(p, old, params, wf, true)
	plan.claim, plan.ours = claim, runsClaim(pvc, old)
	return plan, nil
}

// cacheCandidates bounds how many earlier runs a submit looks at.
const cacheCandidates = 20

// planCache finds the earlier run of the notebook whose outputs the new
// one can reuse most of. Only runs on a volume that outlives them and is
// shared by every run — the notebook's marshal.pvc — qualify: a run's own
// volume is not mounted by the next. Steps tagged cache:off always run.
func (a *Argo) planCache(ctx context.Context, p *pipelinegen.Pipeline, params map[string]string, wf *wfv1.Workflow) (*resumePlan, error) {
	m := p.Settings.Marshal
	if m == nil || m.PVC == "" {
		return nil, nil
	}
	list, err := a.workflows().List(ctx, metav1.ListOptions{LabelSelector: pipelinegen.LabelNotebook + "=" + p.NotebookID})
	if err != nil {
		return nil, a.explain("looking for cached steps", err)
	}
	runs := list.Items
	sort.Slice(runs, func(i, j int) bool { return runs[j].CreationTimestamp.Before(&runs[i].CreationTimestamp) })
	var best *resumePlan
	seen := 0
	for i := range runs {
		old := &runs[i]
		if !old.Status.Phase.Completed() || marshalClaim(old) != m.PVC {
			continue
		}
		if seen++; seen > cacheCandidates {
			break
		}
		if plan := planFrom(p, old, params, wf, false); best == nil || len(plan.reused) > len(best.reused) {
			best = plan
		}
	}
	if best == nil || len(best.reused) == 0 {
		return nil, nil
	}
	best.claim = m.PVC
	return best, nil
}

// planFrom decides which steps of the new run (wf, with its parameter
// values) can reuse the outputs of old. p.Steps is in dependency order:
// upstream steps are decided first.
func planFrom(p *pipelinegen.Pipeline, old *wfv1.Workflow, params map[string]string, wf *wfv1.Workflow, resume bool) *resumePlan {
	oldParams := map[string]string{}
	for _, prm := range old.Spec.Arguments.Parameters {
		if prm.Value != nil {
			oldParams[prm.Name] = prm.Value.String()
		}
	}
	oldScript, newScript := stepScripts(old), stepScripts(wf)
	// The hashes recorded at submit still describe a step that was linked
	// there (its template is the link's); runs from before they were
	// recorded are compared template by template.
	var oldHash map[string]string
	json.Unmarshal([]byte(old.Annotations[annotationStepHashes]), &oldHash)
	newHash := stepHashes(wf)
	oldTask := map[string]string{}
	for _, s := range stepPairs(old) {
		oldTask[s[0]] = s[1]
	}
	plan := &resumePlan{from: old, resume: resume, reused: map[string]bool{}}
	for _, s := range p.Steps {
		node := nodeFor(old, oldTask[s.Name])
		same := false
		if h, ok := oldHash[s.Name]; ok {
			same = h == newHash[s.Name]
		} else {
			// Semantic: quantities come back from the API server in their
			// canonical form ("0.5" as "500m").
			same = oldScript[s.Name] != nil && newScript[s.Name] != nil && apiequality.Semantic.DeepEqual(oldScript[s.Name], newScript[s.Name])
		}
		ok := node != nil && node.Phase == wfv1.NodeSucceeded && len(s.FileReads) == 0 &&
			(resume || !s.Settings.CacheOff) && same
		for _, prm := range s.Params {
			ok = ok && sameParameterValue(oldParams[prm], params[prm])
		}
		for _, up := range s.After {
			ok = ok && plan.reused[up]
		}
		if ok {
			plan.reused[s.Name] = true
		}
	}
	return plan
}

// sameParameterValue reports whether two parameter values are the same
// Python value. The earlier run's arguments hold them as
// pipelinegen.ArgoParameterValue wrote them ("$" as \x24, the "{" of "{{"
// as \x7b), the new run's values are as given: the same value is spelled
// differently. Values are compared as parsed, rendered one canonical way
// (a NaN is then the same as itself; 1 and 1.0, or a list and a tuple,
// stay different, as the step would see them).
func sameParameterValue(old, cur string) bool {
	if old == cur {
		return true
	}
	a, err := notebook.ParseLiteral(old)
	if err != nil {
		return false
	}
	b, err := notebook.ParseLiteral(cur)
	return err == nil && a.Type == b.Type && a.Python() == b.Python()
}

// stepHashes hashes each step's compiled container and script, as
// submitted (before the API server canonicalizes quantities).
func stepHashes(wf *wfv1.Workflow) map[string]string {
	m := map[string]string{}
	for s, t := range stepScripts(wf) {
		js, _ := json.Marshal(t)
		m[s] = pipelinegen.ShortHash(string(js))
	}
	return m
}

// stepScripts maps a workflow's steps to their script templates.
func stepScripts(wf *wfv1.Workflow) map[string]*wfv1.ScriptTemplate {
	m := map[string]*wfv1.ScriptTemplate{}
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		if s := pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations); s != "" && t.Script != nil {
			m[s] = t.Script
		}
	}
	return m
}

// apply makes wf the resumed run: on the earlier run's volume, with the
// reused steps' templates replaced by links to their earlier outputs.
func (plan *resumePlan) apply(wf *wfv1.Workflow) {
	if plan.keyPrefix != "" {
		plan.applyStore(wf)
		return
	}
	reused := plan.replaceReused(wf, func(t *wfv1.Template, step string) wfv1.Template {
		var mounts []corev1.VolumeMount
		for _, m := range t.Script.VolumeMounts {
			if m.Name == pipelinegen.MarshalVolume {
				mounts = append(mounts, m)
			}
		}
		// What linking needs: the step's image, volume and placement (it
		// goes where the step would, and where the steps after it will
		// follow it on a ReadWriteOnce volume), little CPU and memory, no
		// GPU, no retries.
		c := reuseContainer(t.Script.Image, "256Mi")
		c.VolumeMounts = mounts
		c.Env = []corev1.EnvVar{{Name: "DATAINSIGHT_RUN_ID", Value: "{{workflow.name}}"}}
		return wfv1.Template{
			Name:         t.Name,
			Metadata:     t.Metadata,
			Affinity:     t.Affinity,
			NodeSelector: t.NodeSelector,
			Tolerations:  t.Tolerations,
			Script:       &wfv1.ScriptTemplate{Container: c, Source: linkScript(plan.from.Name, step)},
		}
	})
	plan.markReused(wf, reused)
}

// replaceReused replaces the template of each step plan reuses with the
// one light makes of it, and returns those steps, in template order.
func (plan *resumePlan) replaceReused(wf *wfv1.Workflow, light func(t *wfv1.Template, step string) wfv1.Template) []string {
	var reused []string
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		step := pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations)
		if !plan.reused[step] || t.Script == nil {
			continue
		}
		reused = append(reused, step)
		*t = light(t, step)
	}
	return reused
}

// reuseContainer is the container of a reused step's pod, which computes
// nothing: the step's image, little CPU and memory, no GPU.
func reuseContainer(image, memoryLimit string) corev1.Container {
	return corev1.Container{
		Image:   image,
		Command: []string{"python3"},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memoryLimit)},
		},
	}
}

// markReused records on wf the steps it reuses, and the run it resumes.
func (plan *resumePlan) markReused(wf *wfv1.Workflow, reused []string) {
	js, _ := json.Marshal(reused)
	wf.Annotations[annotationReused] = string(js)
	if plan.resume {
		wf.Annotations[annotationResumedFrom] = plan.from.Name
	}
}

// linkScript links a step's folder of an earlier run into this run's (hard
// links: outputs are never modified in place, the runtime replaces files by
// rename).
func linkScript(from, step string) string {
	return fmt.Sprintf(`# Step %[2]s of this run reuses its outputs from run %[1]s (--resume, or the cache).
import os, shutil
src = os.path.join(%[3]s, %[4]s, %[5]s)
dst = os.path.join(%[3]s, os.environ["DATAINSIGHT_RUN_ID"], %[5]s)
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst, copy_function=os.link)
print("datainsight: step %[2]s reused from run %[1]s")
`, from, step, notebook.PyQuote(pipelinegen.MarshalMount), notebook.PyQuote(from), notebook.PyQuote(step))
}

// reusedSteps reads the steps a resumed run took from the earlier one.
func reusedSteps(wf *wfv1.Workflow) map[string]bool {
	var names []string
	json.Unmarshal([]byte(wf.Annotations[annotationReused]), &names)
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// runsClaim reports whether a claim belongs to runs (ours, or Argo's
// volumeClaimTemplate claim of wf) rather than to the notebook's author.
func runsClaim(pvc *corev1.PersistentVolumeClaim, wf *wfv1.Workflow) bool {
	if pvc.Labels[labelManagedBy] == managedBy && pvc.Labels[pipelinegen.LabelRun] != "" {
		return true
	}
	for _, o := range pvc.OwnerReferences {
		if o.UID == wf.UID {
			return true
		}
	}
	return false
}

// shareClaim makes wf one more owner of a claim: the volume goes when its
// last run is deleted.
func (a *Argo) shareClaim(ctx context.Context, claim string, wf *wfv1.Workflow) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pvc, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			return err
		}
		return a.setOwners(ctx, claim, pvc.ResourceVersion, append(pvc.OwnerReferences, workflowOwner(wf)))
	})
}
