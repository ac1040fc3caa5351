package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings are the pipeline-level settings from the notebook's "datainsight"
// metadata (or Kale's "kubeflow_notebook", mapped). The namespace is
// deliberately absent: it comes from the user's configuration, never from a
// notebook someone may have shared.
type Settings struct {
	Name             string     `json:"name,omitempty"`
	Description      string     `json:"description,omitempty"`
	Image            string     `json:"image,omitempty"`
	Volumes          []Volume   `json:"volumes,omitempty"`
	Workspace        *Workspace `json:"workspace,omitempty"`
	Marshal          *Marshal   `json:"marshal,omitempty"`
	StepDefaults     []string   `json:"step_defaults,omitempty"` // tags applied to every step
	Timeout          Duration   `json:"timeout,omitempty"`
	Parallelism      int        `json:"parallelism,omitempty"`
	ServiceAccount   string     `json:"service_account,omitempty"`
	ImagePullSecrets []string   `json:"image_pull_secrets,omitempty"`
	TTL              Duration   `json:"ttl,omitempty"`
}

// Volume mounts an existing PVC (Type "pvc", the default) or a new one made
// for the run (Type "new_pvc") into every step.
type Volume struct {
	Name         string `json:"name"`
	MountPath    string `json:"mount_path"`
	Type         string `json:"type,omitempty"`
	Size         string `json:"size,omitempty"`
	StorageClass string `json:"storage_class,omitempty"`
	AccessMode   string `json:"access_mode,omitempty"`
}

// Workspace says how the notebook's folder reaches the steps: "pvc" (the
// notebook server's workspace volume mounted at the same path, Kale's
// default), "artifacts" (uploaded to object storage at submit) or "image"
// (baked into the step image).
type Workspace struct {
	Mode      string `json:"mode"`
	PVC       string `json:"pvc,omitempty"`
	MountPath string `json:"mount_path,omitempty"`
}

// Marshal says where values between steps live: "pvc" (one volume shared by
// all steps; an existing PVC when PVC is set) or "artifacts" (object storage).
type Marshal struct {
	Mode         string `json:"mode,omitempty"`
	PVC          string `json:"pvc,omitempty"`
	Size         string `json:"size,omitempty"`
	StorageClass string `json:"storage_class,omitempty"`
	AccessMode   string `json:"access_mode,omitempty"`
}

var accessModes = map[string]bool{"ReadWriteOnce": true, "ReadWriteMany": true, "ReadOnlyMany": true, "ReadWriteOncePod": true}

// kaleSettings are the keys of Kale's kubeflow_notebook metadata that have a
// meaning here. Other Kale keys are ignored with an info diagnostic.
type kaleSettings struct {
	PipelineName        string       `json:"pipeline_name"`
	PipelineDescription string       `json:"pipeline_description"`
	DockerImage         string       `json:"docker_image"`
	Volumes             []kaleVolume `json:"volumes"`
	StepsDefaults       []string     `json:"steps_defaults"`
	Timeout             *Duration    `json:"timeout"`
	StorageClassName    string       `json:"storage_class_name"`
	VolumeAccessMode    string       `json:"volume_access_mode"`
}

type kaleVolume struct {
	Name       string          `json:"name"`
	MountPoint string          `json:"mount_point"`
	Type       string          `json:"type"`
	Size       json.RawMessage `json:"size"`
	SizeType   string          `json:"size_type"`
}

// kaleKnown lists every kubeflow_notebook key decoded into kaleSettings.
var kaleKnown = map[string]bool{
	"pipeline_name": true, "pipeline_description": true, "docker_image": true, "volumes": true,
	"steps_defaults": true, "timeout": true, "storage_class_name": true, "volume_access_mode": true,
}

// parseSettings decodes the notebook-level settings. The "datainsight" key
// wins over Kale's; a notebook carrying both gets Kale's only where ours is
// silent.
func parseSettings(md map[string]json.RawMessage) (Settings, []Diagnostic) {
	var s Settings
	var diags []Diagnostic
	bad := func(sev Severity, code, format string, args ...any) {
		diags = append(diags, Diagnostic{Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if raw, ok := md["kubeflow_notebook"]; ok {
		ks, unknown, err := decodeKale(raw)
		if err != nil {
			bad(Error, "bad-setting", "metadata.kubeflow_notebook: %v", err)
		}
		for _, k := range unknown {
			bad(Info, "kale-setting-ignored", "metadata.kubeflow_notebook.%s is a Kale setting Datainsight does not use; ignored", k)
		}
		s = ks
	}
	if raw, ok := md["datainsight"]; ok {
		var ds Settings
		if err := decodeStrict(raw, &ds); err != nil {
			if nsErr := (namespaceKeyError{}); errors.As(err, &nsErr) {
				bad(Warning, "namespace-ignored", "metadata.datainsight.namespace is ignored: the namespace comes from your configuration (--namespace, DATAINSIGHT_NAMESPACE or the config file), never from the notebook")
				err = decodeStrict(nsErr.rest, &ds)
			}
			if err != nil {
				bad(Error, "bad-setting", "metadata.datainsight: %v", err)
				ds = Settings{}
			}
		}
		s = overlay(s, ds)
	}
	for _, msg := range s.validate() {
		bad(Error, "bad-setting", "metadata.datainsight: %s", msg)
	}
	return s, diags
}

type namespaceKeyError struct{ rest json.RawMessage }

func (namespaceKeyError) Error() string { return "namespace" }

// decodeStrict decodes JSON into v, refusing unknown keys and naming them.
func decodeStrict(raw json.RawMessage, v *Settings) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("must be an object: %v", err)
	}
	if _, ok := obj["namespace"]; ok {
		delete(obj, "namespace")
		rest, _ := json.Marshal(obj)
		return namespaceKeyError{rest: rest}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the settings object")
	}
	return nil
}

// cleanJSONError turns encoding/json's wording into what a notebook author
// can act on.
func cleanJSONError(err error) error {
	msg := err.Error()
	if k, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown key %s", k)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: expected %s, got a JSON %s", te.Field, jsonTypeName(te.Type.String()), te.Value)
	}
	return errors.New(strings.TrimPrefix(msg, "json: "))
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "int", goType == "int64":
		return "an integer"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map"), strings.Contains(goType, "."):
		return "an object"
	}
	return goType
}

func decodeKale(raw json.RawMessage) (Settings, []string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Settings{}, nil, fmt.Errorf("must be an object: %v", err)
	}
	var unknown []string
	known := map[string]json.RawMessage{}
	for k, v := range obj {
		if kaleKnown[k] {
			known[k] = v
		} else {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	b, _ := json.Marshal(known)
	var ks kaleSettings
	if err := json.Unmarshal(b, &ks); err != nil {
		return Settings{}, unknown, cleanJSONError(err)
	}
	// Kale writes access modes in short form.
	if full, ok := map[string]string{"rwo": "ReadWriteOnce", "rwm": "ReadWriteMany", "rom": "ReadOnlyMany"}[strings.ToLower(ks.VolumeAccessMode)]; ok {
		ks.VolumeAccessMode = full
	}
	s := Settings{
		Name:         ks.PipelineName,
		Description:  ks.PipelineDescription,
		Image:        ks.DockerImage,
		StepDefaults: ks.StepsDefaults,
	}
	if ks.Timeout != nil {
		s.Timeout = *ks.Timeout
	}
	for i, kv := range ks.Volumes {
		v := Volume{Name: kv.Name, MountPath: kv.MountPoint, StorageClass: ks.StorageClassName, AccessMode: ks.VolumeAccessMode}
		switch kv.Type {
		case "pvc", "":
			v.Type = "pvc"
		case "new_pvc":
			v.Type = "new_pvc"
		default:
			return s, unknown, fmt.Errorf("volumes[%d].type %q: Datainsight mounts \"pvc\" and \"new_pvc\" volumes", i, kv.Type)
		}
		if len(kv.Size) > 0 && string(kv.Size) != "null" {
			size := strings.Trim(string(kv.Size), `"`)
			v.Size = size + kv.SizeType
		}
		s.Volumes = append(s.Volumes, v)
	}
	if ks.StorageClassName != "" || ks.VolumeAccessMode != "" {
		s.Marshal = &Marshal{StorageClass: ks.StorageClassName, AccessMode: ks.VolumeAccessMode}
	}
	return s, unknown, nil
}

// overlay returns base with every field that over sets replaced.
func overlay(base, over Settings) Settings {
	if over.Name != "" {
		base.Name = over.Name
	}
	if over.Description != "" {
		base.Description = over.Description
	}
	if over.Image != "" {
		base.Image = over.Image
	}
	if over.Volumes != nil {
		base.Volumes = over.Volumes
	}
	if over.Workspace != nil {
		base.Workspace = over.Workspace
	}
	if over.Marshal != nil {
		base.Marshal = over.Marshal
	}
	if over.StepDefaults != nil {
		base.StepDefaults = over.StepDefaults
	}
	if over.Timeout != 0 {
		base.Timeout = over.Timeout
	}
	if over.Parallelism != 0 {
		base.Parallelism = over.Parallelism
	}
	if over.ServiceAccount != "" {
		base.ServiceAccount = over.ServiceAccount
	}
	if over.ImagePullSecrets != nil {
		base.ImagePullSecrets = over.ImagePullSecrets
	}
	if over.TTL != 0 {
		base.TTL = over.TTL
	}
	return base
}

func (s Settings) validate() []string {
	var msgs []string
	add := func(format string, args ...any) { msgs = append(msgs, fmt.Sprintf(format, args...)) }
	if s.Parallelism < 0 {
		add("parallelism must be 0 (no limit) or more, not %d", s.Parallelism)
	}
	if s.Timeout < 0 || s.TTL < 0 {
		add("timeout and ttl must not be negative")
	}
	for i, v := range s.Volumes {
		if v.Name == "" {
			add("volumes[%d]: name is required", i)
		}
		if !strings.HasPrefix(v.MountPath, "/") {
			add("volumes[%d]: mount_path %q must be an absolute path", i, v.MountPath)
		}
		switch v.Type {
		case "", "pvc":
		case "new_pvc":
			if v.Size == "" {
				add("volumes[%d]: a new_pvc needs a size (e.g. \"5Gi\")", i)
			}
		default:
			add("volumes[%d]: type %q must be \"pvc\" or \"new_pvc\"", i, v.Type)
		}
		if v.Size != "" && validQuantity(v.Size) != nil {
			add("volumes[%d]: size %q is not a Kubernetes quantity (e.g. \"5Gi\")", i, v.Size)
		}
		if v.AccessMode != "" && !accessModes[v.AccessMode] {
			add("volumes[%d]: access_mode %q must be one of ReadWriteOnce, ReadWriteMany, ReadOnlyMany, ReadWriteOncePod", i, v.AccessMode)
		}
	}
	if w := s.Workspace; w != nil {
		switch w.Mode {
		case "pvc":
			if w.PVC == "" || !strings.HasPrefix(w.MountPath, "/") {
				add("workspace: mode \"pvc\" needs pvc (the notebook server's volume) and an absolute mount_path")
			}
		case "artifacts", "image":
		default:
			add("workspace.mode %q must be \"pvc\", \"artifacts\" or \"image\"", w.Mode)
		}
	}
	if m := s.Marshal; m != nil {
		switch m.Mode {
		case "", "pvc", "artifacts":
		default:
			add("marshal.mode %q must be \"pvc\" or \"artifacts\"", m.Mode)
		}
		if m.Size != "" && validQuantity(m.Size) != nil {
			add("marshal.size %q is not a Kubernetes quantity (e.g. \"5Gi\")", m.Size)
		}
		if m.AccessMode != "" && !accessModes[m.AccessMode] {
			add("marshal.access_mode %q must be one of ReadWriteOnce, ReadWriteMany, ReadOnlyMany, ReadWriteOncePod", m.AccessMode)
		}
	}
	return msgs
}

// UnmarshalJSON reads "90s", "1h30m", "2d", "1d12h" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if n, err := strconv.ParseFloat(string(b), 64); err == nil {
		*d = Duration(n * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string like \"1h30m\" or a number of seconds")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON prints the duration as Go does ("1h30m0s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Seconds returns the duration in whole seconds, rounded up.
func (d Duration) Seconds() int64 {
	return int64((time.Duration(d) + time.Second - 1) / time.Second)
}

// ParseDuration parses Go durations plus a leading days part ("2d", "1d12h").
func ParseDuration(s string) (Duration, error) {
	orig := s
	var days float64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (use e.g. \"90s\", \"1h30m\", \"2d\")", orig)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("invalid duration %q (use e.g. \"90s\", \"1h30m\", \"2d\")", orig)
		}
	}
	total := rest + time.Duration(days*24*float64(time.Hour))
	if total < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", orig)
	}
	return Duration(total), nil
}
