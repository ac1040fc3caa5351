package notebook

import (
	"reflect"
	"strings"
	"testing"
)

// settingErrors returns the messages of the notebook-level errors.
func settingErrors(diags []Diagnostic) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == Error && d.Cell == nil {
			out = append(out, d.Message)
		}
	}
	return out
}

// Every mistake is reported at once, each naming its field and saying
// what is wrong in the notebook author's terms, never in Go's.
func TestSettingsEveryMistakeNamedByPath(t *testing.T) {
	nb := nbOf(t, `{"datainsight": {"nmae": "x", "parallelism": "four",
		"volumes": [{"name": "data", "mount_path": "/data"}, {"name": "b", "mount_path": 5}, "scratch"],
		"image_pull_secrets": "regcred", "marshal": {"mode": "s3", "size": "lots"}, "timeout": [1],
		"workspace": {"mode": "pvc", "pvc": "ws", "mount_path": "/home/jovyan", "extra": true}}}`, code("x = 1", "block:a"))
	p, diags := ParsePipeline(nb)
	want := []string{
		`metadata.datainsight: unknown key "nmae" (did you mean "name"?)`,
		`metadata.datainsight.volumes[1].mount_path: expected a string, got a number (5)`,
		`metadata.datainsight.volumes[2]: expected an object, got a string ("scratch")`,
		`metadata.datainsight.workspace: unknown key "extra"`,
		`metadata.datainsight.marshal.size: "lots" is not a Kubernetes quantity (e.g. "5Gi")`,
		`metadata.datainsight.marshal.mode: "s3" must be "pvc" or "artifacts"`,
		`metadata.datainsight.timeout: expected a duration such as "1h30m" or a number of seconds, got a list`,
		`metadata.datainsight.parallelism: expected an integer, got a string ("four")`,
		`metadata.datainsight.image_pull_secrets: expected a list of strings, got a string ("regcred")`,
	}
	got := settingErrors(diags)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, d := range diags {
		if strings.Contains(d.Message, "json") || strings.Contains(d.Message, "Go value") || strings.Contains(d.Message, "map[") {
			t.Errorf("a message speaks Go, not the notebook's terms: %s", d.Message)
		}
	}
	// What had no mistake still applies.
	if s := p.Settings; !reflect.DeepEqual(s.Volumes, []Volume{{Name: "data", MountPath: "/data"}}) || s.Workspace == nil || s.Workspace.PVC != "ws" {
		t.Errorf("the settings without mistakes were lost: %+v", s)
	}
}

func TestSettingsKaleMistakesNamedByPath(t *testing.T) {
	nb := nbOf(t, `{"kubeflow_notebook": {"pipeline_name": 7, "volumes": {"name": "x"}, "steps_defaults": ["label:a:b", 3],
		"volume_access_mode": "sometimes"}}`, code("x = 1", "block:a"))
	_, diags := ParsePipeline(nb)
	want := []string{
		`metadata.kubeflow_notebook.pipeline_name: expected a string, got a number (7)`,
		`metadata.kubeflow_notebook.steps_defaults[1]: expected a string, got a number (3)`,
		`metadata.kubeflow_notebook.volume_access_mode: "sometimes" must be rwo, rwm, rom or ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod`,
		`metadata.kubeflow_notebook.volumes: expected a list of volumes, got an object`,
	}
	if got := settingErrors(diags); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// A mount path that is not a folder of its own would be a second mount at
// Datainsight's or Argo's place in the step's container, or hide it all.
func TestSettingsMountPaths(t *testing.T) {
	for _, mp := range []string{"/", "/..", "/.", "//", "/datainsight", "/datainsight/marshal", "/datainsight/runtime/",
		"/datainsight/x/y", "data", "./data", "/data/../etc", "/argo/staging", "/var/run/argo", "/data\n", ""} {
		t.Run(mp, func(t *testing.T) {
			nb := nbOf(t, `{"datainsight": {"volumes": [{"name": "v", "mount_path": `+jsonString(mp)+`}]}}`, code("x = 1", "block:a"))
			p, diags := ParsePipeline(nb)
			errs := settingErrors(diags)
			if len(errs) != 1 || !strings.HasPrefix(errs[0], "metadata.datainsight.volumes[0].mount_path: ") {
				t.Errorf("mount_path %q: errors %q, want one naming the field", mp, errs)
			}
			if len(p.Settings.Volumes) != 0 {
				t.Errorf("mount_path %q: the volume was kept: %+v", mp, p.Settings.Volumes)
			}
		})
	}
	for _, mp := range []string{"/data", "/data/", "/home/jovyan", "/datainsights", "/mnt/datainsight"} {
		nb := nbOf(t, `{"datainsight": {"volumes": [{"name": "v", "mount_path": `+jsonString(mp)+`}]}}`, code("x = 1", "block:a"))
		if _, diags := ParsePipeline(nb); len(diags) != 0 {
			t.Errorf("mount_path %q refused: %v", mp, diags)
		}
	}
}

func TestSettingsDuplicateMounts(t *testing.T) {
	nb := nbOf(t, `{"datainsight": {"volumes": [{"name": "a", "mount_path": "/data"}, {"name": "b", "mount_path": "/data/"},
		{"name": "c", "mount_path": "/home/jovyan"}], "workspace": {"mode": "pvc", "pvc": "ws", "mount_path": "/home/jovyan"}}}`, code("x = 1", "block:a"))
	_, diags := ParsePipeline(nb)
	want := []string{
		`metadata.datainsight.volumes[1].mount_path: "/data/": datainsight.volumes[0] is mounted there too; each volume needs its own folder`,
		`metadata.datainsight.workspace.mount_path: "/home/jovyan": datainsight.volumes[2] is mounted there too; the workspace needs its own folder`,
	}
	if got := settingErrors(diags); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	kale := nbOf(t, `{"kubeflow_notebook": {"volumes": [{"name": "a", "mount_point": "/", "type": "pvc"},
		{"name": "b", "mount_point": "/datainsight/marshal", "type": "pvc"}]}}`, code("x = 1", "block:a"))
	_, diags = ParsePipeline(kale)
	want = []string{
		`metadata.kubeflow_notebook.volumes[0].mount_point: "/" would hide the whole file system of the step's container; mount the volume in a folder such as /data`,
		`metadata.kubeflow_notebook.volumes[1].mount_point: "/datainsight/marshal" is under /datainsight, which is Datainsight's own: every step mounts its marshal volume at /datainsight/marshal and its runtime at /datainsight/runtime; choose another folder`,
	}
	if got := settingErrors(diags); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// Names and images become single lines of a Kubernetes object: a line
// break in them made a different object than the notebook said.
func TestSettingsNamesAndImages(t *testing.T) {
	cases := map[string]string{
		`{"datainsight": {"image": "python:3.11\nRUN curl evil"}}`:             `metadata.datainsight.image: "python:3.11\nRUN curl evil" contains U+000A`,
		`{"datainsight": {"image": "Python:3.11"}}`:                            `metadata.datainsight.image: image "Python:3.11" is not an image reference (invalid reference format: repository name (library/Python) must be lowercase)`,
		`{"datainsight": {"image": "python:3.11 "}}`:                           `metadata.datainsight.image: image "python:3.11 " is not an image reference`,
		`{"datainsight": {"service_account": "runner\nx"}}`:                    `metadata.datainsight.service_account: "runner\nx" is not a valid service account name`,
		`{"datainsight": {"service_account": "Runner"}}`:                       `metadata.datainsight.service_account: "Runner" is not a valid service account name`,
		`{"datainsight": {"image_pull_secrets": ["ok", "reg\ncred"]}}`:         `metadata.datainsight.image_pull_secrets[1]: "reg\ncred" is not a valid secret name`,
		`{"datainsight": {"name": "nightly\r\nrun"}}`:                          `metadata.datainsight.name: "nightly\r\nrun" contains U+000D`,
		`{"kubeflow_notebook": {"docker_image": "img:1\u2028x"}}`:              `metadata.kubeflow_notebook.docker_image: "img:1\u2028x" contains U+2028`,
		`{"datainsight": {"volumes": [{"name": "Data", "mount_path": "/d"}]}}`: `metadata.datainsight.volumes[0].name: "Data" is not a valid claim name`,
		`{"datainsight": {"marshal": {"pvc": "a b"}}}`:                         `metadata.datainsight.marshal.pvc: "a b" is not a valid claim name`,
	}
	for meta, want := range cases {
		nb := nbOf(t, meta, code("x = 1", "block:a"))
		p, diags := ParsePipeline(nb)
		errs := settingErrors(diags)
		if len(errs) != 1 || !strings.HasPrefix(errs[0], want) {
			t.Errorf("metadata %s:\n  errors %q\n  want one starting %q", meta, errs, want)
		}
		if s := p.Settings; s.Image != "" || s.ServiceAccount != "" || s.Name != "" || len(s.Volumes) > 0 ||
			len(s.ImagePullSecrets) > 1 || s.Marshal != nil && s.Marshal.PVC != "" {
			t.Errorf("metadata %s: the bad value was kept: %+v", meta, s)
		}
	}
	nb := nbOf(t, `{"datainsight": {"image": "registry.example.com:5000/team/img:1.0@sha256:`+strings.Repeat("a", 64)+`",
		"service_account": "pipeline-runner", "image_pull_secrets": ["regcred", "other.cred"]}}`, code("x = 1", "block:a"))
	if _, diags := ParsePipeline(nb); len(diags) != 0 {
		t.Errorf("valid names refused: %v", diags)
	}
}

func TestImageTagIsAReference(t *testing.T) {
	for _, ref := range []string{"python\r:3.11", "python:3.11\u2028x", "py\x00thon", "python:3.11\nx", "Python", "python:3.11 x", "python::3"} {
		nb := nbOf(t, "", code("x = 1", "block:a", "image:"+ref))
		p, diags := ParsePipeline(nb)
		if c := codes(diags); !reflect.DeepEqual(c, []string{"bad-tag@0:error"}) {
			t.Errorf("image:%q: diagnostics %v, want one bad-tag", ref, c)
		}
		if img := p.Steps[0].Settings.Image; img != "" {
			t.Errorf("image:%q was kept as %q", ref, img)
		}
	}
	for _, ref := range []string{"python:3.11-slim", "ghcr.io/org/img:v1", "localhost:5000/x", "python@sha256:" + strings.Repeat("0", 64)} {
		nb := nbOf(t, "", code("x = 1", "block:a", "image:"+ref))
		p, diags := ParsePipeline(nb)
		if len(diags) != 0 || p.Steps[0].Settings.Image != ref {
			t.Errorf("image:%s: diagnostics %v, image %q", ref, diags, p.Steps[0].Settings.Image)
		}
	}
}

// Kale's "clone" volume gives each run its own copy of a claim (the
// notebook server's volume): on a cluster a new claim cloned from it, and
// nothing locally, where the steps run in the notebook's own folder.
func TestKaleCloneVolume(t *testing.T) {
	nb := nbOf(t, `{"kubeflow_notebook": {"pipeline_name": "p", "volumes": [{"annotations": [], "mount_point": "/home/jovyan",
		"name": "workspace", "size": 5, "size_type": "Gi", "snapshot": false, "type": "clone"}]}}`, code(`print("hello")`, "block:hello"))
	p, diags := ParsePipeline(nb)
	if c := codes(diags); !reflect.DeepEqual(c, []string{"volume-not-local@nb:info"}) {
		t.Fatalf("diagnostics %v", diags)
	}
	if !strings.HasPrefix(diags[0].Message, `metadata.kubeflow_notebook.volumes[0]: a "clone" volume: on a cluster each run mounts a new claim cloned from "workspace" at /home/jovyan`) {
		t.Errorf("info = %q", diags[0].Message)
	}
	want := []Volume{{Name: "workspace", MountPath: "/home/jovyan", Type: VolumeClone, Size: "5Gi"}}
	if !reflect.DeepEqual(p.Settings.Volumes, want) {
		t.Errorf("volumes = %+v, want %+v", p.Settings.Volumes, want)
	}

	// The same in Datainsight's own settings; a clone needs a size, as
	// the claim it makes must be at least as large as the one it copies.
	nb = nbOf(t, `{"datainsight": {"volumes": [{"name": "workspace", "mount_path": "/home/jovyan", "type": "clone", "size": "5Gi"},
		{"name": "data", "mount_path": "/data", "type": "clone"}]}}`, code("x = 1", "block:a"))
	p, diags = ParsePipeline(nb)
	if got := settingErrors(diags); !reflect.DeepEqual(got, []string{`metadata.datainsight.volumes[1].size: a clone (at least the size of the claim it copies) needs a size, e.g. "5Gi"`}) {
		t.Errorf("errors %q", got)
	}
	if len(p.Settings.Volumes) != 1 || p.Settings.Volumes[0].Type != VolumeClone {
		t.Errorf("volumes = %+v", p.Settings.Volumes)
	}
}

func jsonString(s string) string { return string(appendPyString(nil, s)) }

func TestSettingsWithNaN(t *testing.T) {
	nb := nbOf(t, `{"datainsight": {"timeout": NaN}}`, code("x = 1", "block:a"))
	_, diags := ParsePipeline(nb)
	want := []string{`metadata.datainsight: has NaN or Infinity, which no setting takes (Python writes them for float('nan') and float('inf'))`}
	if got := settingErrors(diags); !reflect.DeepEqual(got, want) {
		t.Errorf("errors %q", got)
	}
}
