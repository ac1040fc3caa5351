package notebook

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// nbOf builds a notebook from (type, tags, source) triples through Parse, so
// the tests go through the same reader users do.
func nbOf(t *testing.T, meta string, cells ...cellSpec) *Notebook {
	t.Helper()
	var parts []string
	for _, c := range cells {
		if c.tags == nil {
			c.tags = []string{}
		}
		tags, _ := json.Marshal(c.tags)
		src, _ := json.Marshal(c.src)
		extra := ""
		if c.typ == "code" {
			extra = `, "execution_count": null, "outputs": []`
		}
		parts = append(parts, fmt.Sprintf(`{"cell_type": %q, "metadata": {"tags": %s}, "source": %s%s}`, c.typ, tags, src, extra))
	}
	if meta == "" {
		meta = "{}"
	}
	doc := fmt.Sprintf(`{"cells": [%s], "metadata": %s, "nbformat": 4, "nbformat_minor": 5}`, strings.Join(parts, ",\n"), meta)
	nb, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return nb
}

type cellSpec struct {
	typ  string
	tags []string
	src  string
}

func code(src string, tags ...string) cellSpec { return cellSpec{"code", tags, src} }
func md(src string) cellSpec                   { return cellSpec{"markdown", nil, src} }

type stepView struct {
	Name  string
	Cells []int
	Prev  []string
}

func steps(p *Pipeline) []stepView {
	var out []stepView
	for _, s := range p.Steps {
		out = append(out, stepView{s.Name, s.Cells, s.Prev})
	}
	return out
}

func codes(ds []Diagnostic) []string {
	var out []string
	for _, d := range ds {
		cell := "nb"
		if d.Cell != nil {
			cell = fmt.Sprint(*d.Cell)
		}
		out = append(out, fmt.Sprintf("%s@%s:%s", d.Code, cell, d.Severity))
	}
	return out
}

func TestRolesAndUntaggedJoin(t *testing.T) {
	nb := nbOf(t, "",
		code("import os", "imports"),           // 0
		code("import sys"),                     // 1 joins imports
		code("def f(): pass", "functions"),     // 2
		code("X = 1", "pipeline-parameters"),   // 3
		code("a = 1", "block:load"),            // 4
		code("b = 2"),                          // 5 joins load
		code("rows = []", "skip"),              // 6
		code("c = 3"),                          // 7 joins load (step above the skip)
		md("## heading ignored: tags exist"),   // 8
		code("d = a", "step:use", "prev:load"), // 9
		code("print(d)", "pipeline-metrics"),   // 10
	)
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	want := []stepView{{"load", []int{4, 5, 7}, nil}, {"use", []int{9}, []string{"load"}}}
	if got := steps(p); !reflect.DeepEqual(got, want) {
		t.Errorf("steps = %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(p.Imports, []int{0, 1}) || !reflect.DeepEqual(p.Functions, []int{2}) ||
		!reflect.DeepEqual(p.ParameterCells, []int{3}) || !reflect.DeepEqual(p.Skipped, []int{6}) ||
		!reflect.DeepEqual(p.MetricsCells, []int{10}) {
		t.Errorf("roles: imports %v functions %v params %v skipped %v metrics %v", p.Imports, p.Functions, p.ParameterCells, p.Skipped, p.MetricsCells)
	}
	if len(p.Metrics) != 1 || p.Metrics[0].Name != "d" {
		t.Errorf("metrics = %+v", p.Metrics)
	}
	if p.ByHeadings {
		t.Error("ByHeadings with step tags present")
	}
}

func TestEmptyStepNameContinuesAndRepeatedName(t *testing.T) {
	nb := nbOf(t, "",
		code("x = 1", "block:a"),
		code("y = 1", "block:"),
		code("z = 1", "step:b"),
		code("w = 1", "step:a"), // repeated: same step, placed at its first cell
	)
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	want := []stepView{{"a", []int{0, 1, 3}, nil}, {"b", []int{2}, nil}}
	if got := steps(p); !reflect.DeepEqual(got, want) {
		t.Errorf("steps = %+v, want %+v", got, want)
	}
}

func TestUntaggedPrologue(t *testing.T) {
	nb := nbOf(t, "", code("x = 1"), code("y = x", "block:use"))
	p, diags := ParsePipeline(nb)
	if got := codes(diags); !reflect.DeepEqual(got, []string{"untagged-prologue@0:warning"}) {
		t.Errorf("diags = %v", got)
	}
	want := []stepView{{"start", []int{0}, nil}, {"use", []int{1}, nil}}
	if got := steps(p); !reflect.DeepEqual(got, want) {
		t.Errorf("steps = %+v", got)
	}
}

func TestBadTagsAllReportedAndIgnored(t *testing.T) {
	nb := nbOf(t, "",
		code("a = 1", "block:Load"),                    // 0 bad name
		code("a = 1", "block:load", "limt:memory:4Gi"), // 1 unknown tag (typo)
		code("b = 1", "block:x", "step:y"),             // 2 two step names
		code("c = 1", "block:z", "prev:nope"),          // 3 prev unknown
		code("d = 1", "block:w", "prev:v"),             // 4 prev later
		code("e = 1", "block:v", "limit:memory:lots"),  // 5 bad quantity
		code("f = 1", "imports", "block:q"),            // 6 role + step
		code("g = 1", "block:u", "retry:-1", "timeout:soon", "env:1X=2", "toleration:k=v:Sometimes", "secret:s/k", "label:a:b c", "cache:maybe"),
	)
	p, diags := ParsePipeline(nb)
	got := codes(diags)
	want := []string{
		"bad-step-name@0:error",
		"unknown-tag@1:error",
		"duplicate-step-tag@2:error",
		"duplicate-step-tag@6:error",
		"bad-tag@5:error",
		"bad-tag@7:error", "bad-tag@7:error", "bad-tag@7:error", "bad-tag@7:error", "bad-tag@7:error", "bad-tag@7:error", "bad-tag@7:error",
		"prev-unknown-step@3:error",
		"prev-unknown-step@4:error",
		"untagged-prologue@0:warning", // cell 0's bad name is ignored, so it is untagged code
	}
	if !reflect.DeepEqual(sortStrings(got), sortStrings(want)) {
		t.Errorf("diagnostics:\n got %v\nwant %v", sortStrings(got), sortStrings(want))
	}
	for _, d := range diags {
		if d.Code == "unknown-tag" && !strings.Contains(d.Message, `"limit:memory:4Gi"`) {
			t.Errorf("unknown tag message lacks a suggestion: %s", d.Message)
		}
	}
	// Tags of the tools users come from point at ours.
	for tag, want := range map[string]string{"parameters": `"pipeline-parameters"`, "metrics": `"pipeline-metrics"`} {
		_, diags := ParsePipeline(nbOf(t, "", code("a = 1", tag)))
		if len(diags) == 0 || !strings.Contains(diags[0].Message, want) {
			t.Errorf("tag %q: %v, want a pointer to %s", tag, diags, want)
		}
	}
	// The steps are what the notebook says with the bad tags ignored.
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	if want := []string{"start", "load", "x", "z", "w", "v", "u"}; !reflect.DeepEqual(names, want) {
		t.Errorf("steps = %v, want %v", names, want)
	}
}

func sortStrings(s []string) []string {
	c := append([]string{}, s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestStepSettingsTags(t *testing.T) {
	nb := nbOf(t, `{"datainsight": {"step_defaults": ["label:team:ml", "retry:1"]}}`,
		code("x = 1", "block:train",
			"limit:nvidia.com/gpu:1", "limit:memory:4Gi", "request:cpu:500m",
			"image:pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime",
			"env:MODE=fast=yes", "secret:aws-creds/key=AWS_KEY",
			"node:gpu-type=a100", "toleration:nvidia.com/gpu=present:NoSchedule",
			"retry:3", "timeout:1h30m", "cache:off",
			"annotation:example.com/note:a:b", "label:app:demo"),
		code("y = x", "block:eval"),
	)
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	s := p.Steps[0].Settings
	want := StepSettings{
		Image:        "pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime",
		Env:          []EnvVar{{"MODE", "fast=yes"}},
		Secrets:      []SecretEnv{{"aws-creds", "key", "AWS_KEY"}},
		Limits:       map[string]string{"nvidia.com/gpu": "1", "memory": "4Gi"},
		Requests:     map[string]string{"cpu": "500m"},
		NodeSelector: map[string]string{"gpu-type": "a100"},
		Tolerations:  []Toleration{{"nvidia.com/gpu", "present", "NoSchedule"}},
		Retry:        3,
		Timeout:      Duration(90 * 60 * 1e9),
		CacheOff:     true,
		Annotations:  map[string]string{"example.com/note": "a:b"},
		Labels:       map[string]string{"team": "ml", "app": "demo"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", s, want)
	}
	// Defaults apply to every step; the tags of one step don't leak.
	e := p.Steps[1].Settings
	if e.Retry != 1 || e.Labels["team"] != "ml" || e.Labels["app"] != "" || e.CacheOff {
		t.Errorf("eval settings = %+v", e)
	}
}

func TestHeadingCut(t *testing.T) {
	nb := nbOf(t, "",
		md("# Title"),
		code("import os", "imports"),
		code("pre = 1"),
		md("## Load data!"),
		code("a = 1"),
		md("### sub\n## 2nd  pass"),
		code("b = a"),
		md("## Load data"),
		code("c = b"),
		code("d = c"),
	)
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if !p.ByHeadings {
		t.Error("ByHeadings = false")
	}
	want := []stepView{{"load_data", []int{4}, nil}, {"step_2nd_pass", []int{6}, nil}, {"load_data_2", []int{8, 9}, nil}}
	// pre = 1 follows the imports cell, so it joins the imports (Kale).
	if got := steps(p); !reflect.DeepEqual(got, want) {
		t.Errorf("steps = %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(p.Imports, []int{1, 2}) {
		t.Errorf("imports = %v", p.Imports)
	}
}

func TestHeadingCutCodeBeforeFirstHeadingIsStart(t *testing.T) {
	nb := nbOf(t, "", code("x = 1"), md("## Next"), code("y = x"))
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 {
		t.Errorf("diagnostics: %v", diags)
	}
	want := []stepView{{"start", []int{0}, nil}, {"next", []int{2}, nil}}
	if got := steps(p); !reflect.DeepEqual(got, want) {
		t.Errorf("steps = %+v", got)
	}
}

func TestParameters(t *testing.T) {
	src := `# comment line
LR = 0.1  # learning rate
EPOCHS = 3
NAME = "run # not a comment"
DEBUG = False
SEED = -1
LAYERS = [4,
          2]
OPTS = {"momentum": 0.9, "nesterov": True}
EXTRA = None
RATE: float = 1e-3
BAD = compute()
ALSO_BAD = LR * 2
`
	nb := nbOf(t, "", code(src, "pipeline-parameters"), code("x = LR", "block:a"))
	p, diags := ParsePipeline(nb)
	got := map[string]string{}
	for _, pr := range p.Parameters {
		got[pr.Name] = pr.Default.Type + " " + pr.Default.Python()
	}
	want := map[string]string{
		"LR": "float 0.1", "EPOCHS": "int 3", "NAME": `str "run # not a comment"`, "DEBUG": "bool False",
		"SEED": "int -1", "LAYERS": "list [4, 2]", "OPTS": `dict {"momentum": 0.9, "nesterov": True}`,
		"EXTRA": "NoneType None", "RATE": "float 0.001",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parameters:\n got %v\nwant %v", got, want)
	}
	if c := codes(diags); !reflect.DeepEqual(c, []string{"bad-parameter@0:error", "bad-parameter@0:error"}) {
		t.Fatalf("diags = %v", c)
	}
	if diags[0].Line != 12 || !strings.Contains(diags[0].Message, "BAD") || diags[1].Line != 13 {
		t.Errorf("diag positions/messages: %v", diags)
	}
	if p.Parameters[6].Line != 9 {
		t.Errorf("OPTS line = %d", p.Parameters[6].Line)
	}
}

func TestParseLiteral(t *testing.T) {
	ok := map[string]string{
		`1_000`:             "int 1000",
		`-2.5e3`:            "float -2500.0",
		`'single'`:          `str "single"`,
		`"a" 'b'`:           `str "ab"`,
		`r"C:\path"`:        `str "C:\\path"`,
		`"tab\there\u00e9"`: `str "tab\there` + "é" + `"`,
		`(1,)`:              "tuple (1,)",
		`(1)`:               "int 1",
		`[]`:                "list []",
		`{1: [True, None]}`: "dict {1: [True, None]}",
		`"""multi
line"""`: `str "multi\nline"`,
		`0x1F`: "int 31",
		`.5`:   "float 0.5",
	}
	for src, want := range ok {
		l, err := ParseLiteral(src)
		if err != nil {
			t.Errorf("ParseLiteral(%q): %v", src, err)
			continue
		}
		if got := l.Type + " " + l.Python(); got != want {
			t.Errorf("ParseLiteral(%q) = %s, want %s", src, got, want)
		}
	}
	for _, src := range []string{`f"x{y}"`, `b"x"`, `foo`, `[1, x]`, `1 + 2`, `"open`, `{[1]: 2}`, `0755`, `1j`, ``, `[[[[`, `{"a" 1}`} {
		if _, err := ParseLiteral(src); err == nil {
			t.Errorf("ParseLiteral(%q) succeeded, want an error", src)
		}
	}
}

func TestSettingsDatainsightStrict(t *testing.T) {
	nb := nbOf(t, `{"datainsight": {"name": "p", "image": "python:3.11", "timeout": "2h", "ttl": "1d",
		"volumes": [{"name": "data", "mount_path": "/data"}], "marshal": {"mode": "pvc", "size": "5Gi", "access_mode": "ReadWriteOnce"},
		"workspace": {"mode": "pvc", "pvc": "nb-ws", "mount_path": "/home/jovyan"}, "parallelism": 4,
		"service_account": "runner", "image_pull_secrets": ["regcred"]}}`, code("x = 1", "block:a"))
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	s := p.Settings
	if s.Name != "p" || s.Image != "python:3.11" || s.Timeout != Duration(2*3600*1e9) || s.TTL != Duration(24*3600*1e9) ||
		len(s.Volumes) != 1 || s.Marshal.Size != "5Gi" || s.Workspace.PVC != "nb-ws" || s.Parallelism != 4 ||
		s.ServiceAccount != "runner" || s.ImagePullSecrets[0] != "regcred" {
		t.Errorf("settings = %+v", s)
	}
}

func TestSettingsErrors(t *testing.T) {
	cases := map[string]string{
		`{"datainsight": {"nmae": "x"}}`:                                          `metadata.datainsight: unknown key "nmae" (did you mean "name"?)`,
		`{"datainsight": {"parallelism": "four"}}`:                                `metadata.datainsight.parallelism: expected an integer, got a string ("four")`,
		`{"datainsight": {"timeout": "soon"}}`:                                    `metadata.datainsight.timeout: invalid duration "soon"`,
		`{"datainsight": {"marshal": {"mode": "s3"}}}`:                            `metadata.datainsight.marshal.mode: "s3" must be`,
		`{"datainsight": {"volumes": [{"name": "v", "mount_path": "rel"}]}}`:      `metadata.datainsight.volumes[0].mount_path: "rel" must be an absolute path`,
		`{"datainsight": {"marshal": {"size": "lots"}}}`:                          `metadata.datainsight.marshal.size: "lots" is not a Kubernetes quantity`,
		`{"datainsight": {"workspace": {"mode": "pvc"}}}`:                         `metadata.datainsight.workspace.pvc: is required with mode "pvc"`,
		`{"datainsight": 3}`:                                                      `metadata.datainsight: expected an object, got a number (3)`,
		`{"datainsight": {"step_defaults": ["limit:cpu:x"]}}`:                     `metadata.datainsight.step_defaults[0]: tag "limit:cpu:x"`,
		`{"kubeflow_notebook": {"volumes": [{"type": "snapshot", "name": "x"}]}}`: `metadata.kubeflow_notebook.volumes[0].type: "snapshot" must be`,
	}
	for meta, want := range cases {
		nb := nbOf(t, meta, code("x = 1", "block:a"))
		_, diags := ParsePipeline(nb)
		found := false
		for _, d := range diags {
			if d.Severity == Error && d.Cell == nil && strings.Contains(d.Message, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("metadata %s: want an error containing %q, got %v", meta, want, diags)
		}
	}
}

func TestSettingsNamespaceIsIgnored(t *testing.T) {
	nb := nbOf(t, `{"datainsight": {"namespace": "prod", "name": "x"}}`, code("x = 1", "block:a"))
	p, diags := ParsePipeline(nb)
	if c := codes(diags); !reflect.DeepEqual(c, []string{"namespace-ignored@nb:warning"}) {
		t.Fatalf("diags = %v", c)
	}
	if p.Settings.Name != "x" {
		t.Errorf("other settings lost: %+v", p.Settings)
	}
}

func TestKaleMetadataMapped(t *testing.T) {
	nb := nbOf(t, `{"kubeflow_notebook": {"pipeline_name": "kp", "pipeline_description": "d", "docker_image": "img:1",
		"experiment_name": "e", "katib_run": false, "snapshot_volumes": true, "storage_class_name": "fast",
		"volume_access_mode": "ReadWriteMany", "steps_defaults": ["label:a:b"],
		"volumes": [{"mount_point": "/home/jovyan", "name": "ws", "size": 5, "size_type": "Gi", "type": "new_pvc", "annotations": [], "snapshot": false}]},
		"datainsight": {"image": "override:2"}}`, code("x = 1", "block:a"))
	p, diags := ParsePipeline(nb)
	if c := codes(diags); !reflect.DeepEqual(c, []string{"kale-setting-ignored@nb:info", "kale-setting-ignored@nb:info", "kale-setting-ignored@nb:info"}) {
		t.Fatalf("diags = %v", c)
	}
	s := p.Settings
	if s.Name != "kp" || s.Description != "d" || s.Image != "override:2" || s.Marshal.StorageClass != "fast" ||
		!reflect.DeepEqual(s.Volumes, []Volume{{Name: "ws", MountPath: "/home/jovyan", Type: "new_pvc", Size: "5Gi", StorageClass: "fast", AccessMode: "ReadWriteMany"}}) {
		t.Errorf("settings = %+v", s)
	}
	if p.Steps[0].Settings.Labels["a"] != "b" {
		t.Errorf("steps_defaults not applied: %+v", p.Steps[0].Settings)
	}
}

func TestMetricsCell(t *testing.T) {
	nb := nbOf(t, "", code("acc = 1", "block:a"), code("print(acc)\nloss\nprint(acc + 1)", "pipeline-metrics"))
	p, diags := ParsePipeline(nb)
	if c := codes(diags); !reflect.DeepEqual(c, []string{"bad-metric@1:warning"}) {
		t.Errorf("diags = %v", c)
	}
	if len(p.Metrics) != 2 || p.Metrics[0].Name != "acc" || p.Metrics[1].Name != "loss" || p.Metrics[1].Line != 2 {
		t.Errorf("metrics = %+v", p.Metrics)
	}
}

func TestMarkdownTagsIgnored(t *testing.T) {
	nb := nbOf(t, "", cellSpec{"markdown", []string{"block:nope", "whatever"}, "# x"}, code("x = 1", "block:a"))
	p, diags := ParsePipeline(nb)
	if len(diags) != 0 || len(p.Steps) != 1 {
		t.Errorf("steps %v diags %v", steps(p), diags)
	}
}

func FuzzParsePipeline(f *testing.F) {
	for _, tags := range []string{"block:a", "step:", "prev:a", "limit:memory:4Gi", "toleration:k=v:NoSchedule", "imports", "skip", "env:A=B", "secret:a/b=C", "label:a:b", "annotation:a:b:c"} {
		f.Add(tags, "x = 1\ny = [1,\n2]", `{"name": "n"}`)
	}
	f.Add("pipeline-parameters", "A = {'x': [1, 2.5e3, None]}\nB = -3", `{"timeout": "1d2h"}`)
	f.Fuzz(func(t *testing.T, tag, src, meta string) {
		tags, _ := json.Marshal([]string{tag, "block:b"})
		s, _ := json.Marshal(src)
		doc := fmt.Sprintf(`{"cells": [{"cell_type": "code", "metadata": {"tags": %s}, "source": %s, "outputs": [], "execution_count": null},
			{"cell_type": "code", "metadata": {"tags": ["pipeline-parameters"]}, "source": %s, "outputs": [], "execution_count": null}],
			"metadata": {"datainsight": %s}, "nbformat": 4, "nbformat_minor": 5}`, tags, s, s, meta)
		nb, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		p, diags := ParsePipeline(nb)
		for _, st := range p.Steps {
			if !ValidStepName(st.Name) {
				t.Errorf("invalid step name %q accepted", st.Name)
			}
		}
		for _, d := range diags {
			if d.Message == "" || d.Code == "" {
				t.Errorf("empty diagnostic %+v", d)
			}
		}
	})
}

func TestUnescapePython(t *testing.T) {
	for body, want := range map[string]string{
		`plain`:                   "plain",
		`it\'s\t\x41\u00e9\101`:   "it's\tAéA",
		`\N{DASH} \q \\`:          `\N{DASH} \q \`,
		"a\\\nb":                  "ab",
		"a\\\r\nb":                "ab",
		`\U0001F600\0`:            "😀\x00",
		`\"quoted\" and \a\b\f\v`: "\"quoted\" and \a\b\f\v",
	} {
		if got, err := UnescapePython(body); err != nil || got != want {
			t.Errorf("UnescapePython(%q) = %q, %v; want %q", body, got, err, want)
		}
	}
	for _, body := range []string{`\x4`, `\xzz`, `\u12`, `\U00110000`} {
		if got, err := UnescapePython(body); err == nil {
			t.Errorf("UnescapePython(%q) = %q, want an error (Python rejects it)", body, got)
		}
	}
}
