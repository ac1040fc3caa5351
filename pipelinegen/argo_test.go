package pipelinegen

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	argotemplate "github.com/argoproj/argo-workflows/v3/util/template"
	apiv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/datainsight/datainsight/notebook"
)

// eachMetadata calls f with every label and annotation map the workflow
// writes, saying whose.
func eachMetadata(wf *wfv1.Workflow, f func(whose string, labels, annotations map[string]string)) {
	f("workflow", wf.Labels, wf.Annotations)
	if pm := wf.Spec.PodMetadata; pm != nil {
		f("podMetadata", pm.Labels, pm.Annotations)
	}
	for _, c := range wf.Spec.VolumeClaimTemplates {
		f("claim "+c.Name, c.Labels, c.Annotations)
	}
	for _, tmpl := range wf.Spec.Templates {
		f("template "+tmpl.Name, tmpl.Metadata.Labels, tmpl.Metadata.Annotations)
		f("template "+tmpl.Name+" nodeSelector", tmpl.NodeSelector, nil)
		if a := tmpl.Affinity; a != nil && a.PodAffinity != nil {
			for _, term := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				f("template "+tmpl.Name+" affinity", term.LabelSelector.MatchLabels, nil)
			}
		}
	}
}

// A long "##" heading makes a long step name: every label value the
// workflow writes must still be one Kubernetes takes, the step's own name
// must still be readable from its pods, and the Argo names must fit.
func TestLabelsAndNamesFitKubernetes(t *testing.T) {
	heading := "4.4 GridSearchCV evaluating using multiple scorers, RepeatedStratifiedKFold and pipeline for preprocessing simultaneously"
	src := "# %% [markdown]\n# ## " + heading + "\n# %%\nx = 1\nprint(x)\n# %% [markdown]\n# ## Report\n# %%\nprint(x + 1)\n"
	p := compilePipeline(t, src)
	long := p.Steps[0].Name
	if len(long) <= validation.LabelValueMaxLength {
		t.Fatalf("the heading made a short step name %q: the test needs a long one", long)
	}
	for _, opts := range []WorkflowOptions{{}, {RunName: "notebook-b4xz2"}} {
		wf, err := Workflow(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		validateWorkflow(t, wf)
		eachMetadata(wf, func(whose string, labels, annotations map[string]string) {
			for k, v := range labels {
				if v == "{{workflow.name}}" {
					continue // Argo puts the run's name there
				}
				if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
					t.Errorf("%s: label %s=%q: %v", whose, k, v, msgs)
				}
			}
			for k := range annotations {
				if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
					t.Errorf("%s: annotation key %q: %v", whose, k, msgs)
				}
			}
		})
		steps := map[string]bool{}
		for _, tmpl := range wf.Spec.Templates {
			if len(tmpl.Name) > 63 || !regexp.MustCompile(`^[a-z][-a-z0-9]*[a-z0-9]$`).MatchString(tmpl.Name) {
				t.Errorf("template name %q", tmpl.Name)
			}
			if tmpl.Script != nil {
				steps[StepName(tmpl.Metadata.Labels, tmpl.Metadata.Annotations)] = true
			}
		}
		if !steps[long] || !steps["report"] {
			t.Errorf("the steps' names read back from their metadata: %v", steps)
		}
	}
	// Deterministic: the same notebook gives the same label every time.
	a, _ := Workflow(p, WorkflowOptions{})
	b, _ := Workflow(compilePipeline(t, src), WorkflowOptions{})
	if a.Spec.Templates[1].Metadata.Labels[LabelStep] != b.Spec.Templates[1].Metadata.Labels[LabelStep] {
		t.Error("the shortened label differs between two compiles")
	}
}

func TestLabelValue(t *testing.T) {
	for _, s := range []string{"load", "load_data", "a.b-c_D9", strings.Repeat("x", 63)} {
		if got := LabelValue(s); got != s {
			t.Errorf("LabelValue(%q) = %q, want it unchanged", s, got)
		}
	}
	long := strings.Repeat("step_", 20)
	seen := map[string]string{}
	for _, s := range []string{"_private", "private_", long + "a", long + "b", "é", "a b/c", strings.Repeat("_", 70), ""} {
		got := LabelValue(s)
		if msgs := validation.IsValidLabelValue(got); len(msgs) > 0 {
			t.Errorf("LabelValue(%q) = %q: %v", s, got, msgs)
		}
		if got != LabelValue(s) {
			t.Errorf("LabelValue(%q) is not deterministic", s)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("LabelValue(%q) = LabelValue(%q) = %q", s, other, got)
		}
		seen[got] = s
	}
	if got := LabelValue(long + "a"); !strings.HasPrefix(got, "step_step_") {
		t.Errorf("LabelValue keeps no readable prefix: %q", got)
	}
}

// Argo refuses a DAG task with dependencies whose name starts with a digit;
// "_1st" is a valid step name that maps to one.
func TestArgoNamesNeverStartWithADigit(t *testing.T) {
	names, err := argoNames([]*Step{{Name: "_1st"}, {Name: "_2"}, {Name: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	for step, n := range names {
		if startsWithDigit(n) {
			t.Errorf("%s -> %q starts with a digit", step, n)
		}
	}
	wf := compileText(t, "# %% tags=[\"block:a\"]\nx = 1\n# %% tags=[\"block:_1st\"]\nprint(x)\n", WorkflowOptions{})
	validateWorkflow(t, wf)
}

func TestCheckMetadataNamesTheProblem(t *testing.T) {
	err := CheckMetadata("step \"a\"", map[string]string{"ok": "fine", "bad key": "v", "k": strings.Repeat("v", 64)},
		map[string]string{"Example.com/Owner": "jane", "no way/": "x"})
	for _, want := range []string{`step "a": `, `label key "bad key"`, "label k: value", "must be no more than 63", `annotation key "no way/"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "Example.com") {
		t.Errorf("an annotation key with capitals is refused, as Kubernetes does not: %v", err)
	}
	big := map[string]string{"a": strings.Repeat("x", 300<<10)}
	if err := CheckMetadata("x", nil, big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("annotations over 256 KiB: err = %v", err)
	}
	// A run name that no label can hold is refused before the API server
	// does, naming the label.
	p := compilePipeline(t, "# %% tags=[\"block:a\"]\nx = 1\n")
	if _, err := Workflow(p, WorkflowOptions{RunName: "nightly churn-abcde"}); err == nil || !strings.Contains(err.Error(), "datainsight.io/run") {
		t.Errorf("a run name with a space: err = %v", err)
	}
}

func TestCloneVolumeIsAClonedClaim(t *testing.T) {
	src := "# metadata: {\"kubeflow_notebook\": {\"volumes\": [{\"mount_point\": \"/home/jovyan/\", \"name\": \"workspace\", \"size\": 5, \"size_type\": \"Gi\", \"type\": \"clone\"}]}}\n" +
		"# %% tags=[\"block:hello\"]\nprint(\"hello\")\n"
	wf := compileText(t, src, WorkflowOptions{RunName: "p-b4xz2", MarshalClaim: "p-b4xz2-datainsight-marshal"})
	validateWorkflow(t, wf)
	var clone *apiv1.PersistentVolumeClaim
	for i, c := range wf.Spec.VolumeClaimTemplates {
		if c.Spec.DataSource != nil {
			clone = &wf.Spec.VolumeClaimTemplates[i]
		}
	}
	if clone == nil {
		t.Fatalf("no cloned claim among %+v", wf.Spec.VolumeClaimTemplates)
	}
	if ds := clone.Spec.DataSource; ds.Kind != "PersistentVolumeClaim" || ds.Name != "workspace" || ds.APIGroup != nil ||
		clone.Spec.Resources.Requests.Storage().String() != "5Gi" || clone.Annotations[AnnotationVolume] != "workspace" {
		t.Errorf("cloned claim = %+v", clone)
	}
	mounted := false
	for _, m := range wf.Spec.Templates[1].Script.VolumeMounts {
		mounted = mounted || m.Name == clone.Name && m.MountPath == "/home/jovyan"
	}
	if !mounted {
		t.Errorf("the clone is not mounted at /home/jovyan: %+v", wf.Spec.Templates[1].Script.VolumeMounts)
	}
}

// A Pipeline made without the notebook's settings parser still cannot
// mount a volume over Datainsight's own, or two at one place.
func TestWorkflowRefusesClashingMounts(t *testing.T) {
	for _, vols := range [][]notebook.Volume{
		{{Name: "a", MountPath: "/datainsight/marshal"}},
		{{Name: "a", MountPath: "/"}},
		{{Name: "a", MountPath: "/data"}, {Name: "b", MountPath: "/data/"}},
	} {
		p := compilePipeline(t, "# %% tags=[\"block:a\"]\nx = 1\n")
		p.Settings.Volumes = vols
		if _, err := Workflow(p, WorkflowOptions{}); err == nil {
			t.Errorf("volumes %+v: no error", vols)
		}
	}
}

// argoSubstitutes does to a workflow what Argo's controller does before a
// step's pod exists, with Argo's own code: the global parameters replaced
// in the spec, then in each template, then the template read once more
// for its inputs.
func argoSubstitutes(t *testing.T, wf *wfv1.Workflow, run string) *wfv1.Workflow {
	t.Helper()
	globals := map[string]string{"workflow.name": run, "workflow.namespace": "ns", "workflow.uid": "uid"}
	for _, prm := range wf.Spec.Arguments.Parameters {
		globals["workflow.parameters."+prm.Name] = prm.Value.String()
	}
	replace := func(v any, out any, m map[string]string) {
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		s, err := argotemplate.Replace(string(js), m, true)
		if err != nil {
			t.Fatalf("Argo's substitution fails: %v", err)
		}
		if err := json.Unmarshal([]byte(s), out); err != nil {
			t.Fatal(err)
		}
	}
	out := wf.DeepCopy()
	rest := out.Spec
	rest.Templates = nil
	replace(rest, &out.Spec, globals)
	out.Spec.Templates = nil
	for _, tmpl := range wf.Spec.Templates {
		var once, twice wfv1.Template
		replace(tmpl, &once, globals)
		replace(once, &twice, map[string]string{})
		out.Spec.Templates = append(out.Spec.Templates, twice)
	}
	return out
}

// kubeletEnv expands a container's env as the kubelet does: "$(NAME)" of a
// variable defined earlier in the list becomes its value, "$$" a "$", and
// everything else stays.
func kubeletEnv(env []apiv1.EnvVar) map[string]string {
	vals := map[string]string{}
	for _, e := range env {
		var b strings.Builder
		v := e.Value
		for i := 0; i < len(v); i++ {
			switch {
			case v[i] == '$' && i+1 < len(v) && v[i+1] == '$':
				b.WriteByte('$')
				i++
			case v[i] == '$' && i+1 < len(v) && v[i+1] == '(':
				end := strings.IndexByte(v[i:], ')')
				if end < 0 {
					b.WriteString(v[i:])
					i = len(v)
					continue
				}
				name := v[i+2 : i+end]
				if val, ok := vals[name]; ok {
					b.WriteString(val)
				} else {
					b.WriteString(v[i : i+end+1])
				}
				i += end
			default:
				b.WriteByte(v[i])
			}
		}
		vals[e.Name] = b.String()
	}
	return vals
}

// Argo template syntax in a notebook's code, parameter values and env
// values reaches the step as written: the workflow is valid for Argo, and
// after Argo's substitution and the kubelet's expansion the steps print
// exactly what the notebook would.
func TestArgoTemplateSyntaxReachesTheStepUnchanged(t *testing.T) {
	needRuntimePython(t)
	src := `# metadata: {"datainsight": {"description": "Renders {{workflow.name}} and {{=sprig.date()}} literally"}}
# %% tags=["pipeline-parameters"]
greeting = "{{workflow.parameters.greeting}} $(HOME) {{"
# %% tags=["block:render", "env:TEMPLATE={{inputs.parameters.x}}", "env:PRICE=$(HOME) costs $5 {{{"]
import os
page = f"{{{greeting}}} {{=1+1}} {os.environ['TEMPLATE']} {os.environ['PRICE']}"
# %% tags=["block:show"]
print(page, "{{workflow.name}}", "{{")
`
	want := "{{{workflow.parameters.greeting}} $(HOME) {{} {=1+1} {{inputs.parameters.x}} $(HOME) costs $5 {{{ {{workflow.name}} {{\n"
	p := compilePipeline(t, src)
	wf, err := Workflow(p, WorkflowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	validateWorkflow(t, wf)
	if err := onlyOurTemplateTags(wf.Spec, p.Parameters); err != nil {
		t.Fatal(err)
	}
	run := "notebook-b4xz2"
	sub := argoSubstitutes(t, wf, run)

	dir := t.TempDir()
	if _, err := WriteRuntime(dir); err != nil {
		t.Fatal(err)
	}
	var out string
	for _, step := range []string{"render", "show"} {
		var tmpl *wfv1.Template
		for i := range sub.Spec.Templates {
			if sub.Spec.Templates[i].Name == step {
				tmpl = &sub.Spec.Templates[i]
			}
		}
		// The script Argo would run is, once decoded, the one compiled.
		check := exec.Command(runtimePython, "-c", `import ast, sys
tree = ast.parse(sys.stdin.read())
last = tree.body[-1].value
sys.stdout.write(ast.literal_eval(last.args[0].args[0]) if isinstance(last, ast.Call) and getattr(last.func, "id", "") == "exec" else "not wrapped")`)
		check.Stdin = strings.NewReader(tmpl.Script.Source)
		decoded, err := check.CombinedOutput()
		if err != nil || string(decoded) != p.Step(step).Script {
			t.Errorf("step %s: the script Argo runs is not the compiled one (%v):\n%s", step, err, decoded)
		}

		script := filepath.Join(dir, step+".py")
		if err := os.WriteFile(script, []byte(tmpl.Script.Source), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(runtimePython, script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/root-of-someone", "PYTHONDONTWRITEBYTECODE=1"}
		for k, v := range kubeletEnv(tmpl.Script.Env) {
			switch k {
			case "DATAINSIGHT_MARSHAL_ROOT":
				v = filepath.Join(dir, "marshal")
			case "DATAINSIGHT_RUNTIME_DIR":
				v = dir
			case "DATAINSIGHT_PYTHON_EXE":
				v = runtimePython
			}
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		stdout, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("step %s: %v\n%s", step, err, stderr)
		}
		out = string(stdout)
	}
	if out != want {
		t.Errorf("the step printed\n  %q\nwant what the notebook prints\n  %q", out, want)
	}
}

func TestArgoParameterValue(t *testing.T) {
	for in, want := range map[string]string{
		`0.1`:                     `0.1`,
		`"plain"`:                 `"plain"`,
		`"{{workflow.name}}"`:     `"\x7b{workflow.name}}"`,
		`"$(HOME) \\$x {{{"`:      `"\x24(HOME) \\\x24x \x7b\x7b{"`,
		`{"a": {"b": "{{x}}"}}`:   `{"a": {"b": "\x7b{x}}"}}`,
		`['$', {'k': [1, "{{"]}]`: `["\x24", {"k": [1, "\x7b{"]}]`,
	} {
		got, err := ArgoParameterValue(in)
		if err != nil || got != want {
			t.Errorf("ArgoParameterValue(%s) = %s, %v; want %s", in, got, err, want)
		}
		if strings.Contains(got, "{{") || strings.Contains(got, "$") {
			t.Errorf("ArgoParameterValue(%s) = %s still has Argo or Kubernetes syntax", in, got)
		}
		lit, err := notebook.ParseLiteral(got)
		orig, _ := notebook.ParseLiteral(in)
		if err != nil || lit.Python() != orig.Python() {
			t.Errorf("ArgoParameterValue(%s) = %s reads back as %s (%v), not %s", in, got, lit.Python(), err, orig.Python())
		}
	}
}

// What no form can carry past Argo or Kubernetes unchanged is refused,
// naming the tag's setting.
func TestWorkflowRefusesWhatArgoWouldChange(t *testing.T) {
	for src, want := range map[string]string{
		"# %% tags=[\"block:a\", \"annotation:note:see {{workflow.name}}\"]\nx = 1\n": `step "a": annotation note: the value "see {{workflow.name}}" has "{{"`,
		"# %% tags=[\"block:a\", \"secret:creds/a b=TOKEN\"]\nx = 1\n":                `step "a": secret creds: key "a b"`,
		"# %% tags=[\"block:a\", \"toleration:gpu=a b:NoSchedule\"]\nx = 1\n":         `step "a": toleration gpu: value "a b"`,
	} {
		p := compilePipeline(t, src)
		if _, err := Workflow(p, WorkflowOptions{}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
	p := compilePipeline(t, "# %% tags=[\"block:a\"]\nx = 1\n")
	if _, err := Workflow(p, WorkflowOptions{NotebookDir: "/home/jovyan/{{x}}"}); err != nil {
		t.Errorf("a notebook folder is not used without a pvc workspace: %v", err)
	}
	p.Settings.Workspace = &notebook.Workspace{Mode: "pvc", PVC: "ws", MountPath: "/home/jovyan"}
	if _, err := Workflow(p, WorkflowOptions{NotebookDir: "/home/jovyan/{{x}}"}); err == nil || !strings.Contains(err.Error(), "rename the folder") {
		t.Errorf("a notebook folder with {{: err = %v", err)
	}
}

// A backend names the runs it submits as Argo names a run of the compiled
// file: RunNamePrefix is the generateName without its "-".
func TestRunNamePrefixIsTheGenerateName(t *testing.T) {
	p := compilePipeline(t, "# %% tags=[\"block:a\"]\nx = 1\n")
	for name, want := range map[string]string{
		"Nightly Churn":                      "nightly-churn",
		"  --Weird__Name!!  ":                "weird-name",
		strings.Repeat("Very Long Name ", 5): "very-long-name-very-long-name-very-long",
		"Q3 report: revenue (EUR) / region":  "q3-report-revenue-eur-region",
	} {
		got := RunNamePrefix(name)
		if got != want {
			t.Errorf("RunNamePrefix(%q) = %q, want %q", name, got, want)
		}
		p.Name = name
		wf, err := Workflow(p, WorkflowOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if wf.GenerateName != got+"-" {
			t.Errorf("%q: generateName %q, RunNamePrefix %q", name, wf.GenerateName, got)
		}
	}
}
