package argo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

// Exploring a step of a finished run means loading, in a kernel, the
// values the step loaded. A run in marshal mode "artifacts" has no folder
// to load them from: they are fetched from its store into one, in the
// layout the step runtime's loaders read (a folder per producer with its
// manifest). What a step loaded is read from its own template, whose input
// artifacts are the values it loads, at <producer>/<name>.artifact; the
// workflow does not keep the compiled pipeline.

// Errors of FetchStepInputs callers branch on.
var (
	ErrUnknownStep = errors.New("no such step")
	// ErrNotInStore is the error for a run that keeps its values on a
	// volume (marshal mode pvc): they are read in the cluster, not
	// fetched.
	ErrNotInStore = errors.New("the run keeps its values on a volume, not in object storage")
)

// StepInput is one value a step loaded, as FetchStepInputs found it.
type StepInput struct {
	Name     string
	Producer string
	// Run is the run whose store folder the value came from: the run
	// itself, or for a reused producer the run that computed it.
	Run string
	// Dir is the folder the producer's manifest and this value were
	// fetched into; "" when Unavailable.
	Dir string
	// Unavailable says why the value could not be fetched: its producer
	// failed, its outputs are not whole in the store, ...
	Unavailable string
}

// FetchStepInputs downloads the values step of run id loaded from the
// run's store into root, at root/<run that computed it>/<producer>/, each
// producer's manifest with them, and returns the run and the inputs
// sorted by name. A value that cannot be had is an input with
// Unavailable set, not an error: the others are still worth loading.
// Errors are for the run or step not being there (cluster.ErrNotFound,
// ErrUnknownStep), a run whose values are on a volume (ErrNotInStore), and
// a store that cannot be opened.
func (a *Argo) FetchStepInputs(ctx context.Context, id, step, root string, opts s3store.TransferOptions) (*cluster.Run, []StepInput, error) {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return nil, nil, a.explain("run "+id, err)
	}
	if wf.Labels[pipelinegen.LabelNotebook] == "" {
		return nil, nil, fmt.Errorf("run %s: %w (workflow %s was not made by datainsight)", id, cluster.ErrNotFound, id)
	}
	run := toRun(wf)
	prefix, ok := runKeyPrefix(wf)
	if !ok {
		return nil, nil, fmt.Errorf("run %s: %w", id, ErrNotInStore)
	}
	if run.Step(step) == nil {
		var names []string
		for _, s := range run.Steps {
			names = append(names, s.Name)
		}
		return nil, nil, fmt.Errorf("%w %q in run %s (it has: %s)", ErrUnknownStep, step, id, strings.Join(names, ", "))
	}
	// A reused step's own template loads nothing: what it loaded is in
	// the template of the run that computed it, with that run's
	// producers.
	from := wf
	if origin, ok := reusedOrigins(wf)[step]; ok {
		if from, err = a.workflows().Get(ctx, origin, metav1.GetOptions{}); err != nil {
			return nil, nil, a.explain(fmt.Sprintf("run %s: step %s was reused from run %s", id, step, origin), err)
		}
	}
	loads := stepLoads(from, step)
	if len(loads) == 0 {
		return run, []StepInput{}, nil
	}
	store, err := a.openRunStore(ctx, wf, prefix)
	if err != nil {
		return nil, nil, err
	}
	origins := reusedOrigins(from)
	status := map[string]cluster.StepStatus{}
	for _, s := range toRun(from).Steps {
		status[s.Name] = s
	}
	var inputs []StepInput
	producers := slices.Sorted(maps.Keys(loads))
	for _, producer := range producers {
		names := loads[producer]
		kept := from.Name
		if o, ok := origins[producer]; ok {
			kept = o
		}
		why := ""
		switch ps, ok := status[producer]; {
		case !ok:
			why = fmt.Sprintf("step %s, which saves it, is not in run %s", producer, from.Name)
		case ps.Phase != cluster.Succeeded:
			why = fmt.Sprintf("step %s, which saves it, ended %s", producer, ps.Phase)
			if ps.Message != "" {
				why += ": " + ps.Message
			}
		}
		dir := filepath.Join(root, kept, producer)
		if why == "" {
			if _, err := store.GetStep(ctx, kept, producer, dir, names, opts); err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				why = err.Error()
			}
		}
		for _, n := range names {
			in := StepInput{Name: n, Producer: producer, Run: kept, Dir: dir, Unavailable: why}
			if why != "" {
				in.Dir = ""
			}
			inputs = append(inputs, in)
		}
	}
	sort.Slice(inputs, func(i, j int) bool { return inputs[i].Name < inputs[j].Name })
	return run, inputs, nil
}

// stepLoads reads from the template of step in wf the values it loads,
// by producer: its input artifacts at <producer>/<name>.artifact (a
// path, unlike an artifact's name, carries any value name).
func stepLoads(wf *wfv1.Workflow, step string) map[string][]string {
	out := map[string][]string{}
	for i := range wf.Spec.Templates {
		t := &wf.Spec.Templates[i]
		if t.Script == nil || pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations) != step {
			continue
		}
		for _, art := range t.Inputs.Artifacts {
			name, ok := strings.CutSuffix(path.Base(art.Path), s3store.ArtifactSuffix)
			if !ok {
				continue
			}
			producer := path.Base(path.Dir(art.Path))
			out[producer] = append(out[producer], name)
		}
	}
	for p := range out {
		sort.Strings(out[p])
	}
	return out
}
