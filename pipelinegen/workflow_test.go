package pipelinegen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/workflow/validate"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/datainsight/datainsight/analyzer"
	"github.com/datainsight/datainsight/internal/nbtest"
	"github.com/datainsight/datainsight/internal/synth"
	"github.com/datainsight/datainsight/notebook"
)

// Golden workflows: each testdata/workflows/*.txtar holds a notebook in
// percent format ("notebook.py"), optional "options.json", and the expected
// "workflow.yaml". UPDATE_GOLDEN=1 rewrites the expectations; review the diff.
func TestGoldenWorkflows(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "workflows", "*.txtar"))
	if len(files) < 12 {
		t.Fatalf("want at least 12 golden workflows, have %d", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			get := func(name string) []byte {
				for _, fl := range ar.Files {
					if fl.Name == name {
						return fl.Data
					}
				}
				return nil
			}
			var opts struct {
				NotebookDir        string `json:"notebook_dir"`
				ArtifactRepository bool   `json:"artifact_repository"`
			}
			if o := get("options.json"); o != nil {
				if err := json.Unmarshal(o, &opts); err != nil {
					t.Fatalf("options.json: %v", err)
				}
			}
			// A fixed runtime ConfigMap name keeps the goldens stable when
			// the runtime changes (its real name is its content's hash).
			wf := compileText(t, string(get("notebook.py")), WorkflowOptions{NotebookDir: opts.NotebookDir, ArtifactRepository: opts.ArtifactRepository, RuntimeConfigMap: "datainsight-runtime"})
			got, err := YAML(wf)
			if err != nil {
				t.Fatal(err)
			}
			validateWorkflow(t, wf)
			want := get("workflow.yaml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				var out []txtar.File
				for _, fl := range ar.Files {
					if fl.Name != "workflow.yaml" {
						out = append(out, fl)
					}
				}
				ar.Files = append(out, txtar.File{Name: "workflow.yaml", Data: got})
				if err := os.WriteFile(f, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("workflow differs from %s (UPDATE_GOLDEN=1 rewrites it):\n%s", f, lineDiff(string(want), string(got)))
			}
		})
	}
}

// compileText builds, analyses and compiles a percent-format notebook.
func compileText(t testing.TB, src string, opts WorkflowOptions) *wfv1.Workflow {
	t.Helper()
	p := compilePipeline(t, src)
	wf, err := Workflow(p, opts)
	if err != nil {
		t.Fatalf("Workflow: %v", err)
	}
	return wf
}

func compilePipeline(t testing.TB, src string) *Pipeline {
	t.Helper()
	data, err := nbtest.Notebook(src)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	p, err := Compile(nb, an, Options{NotebookPath: "notebook.ipynb", NotebookID: ShortHash("/home/jovyan/notebook.ipynb")})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

type noTemplates struct{}

func (noTemplates) Get(name string) (*wfv1.WorkflowTemplate, error) {
	return nil, fmt.Errorf("no workflow template %q", name)
}

type noClusterTemplates struct{}

func (noClusterTemplates) Get(name string) (*wfv1.ClusterWorkflowTemplate, error) {
	return nil, fmt.Errorf("no cluster workflow template %q", name)
}

// validateWorkflow runs Argo's own validation, as `argo lint` and the Argo
// server do before accepting a workflow.
func validateWorkflow(t testing.TB, wf *wfv1.Workflow) {
	t.Helper()
	if err := validate.ValidateWorkflow(noTemplates{}, noClusterTemplates{}, wf.DeepCopy(), nil, validate.ValidateOpts{Submit: true}); err != nil {
		t.Errorf("Argo rejects the workflow: %v", err)
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

func TestSynthWorkflowFitsInEtcd(t *testing.T) {
	nb, err := notebook.Parse(synth.Notebook(synth.Options{Steps: 200, Cells: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	p, err := Compile(nb, an, Options{NotebookPath: "synth.ipynb"})
	if err != nil {
		t.Fatal(err)
	}
	wf, err := Workflow(p, WorkflowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	validateWorkflow(t, wf)
	js, _ := json.Marshal(wf)
	if len(js) >= 1<<20 {
		t.Errorf("the 1000-cell workflow is %d bytes: over 1 MiB (etcd refuses objects over 1.5 MiB)", len(js))
	}
	t.Logf("1000-cell workflow: %d steps, %d bytes of JSON", len(p.Steps), len(js))
}

func TestArgoNames(t *testing.T) {
	steps := []*Step{{Name: "load_data"}, {Name: "_private"}, {Name: "pipeline"}, {Name: strings.Repeat("very_long_name_", 6)}, {Name: "x"}}
	names, err := argoNames(steps)
	if err != nil {
		t.Fatal(err)
	}
	if names["load_data"] != "load-data" || names["x"] != "x" {
		t.Errorf("plain names changed: %v", names)
	}
	seen := map[string]bool{}
	for step, n := range names {
		if seen[n] {
			t.Errorf("two steps map to %q", n)
		}
		seen[n] = true
		if len(n) > 40 || strings.HasPrefix(n, "-") || strings.HasSuffix(n, "-") || strings.Contains(n, "_") {
			t.Errorf("%s -> %q is not a usable Argo name", step, n)
		}
	}
	if names["pipeline"] == "pipeline" {
		t.Error("a step named pipeline collides with the DAG template")
	}
}

// In artifacts mode no step shares a volume: each consumer takes, as
// input artifacts from its producers' tasks, their manifests and exactly
// the values it loads, and every output is a key-only S3 artifact at
// <prefix>/<run>/<step>/<file>.
func TestWorkflowArtifactsMode(t *testing.T) {
	p := compilePipeline(t, `# metadata: {"datainsight": {"marshal": {"mode": "artifacts"}}}
# %% tags=["block:load"]
x = 1
y = 2
unused_here = 3
# %% tags=["block:train"]
z = x + 1
# %% tags=["block:show"]
print(x, y, z, unused_here)
`)
	wf, err := Workflow(p, WorkflowOptions{ArtifactKeyPrefix: "team/runs"})
	if err != nil {
		t.Fatal(err)
	}
	validateWorkflow(t, wf)
	if MarshalClaimFor(t, p) {
		t.Error("MarshalClaim made a claim in artifacts mode")
	}
	if len(wf.Spec.VolumeClaimTemplates) > 0 {
		t.Errorf("claim templates in artifacts mode: %v", wf.Spec.VolumeClaimTemplates)
	}
	for _, v := range wf.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("volume %s is a claim in artifacts mode", v.Name)
		}
	}
	tmpl := map[string]wfv1.Template{}
	for _, tm := range wf.Spec.Templates {
		tmpl[tm.Name] = tm
		if tm.Affinity != nil {
			t.Errorf("template %s is pinned to the run's node, with no volume to share", tm.Name)
		}
	}
	var inputs []string
	for _, a := range tmpl["train"].Inputs.Artifacts {
		inputs = append(inputs, a.Name+"="+a.Path)
	}
	want := "load--manifest=/datainsight/marshal/{{workflow.name}}/load/manifest.json load--value-x=/datainsight/marshal/{{workflow.name}}/load/x.artifact"
	if got := strings.Join(inputs, " "); got != want {
		t.Errorf("train's inputs:\n got %s\nwant %s", got, want)
	}
	var outs []string
	for _, a := range tmpl["load"].Outputs.Artifacts {
		if a.S3 != nil && a.Archive != nil && a.Archive.None != nil {
			outs = append(outs, a.Name+"@"+a.S3.Key)
		}
	}
	for _, w := range []string{"value-x@team/runs/{{workflow.name}}/load/x.artifact", "manifest@team/runs/{{workflow.name}}/load/manifest.json",
		"report-html@team/runs/{{workflow.name}}/load/report.html"} {
		if !strings.Contains(strings.Join(outs, " "), w) {
			t.Errorf("load's raw S3 outputs %v lack %s", outs, w)
		}
	}
	for _, task := range wf.Spec.Templates[0].DAG.Tasks {
		if task.Name != "show" {
			continue
		}
		var from []string
		for _, a := range task.Arguments.Artifacts {
			from = append(from, a.Name+"<-"+a.From)
		}
		got := strings.Join(from, " ")
		for _, w := range []string{"load--value-unused_here<-{{tasks.load.outputs.artifacts.value-unused_here}}", "train--value-z<-{{tasks.train.outputs.artifacts.value-z}}"} {
			if !strings.Contains(got, w) {
				t.Errorf("show's task arguments %s lack %s", got, w)
			}
		}
	}
}

func MarshalClaimFor(t *testing.T, p *Pipeline) bool {
	t.Helper()
	c, err := MarshalClaim(p, "x")
	if err != nil {
		t.Fatal(err)
	}
	return c != nil
}

func TestCompileRefusesNotebookWithErrors(t *testing.T) {
	data, _ := nbtest.Notebook("# %% tags=[\"block:a\"]\nprint(nope)\n")
	nb, _ := notebook.Parse(data)
	an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
	_, err := Compile(nb, an, Options{NotebookPath: "x.ipynb"})
	if err == nil || !strings.Contains(err.Error(), "undefined") && !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want the undefined name named", err)
	}
}

func TestRuntimeConfigMapIsContentAddressed(t *testing.T) {
	name := RuntimeConfigMap()
	if !strings.HasPrefix(name, "datainsight-runtime-") || name != "datainsight-runtime-"+ShortHash(string(RuntimeSource())) {
		t.Errorf("RuntimeConfigMap() = %q", name)
	}
	wf := compileText(t, "# %% tags=[\"block:a\"]\nx = 1\n", WorkflowOptions{})
	found := false
	for _, v := range wf.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == name {
			found = true
		}
	}
	if !found {
		t.Errorf("the workflow does not mount ConfigMap %s", name)
	}
}

// TestCompileExamplesAndCorpus compiles every example notebook and every
// analyzer flow fixture whose analysis has no errors, and has Argo validate
// the workflow.
func TestCompileExamplesAndCorpus(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.ipynb"))
	corpus, err := nbtest.WriteNotebooks(filepath.Join("..", "analyzer", "testdata", "flow", "*.py"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 2 || len(corpus) == 0 {
		t.Fatalf("examples %d, corpus %d: both must be there", len(paths), len(corpus))
	}
	compiled := 0
	for _, path := range append(paths, corpus...) {
		nb, err := notebook.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		an := analyzer.Analyze(context.Background(), nb, analyzer.Options{})
		if notebook.HasErrors(an.Diagnostics) {
			if _, err := Compile(nb, an, Options{NotebookPath: path}); !errors.Is(err, ErrNotebookHasErrors) {
				t.Errorf("%s: a notebook with errors must not compile (err %v)", path, err)
			}
			continue
		}
		p, err := Compile(nb, an, Options{NotebookPath: path})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		wf, err := Workflow(p, WorkflowOptions{})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		validateWorkflow(t, wf)
		compiled++
	}
	t.Logf("compiled and validated %d notebooks", compiled)
}

func TestGPUTolerationsWhenConfigured(t *testing.T) {
	src := "# %% tags=[\"block:prep\"]\nx = 1\n# %% tags=[\"block:train\", \"limit:nvidia.com/gpu:1\"]\ny = x\n"
	tol := notebook.Toleration{Key: "nvidia.com/gpu", Effect: "NoSchedule"}
	wf := compileText(t, src, WorkflowOptions{GPUTolerations: []notebook.Toleration{tol}})
	validateWorkflow(t, wf)
	for _, tmpl := range wf.Spec.Templates {
		n := len(tmpl.Tolerations)
		switch tmpl.Name {
		case "train":
			if n != 1 || tmpl.Tolerations[0].Key != "nvidia.com/gpu" || tmpl.Tolerations[0].Operator != "Exists" {
				t.Errorf("GPU step tolerations = %+v", tmpl.Tolerations)
			}
		case "prep":
			if n != 0 {
				t.Errorf("a CPU step got tolerations %+v", tmpl.Tolerations)
			}
		}
	}
}

func TestMarshalClaimMadeBySubmitter(t *testing.T) {
	const src = "# %% tags=[\"block:a\"]\nx = 1\n# %% tags=[\"block:b\"]\nprint(x)\n"
	wf := compileText(t, src, WorkflowOptions{RunName: "r-1", MarshalClaim: "r-1-datainsight-marshal"})
	validateWorkflow(t, wf)
	if len(wf.Spec.VolumeClaimTemplates) != 0 {
		t.Errorf("a run with its own claim still has templates: %+v", wf.Spec.VolumeClaimTemplates)
	}
	found := false
	for _, v := range wf.Spec.Volumes {
		if v.Name == MarshalVolume {
			found = v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "r-1-datainsight-marshal"
		}
	}
	if !found {
		t.Errorf("marshal volume does not use the run's claim: %+v", wf.Spec.Volumes)
	}
	pvc, err := MarshalClaim(compilePipeline(t, src), "r-1-datainsight-marshal")
	if err != nil || pvc == nil {
		t.Fatalf("MarshalClaim = %v, %v", pvc, err)
	}
	if pvc.Name != "r-1-datainsight-marshal" || pvc.Spec.Resources.Requests.Storage().String() != "1Gi" ||
		pvc.Spec.AccessModes[0] != "ReadWriteOnce" {
		t.Errorf("claim = %+v", pvc)
	}

	// A notebook that names its volume keeps it; there is nothing to make.
	const named = "# metadata: {\"datainsight\": {\"marshal\": {\"mode\": \"pvc\", \"pvc\": \"shared-data\"}}}\n" + src
	wf = compileText(t, named, WorkflowOptions{MarshalClaim: "ignored"})
	for _, v := range wf.Spec.Volumes {
		if v.Name == MarshalVolume && v.PersistentVolumeClaim.ClaimName != "shared-data" {
			t.Errorf("marshal volume = %q, want the notebook's", v.PersistentVolumeClaim.ClaimName)
		}
	}
	if pvc, err := MarshalClaim(compilePipeline(t, named), "x"); pvc != nil || err != nil {
		t.Errorf("MarshalClaim with a named volume = %v, %v", pvc, err)
	}
}

func TestStepsKeepTheirLogOnTheVolume(t *testing.T) {
	wf := compileText(t, "# %% tags=[\"block:a\"]\nx = 1\n", WorkflowOptions{})
	for _, tmpl := range wf.Spec.Templates {
		if tmpl.Script == nil {
			continue
		}
		keep := false
		for _, e := range tmpl.Script.Env {
			keep = keep || e.Name == "DATAINSIGHT_KEEP_LOG" && e.Value == "1"
		}
		if !keep {
			t.Errorf("step %s does not keep its log: %+v", tmpl.Name, tmpl.Script.Env)
		}
	}
}
