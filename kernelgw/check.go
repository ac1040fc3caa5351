package kernelgw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/datainsight/datainsight/kernelgw/jupyter"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/pipelinegen"
)

// CheckParams are check's params.
type CheckParams struct {
	NotebookParams
	Kernel string `json:"kernel,omitempty" doc:"The id of a running kernel of the sidecar's Jupyter server (the notebook's own kernel), whose values are checked. Omitted, the result's code is for the caller to run in its own namespace instead (the kernel-side magic)."`
}

// Unsavable is a value that a step outputs and that the marshalling
// runtime cannot save.
type Unsavable struct {
	Name   string `json:"name" doc:"The variable's name."`
	Type   string `json:"type" doc:"Its type in the kernel, e.g. _io.TextIOWrapper."`
	Step   string `json:"step" doc:"The step that outputs it."`
	Reason string `json:"reason" doc:"Why it cannot be passed between steps, and what to do instead."`
}

// CheckResult lists the outputs that could not be passed between steps.
type CheckResult struct {
	Unsavable []Unsavable `json:"unsavable" doc:"Outputs, present in the kernel, that the runtime cannot save (empty when all can be)."`
	Checked   int         `json:"checked" doc:"How many outputs were present in the kernel and checked."`
	Missing   []string    `json:"missing" doc:"Outputs not defined in the kernel (their cells have not run), which were not checked."`
	KernelCode
}

// checkMarker starts the line the snippet prints its answer on.
const checkMarker = "__datainsight_check__ "

// checkTimeout bounds the execution in the user's kernel (which may be busy
// with a cell of the user's: the check waits behind it).
const checkTimeout = 2 * time.Minute

// checkCode runs in the user's kernel, after the runtime's loader.
// Everything it binds lives in the dict exec is given: the user's
// namespace is read, never written.
const checkCode = runtimeLoader + `
out = {"unsavable": [], "checked": 0, "missing": []}
for name, step in OUTS:
    if name not in ns:
        out["missing"].append(name)
        continue
    value = ns[name]
    out["checked"] += 1
    try:
        reason = mod._unsavable_reason(value)
    except Exception as e:
        reason = "cannot be inspected: %s: %s" % (type(e).__name__, e)
    if reason:
        out["unsavable"].append({"name": name, "type": mod._type_label(value), "step": step, "reason": reason})
    del value
print(MARKER + json.dumps(out))
`

// checkSnippet is the code sent to the kernel: checkCode run by exec in a
// private dict, so that no name is left in the user's namespace.
func checkSnippet(outs [][2]string) (string, error) {
	return runtimeSnippet(checkCode, "_datainsight_check", map[string]any{"OUTS": outs, "MARKER": checkMarker})
}

// runtimeSnippet is code to send to the kernel that runs code by exec in
// a private dict named name, with vars bound there (JSON values: strings,
// lists, numbers, booleans as Python literals) and with MODNAME and SOURCE
// naming the step runtime and giving its source.
func runtimeSnippet(code, name string, vars map[string]any) (string, error) {
	src := pipelinegen.RuntimeSource()
	sum := sha256.Sum256(src)
	all := map[string]any{
		"MODNAME": "_datainsight_runtime_" + hex.EncodeToString(sum[:6]),
		"SOURCE":  string(src),
	}
	for k, v := range vars {
		all[k] = v
	}
	return privateSnippet(code, name, all)
}

// privateSnippet is code that runs code by exec in a private dict named
// name, with vars bound there, so that nothing is left in the namespace
// it runs in (the user's, in a kernel).
func privateSnippet(code, name string, vars map[string]any) (string, error) {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("exec(")
	c, _ := json.Marshal(code)
	b.Write(c)
	n, _ := json.Marshal(name)
	fmt.Fprintf(&b, ", {\"__builtins__\": __builtins__, \"__name__\": %s", n)
	for _, k := range names {
		// JSON strings, lists and numbers are Python literals too (vars
		// hold no booleans or nulls, which are not).
		v, err := json.Marshal(vars[k])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, ", %q: %s", k, v)
	}
	b.WriteString("})\n")
	return b.String(), nil
}

func (s *Sidecar) check(ctx context.Context, _ *rpc.Conn, p CheckParams) (CheckResult, error) {
	if s.jupyter == nil && p.Kernel != "" {
		return CheckResult{}, rpc.Errorf(rpc.CodeFailed, "check needs the Jupyter server the kernels run in: start serve with --jupyter-url (and --jupyter-token)")
	}
	src, err := s.source(p.NotebookParams, false)
	if err != nil {
		return CheckResult{}, err
	}
	a, err := s.svc.Analyze(ctx, src)
	if err != nil {
		return CheckResult{}, rpcError(err)
	}
	outs := [][2]string{}
	for _, st := range a.Analysis.Steps {
		for _, o := range st.Outs {
			outs = append(outs, [2]string{o, st.Name})
		}
	}
	res := CheckResult{Unsavable: []Unsavable{}, Missing: []string{}}
	if len(outs) == 0 {
		return res, nil
	}
	code, err := checkSnippet(outs)
	if err != nil {
		return CheckResult{}, err
	}
	if p.Kernel == "" {
		res.Code, res.Marker = code, checkMarker
		return res, nil
	}
	if err := s.kernelAnswer(ctx, p.Kernel, "the check", code, checkMarker, &res); err != nil {
		return CheckResult{}, err
	}
	if res.Unsavable == nil {
		res.Unsavable = []Unsavable{}
	}
	if res.Missing == nil {
		res.Missing = []string{}
	}
	return res, nil
}

// kernelAnswer runs code in the kernel id (silently: it is not counted
// in the kernel's history) and decodes into out the JSON that code
// printed on a line starting with marker; what names the code in errors.
func (s *Sidecar) kernelAnswer(ctx context.Context, id, what, code, marker string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	k, err := s.jupyter.Connect(ctx, id)
	if err != nil {
		return kernelError(id, what, err)
	}
	defer k.Close()
	res, err := k.Execute(ctx, code, &jupyter.ExecuteOptions{Silent: true})
	if err != nil {
		return kernelError(id, what, err)
	}
	var line string
	for _, l := range strings.Split(res.Stdout(), "\n") {
		if rest, ok := strings.CutPrefix(l, marker); ok {
			line = rest
		}
	}
	if line == "" {
		return rpc.Errorf(rpc.CodeFailed, "kernel %s: %s printed no answer", id, what)
	}
	if err := json.Unmarshal([]byte(line), out); err != nil {
		return rpc.Errorf(rpc.CodeFailed, "kernel %s: %s's answer: %v", id, what, err)
	}
	return nil
}

// kernelError gives errors about the user's kernel the codes clients
// branch on; what names the code that ran.
func kernelError(id, what string, err error) error {
	var ee *jupyter.ExecError
	switch {
	case errors.Is(err, jupyter.ErrKernelNotFound), errors.Is(err, jupyter.ErrKernelLost):
		return &rpc.Error{Code: rpc.CodeNotFound, Message: fmt.Sprintf("kernel %s: %v", id, err), Data: map[string]string{"field": "kernel"}}
	case errors.Is(err, context.DeadlineExceeded):
		return rpc.Errorf(rpc.CodeTimeout, "kernel %s: no answer in %v (is it busy?)", id, checkTimeout)
	case errors.As(err, &ee):
		return rpc.Errorf(rpc.CodeFailed, "kernel %s: %s raised %v", id, what, ee)
	}
	return rpc.Errorf(rpc.CodeFailed, "kernel %s: %v", id, err)
}
