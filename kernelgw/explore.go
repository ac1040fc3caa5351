package kernelgw

import (
	"context"
	"errors"
	"os"
	"sort"

	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/service"
)

// ExploreParams are explore's params.
type ExploreParams struct {
	Run    string `json:"run" doc:"A past run of the notebook: a local one, or an Argo one in marshal mode artifacts (backend argo)."`
	Step   string `json:"step" doc:"The step of that run whose inputs to load."`
	Kernel string `json:"kernel,omitempty" doc:"The id of a running kernel of the sidecar's Jupyter server (the notebook's own kernel), where the values are bound. Omitted, the result's code is for the caller to run in its own namespace instead: the kernel-side magic, whose kernel cannot take a request of the sidecar's while it runs the magic's cell."`
	Path   string `json:"path,omitempty" doc:"The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs)."`
	// An Argo run's values are fetched from its object store (marshal
	// mode artifacts, with the sidecar's artifact store configured).
	Backend Backend `json:"backend,omitempty" doc:"The run's backend (default local). An Argo run's step inputs are fetched from its object store: marshal mode artifacts, with the sidecar's artifact store configured."`
}

// Explored is a name explore bound in the kernel.
type Explored struct {
	Name   string `json:"name" doc:"The name bound in the kernel's namespace."`
	Type   string `json:"type" doc:"The value's type, e.g. pandas.core.frame.DataFrame."`
	Source string `json:"source" doc:"Where it came from: the step that saved it (\"step load\"), or \"parameter\"."`
	Bytes  int64  `json:"bytes,omitempty" doc:"The size of the file the value was loaded from (for values saved together, of their shared file)."`
	Length *int64 `json:"length,omitempty" doc:"len() of the value, where it has one."`
	Shape  []int  `json:"shape,omitempty" doc:"The value's shape (arrays, data frames, tensors)."`
}

// Unavailable is an input explore could not load.
type Unavailable struct {
	Name   string `json:"name" doc:"The input's name (not bound: the kernel's value of that name, if any, is left as it was)."`
	Source string `json:"source" doc:"The step that should have saved it, or \"parameter\"."`
	Reason string `json:"reason" doc:"Why it could not be loaded: its producer failed, its file was removed, ..."`
}

// ExploreResult says what explore bound in the kernel.
type ExploreResult struct {
	Run         string        `json:"run" doc:"The run the values are of."`
	Step        string        `json:"step" doc:"The step whose inputs they are."`
	Bound       []Explored    `json:"bound" doc:"The names bound in the kernel's namespace: the step's inputs, then its parameters."`
	Unavailable []Unavailable `json:"unavailable" doc:"The inputs that could not be loaded, and why."`
	KernelCode
}

// KernelCode is, for a call without a kernel, the Python code the caller
// runs in its own namespace, and how to find its answer.
type KernelCode struct {
	Code   string `json:"code,omitempty" doc:"Without kernel: Python code to run in the caller's namespace (with nothing of its own left there); it prints the rest of this result as JSON on a line starting with marker."`
	Marker string `json:"marker,omitempty" doc:"Without kernel: what the answer's line starts with."`
}

// exploreMarker starts the line the explore snippet prints its answer on.
const exploreMarker = "__datainsight_explore__ "

// runtimeLoader is the start of code run in the kernel that needs the
// step runtime: it is loaded from the source sent (the kernel may not
// share the sidecar's file system) into a module kept in sys.modules under
// a name that carries its hash, so that it is loaded once.
const runtimeLoader = `
import sys, json, types
mod = sys.modules.get(MODNAME)
if mod is None:
    mod = types.ModuleType(MODNAME)
    mod.__file__ = "<datainsight runtime>"
    sys.modules[MODNAME] = mod
    try:
        exec(compile(SOURCE, "<datainsight runtime>", "exec"), mod.__dict__)
    except BaseException:
        del sys.modules[MODNAME]
        raise
try:
    from IPython import get_ipython
    ns = get_ipython().user_ns
except Exception:
    ns = sys.modules["__main__"].__dict__
`

// exploreCode loads the values a step loaded, as the step did (the
// runtime's loaders; values saved together loaded together, so that they
// share their objects again), and binds them in the user's namespace with
// the step's parameters. Only the inputs' names are bound there: its own
// names live in the dict exec is given. INPUTS holds [name, producer,
// folder, why unavailable], PARAMS [name, Python literal].
const exploreCode = runtimeLoader + `
import ast, os
out = {"bound": [], "unavailable": []}

def _describe(name, value, source, size):
    d = {"name": name, "type": mod._type_label(value), "source": source}
    if size:
        d["bytes"] = size
    try:
        if not isinstance(value, type) and hasattr(type(value), "__len__"):
            d["length"] = int(len(value))
    except Exception:
        pass
    try:
        shape = getattr(value, "shape", None)
        if not isinstance(value, type) and shape is not None:
            shape = [int(n) for n in tuple(shape)]
            d["shape"] = shape
    except Exception:
        pass
    return d

_manifests, _groups, _loaded = {}, {}, []
for name, producer, directory, why in INPUTS:
    source = "step " + producer
    if why:
        out["unavailable"].append({"name": name, "source": source, "reason": why})
        continue
    try:
        if directory not in _manifests:
            try:
                _manifests[directory] = mod.read_manifest(directory)
            except FileNotFoundError:
                raise mod.MarshalError("%s does not exist: step %s did not finish saving its outputs"
                                       % (os.path.join(directory, mod.MANIFEST), producer)) from None
        values = _manifests[directory].get("values", {})
        if name not in values:
            raise mod.MarshalError("step %s did not save %r (it saved: %s)"
                                   % (producer, name, ", ".join(sorted(values)) or "nothing"))
        entry = values[name]
        group = entry.get("group")
        if group:
            key = (directory, group)
            if key not in _groups:
                _groups[key] = mod.load_group(directory, name, entry)
            if name not in _groups[key]:
                raise mod.MarshalError("%s does not hold %r, although the manifest says so"
                                       % (os.path.join(directory, entry["file"]), name))
            value = _groups[key][name]
        else:
            value = mod.load_value(directory, name, entry)
    except mod.MarshalError as e:
        out["unavailable"].append({"name": name, "source": source, "reason": str(e)})
        continue
    except Exception as e:
        out["unavailable"].append({"name": name, "source": source, "reason": "cannot load it: %s: %s" % (type(e).__name__, e)})
        continue
    _loaded.append((name, value, source, entry.get("size")))

for name, literal in PARAMS:
    try:
        value = ast.literal_eval(literal.strip())
    except Exception as e:
        out["unavailable"].append({"name": name, "source": "parameter", "reason": "its value %r is not a Python literal: %s" % (literal, e)})
        continue
    _loaded.append((name, value, "parameter", None))

# Bound only once everything that could be loaded is: a load that fails
# half way leaves the namespace as it was for that name.
for name, value, source, size in _loaded:
    if name in mod.RNG_STATES:
        try:
            mod.set_rng_state(name, value)  # a generator's state: set, never bound
        except Exception as e:
            out["unavailable"].append({"name": name, "source": source, "reason": "cannot set it: %s: %s" % (type(e).__name__, e)})
            continue
        out["bound"].append({"name": name, "type": "random generator state", "source": source})
        continue
    ns[name] = value
    out["bound"].append(_describe(name, value, source, size))
del _loaded, _groups, _manifests
if CLEANUP:
    import shutil
    shutil.rmtree(CLEANUP, ignore_errors=True)  # loaded values (even memory-mapped ones) outlive their files
print(MARKER + json.dumps(out))
`

func (s *Sidecar) explore(ctx context.Context, _ *rpc.Conn, p ExploreParams) (ExploreResult, error) {
	if s.jupyter == nil && p.Kernel != "" {
		return ExploreResult{}, rpc.Errorf(rpc.CodeFailed, "explore needs the Jupyter server the kernels run in: start serve with --jupyter-url (and --jupyter-token)")
	}
	switch {
	case p.Run == "":
		return ExploreResult{}, rpc.FieldError("run", "required: a run id")
	case p.Step == "":
		return ExploreResult{}, rpc.FieldError("step", "required: a step of the run")
	}
	backend := p.Backend
	if backend == "" {
		backend = Backend(service.BackendLocal)
	}
	at, err := s.place(p.Path, backend)
	if err != nil {
		return ExploreResult{}, err
	}
	in, err := s.svc.StepInputs(ctx, at, p.Run, p.Step)
	switch {
	case errors.Is(err, service.ErrNotFound):
		return ExploreResult{}, &rpc.Error{Code: rpc.CodeNotFound, Message: "field \"run\": " + err.Error(), Data: map[string]string{"field": "run"}}
	case errors.Is(err, service.ErrUnknownStep):
		return ExploreResult{}, &rpc.Error{Code: rpc.CodeNotFound, Message: "field \"step\": " + err.Error(), Data: map[string]string{"field": "step"}}
	case err != nil:
		return ExploreResult{}, rpcError(err)
	}
	inputs := make([][]string, 0, len(in.Inputs))
	for _, i := range in.Inputs {
		inputs = append(inputs, []string{i.Name, i.Producer, i.Dir, i.Unavailable})
	}
	params := make([][]string, 0, len(in.Params))
	for _, prm := range in.Params {
		params = append(params, []string{prm.Name, prm.Literal})
	}
	// A folder fetched for the purpose goes once its values are loaded,
	// by the code that loads them (run later, where there is no kernel).
	cleanup := ""
	if in.Temporary {
		cleanup = in.Root
	}
	code, err := runtimeSnippet(exploreCode, "_datainsight_explore", map[string]any{
		"INPUTS": inputs, "PARAMS": params, "MARKER": exploreMarker, "CLEANUP": cleanup,
	})
	if err != nil {
		if cleanup != "" {
			os.RemoveAll(cleanup)
		}
		return ExploreResult{}, err
	}
	res := ExploreResult{Run: in.Run.ID, Step: p.Step}
	if p.Kernel == "" {
		res.Bound, res.Unavailable = []Explored{}, []Unavailable{}
		res.Code, res.Marker = code, exploreMarker
		return res, nil
	}
	if cleanup != "" {
		defer os.RemoveAll(cleanup) // the code removes it too, unless it failed first
	}
	if err := s.kernelAnswer(ctx, p.Kernel, "explore", code, exploreMarker, &res); err != nil {
		return ExploreResult{}, err
	}
	res.Run, res.Step = in.Run.ID, p.Step
	if res.Bound == nil {
		res.Bound = []Explored{}
	}
	if res.Unavailable == nil {
		res.Unavailable = []Unavailable{}
	}
	sort.SliceStable(res.Unavailable, func(i, j int) bool { return res.Unavailable[i].Name < res.Unavailable[j].Name })
	return res, nil
}
