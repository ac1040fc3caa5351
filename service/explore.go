package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/cluster/argo"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/pipelinegen"
)

// ErrUnknownStep: a run has no step of that name (the message lists the
// steps it has).
var ErrUnknownStep = errors.New("no such step")

// ErrNotLocal: what was asked needs a local run's records, which a run on
// a cluster does not leave here.
var ErrNotLocal = errors.New("only local runs keep their values here")

// StepInputs are what one step of a past local run loaded: the values it
// was given and the parameters it read, with where each value is.
type StepInputs struct {
	Run  *cluster.Run
	Step string
	// Root is the marshal root of the run: values live at
	// Root/<run>/<producer step>/, each producer folder with its
	// manifest.json (see pipelinegen/runtime).
	Root string
	// Inputs are the values the step loaded, by name.
	Inputs []StepInput
	// Params are the pipeline parameters the step used and their values
	// in the run, as Python literals.
	Params []StepParam
	// Temporary says Root is a folder made for these inputs (fetched from
	// object storage), for whoever loads them to remove.
	Temporary bool
}

// StepInput is one value a step loaded.
type StepInput struct {
	Name     string
	Producer string
	// Dir is the producer's folder in the run: its manifest and values.
	Dir string
	// Unavailable says why the value cannot be loaded, when the run's
	// records already tell (its producer failed, or never ran); "" when
	// it may be. A value file removed since is found out when loading.
	Unavailable string
}

// StepParam is one parameter a step used.
type StepParam struct {
	Name    string
	Type    string
	Literal string // its value in the run, a Python literal
}

// pipelineFile is where a local run records the pipeline it ran (see
// cluster/local).
const pipelineFile = "pipeline.json"

// StepInputs returns what step of the local run id loaded.
func (s *Service) StepInputs(ctx context.Context, at Place, id, step string) (*StepInputs, error) {
	b, lb, err := s.backend(at)
	if err != nil {
		return nil, err
	}
	if lb == nil {
		if a, ok := b.(*argo.Argo); ok {
			return s.storeStepInputs(ctx, a, id, step)
		}
		return nil, ErrNotLocal
	}
	r, err := b.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	root := lb.l.Dir
	data, err := os.ReadFile(filepath.Join(root, r.ID, pipelineFile))
	if err != nil {
		return nil, fmt.Errorf("run %s: its pipeline: %w", id, err)
	}
	var p pipelinegen.Pipeline
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("run %s: its pipeline: %w", id, err)
	}
	st := p.Step(step)
	if st == nil {
		names := make([]string, 0, len(p.Steps))
		for _, s := range p.Steps {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("%w %q in run %s (it has: %s)", ErrUnknownStep, step, id, strings.Join(names, ", "))
	}
	phases := map[string]cluster.StepStatus{}
	for _, ss := range r.Steps {
		phases[ss.Name] = ss
	}
	out := &StepInputs{Run: r, Step: step, Root: root}
	for name, producer := range st.Ins {
		in := StepInput{Name: name, Producer: producer, Dir: filepath.Join(root, r.ID, producer)}
		switch ps, ok := phases[producer]; {
		case !ok:
			in.Unavailable = fmt.Sprintf("step %s, which saves it, is not in the run's record", producer)
		case ps.Phase == cluster.Succeeded:
		case ps.Phase == cluster.Pending || ps.Phase == cluster.Running:
			// It may yet save it; the manifest says whether it has.
		default:
			in.Unavailable = fmt.Sprintf("step %s, which saves it, ended %s", producer, ps.Phase)
			if ps.Message != "" {
				in.Unavailable += ": " + ps.Message
			}
		}
		out.Inputs = append(out.Inputs, in)
	}
	sort.Slice(out.Inputs, func(i, j int) bool { return out.Inputs[i].Name < out.Inputs[j].Name })
	types := map[string]string{}
	for _, prm := range p.Parameters {
		types[prm.Name] = prm.Type
	}
	for _, name := range st.Params {
		lit, ok := r.Parameters[name]
		if !ok {
			for _, prm := range p.Parameters {
				if prm.Name == name {
					lit, ok = prm.Default, true
				}
			}
		}
		if !ok {
			continue
		}
		out.Params = append(out.Params, StepParam{Name: name, Type: types[name], Literal: lit})
	}
	sort.Slice(out.Params, func(i, j int) bool { return out.Params[i].Name < out.Params[j].Name })
	return out, nil
}

// storeStepInputs fetches what step of an Argo run in marshal mode
// artifacts loaded, from the run's object store into a temporary folder.
// Every step of an Argo run is given every parameter.
func (s *Service) storeStepInputs(ctx context.Context, a *argo.Argo, id, step string) (*StepInputs, error) {
	root, err := os.MkdirTemp("", "datainsight-explore-")
	if err != nil {
		return nil, err
	}
	r, ins, err := a.FetchStepInputs(ctx, id, step, root, s3store.TransferOptions{})
	if err != nil {
		os.RemoveAll(root)
		switch {
		case errors.Is(err, argo.ErrUnknownStep):
			return nil, fmt.Errorf("%w: %v", ErrUnknownStep, err)
		case errors.Is(err, argo.ErrNotInStore):
			return nil, fmt.Errorf("%w: run %s: %v", ErrNotLocal, id, err)
		}
		return nil, err
	}
	out := &StepInputs{Run: r, Step: step, Root: root, Temporary: true}
	for _, in := range ins {
		out.Inputs = append(out.Inputs, StepInput{Name: in.Name, Producer: in.Producer, Dir: in.Dir, Unavailable: in.Unavailable})
	}
	for name, lit := range r.Parameters {
		out.Params = append(out.Params, StepParam{Name: name, Literal: lit})
	}
	sort.Slice(out.Params, func(i, j int) bool { return out.Params[i].Name < out.Params[j].Name })
	return out, nil
}
