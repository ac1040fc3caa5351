package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation"
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

// Volume mounts an existing PVC (Type "pvc", the default), a new one made
// for the run (Type "new_pvc"), or a new one cloned from the existing claim
// Name (Type "clone", Kale's way to give every run its own copy of the
// notebook server's volume) into every step.
type Volume struct {
	Name         string `json:"name"`
	MountPath    string `json:"mount_path"`
	Type         string `json:"type,omitempty"`
	Size         string `json:"size,omitempty"`
	StorageClass string `json:"storage_class,omitempty"`
	AccessMode   string `json:"access_mode,omitempty"`
}

// Volume types.
const (
	VolumePVC    = "pvc"
	VolumeNewPVC = "new_pvc"
	VolumeClone  = "clone"
)

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

// Diagnostic codes of the notebook-level settings.
const (
	CodeBadSetting         = "bad-setting"
	CodeKaleSettingIgnored = "kale-setting-ignored"
	CodeNamespaceIgnored   = "namespace-ignored"
	// CodeVolumeNotLocal is the info that a volume only exists on a
	// cluster: a local run has the notebook's own folder instead.
	CodeVolumeNotLocal = "volume-not-local"
)

var accessModes = map[string]bool{"ReadWriteOnce": true, "ReadWriteMany": true, "ReadOnlyMany": true, "ReadWriteOncePod": true}

const accessModeList = "ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod"

// Folders a volume must not be mounted at, or under: Datainsight's own
// mounts (the marshal volume and the runtime), and Argo's (the emissary
// executor and the script it runs). A volume there would be a second
// mount at the same place in the step's container, or hide what the step
// needs to start.
var reservedMounts = []struct{ dir, owner string }{
	{"/datainsight", "Datainsight's own: every step mounts its marshal volume at /datainsight/marshal and its runtime at /datainsight/runtime"},
	{"/argo", "Argo's own: it puts the step's script under /argo/staging"},
	{"/var/run/argo", "Argo's own: its executor runs the step from there"},
}

// kaleKnown lists the kubeflow_notebook keys that have a meaning here.
// Other Kale keys are ignored with an info diagnostic.
var kaleKnown = []string{"pipeline_name", "pipeline_description", "docker_image", "volumes",
	"steps_defaults", "timeout", "storage_class_name", "volume_access_mode"}

// datainsightKeys lists every key of the datainsight object.
var datainsightKeys = []string{"name", "description", "image", "volumes", "workspace", "marshal",
	"step_defaults", "timeout", "parallelism", "service_account", "image_pull_secrets", "ttl", "namespace"}

// parseSettings decodes the notebook-level settings. The "datainsight" key
// wins over Kale's; a notebook carrying both gets Kale's only where ours is
// silent. Every mistake is reported, each naming the field that has it
// (metadata.datainsight.volumes[1].mount_path), and a setting with a
// mistake is left unset.
func parseSettings(md map[string]json.RawMessage) (Settings, []Diagnostic) {
	s, r := readSettings(md)
	return s, r.diags
}

// readSettings is parseSettings, with the reader that holds the problems
// found and the field of each.
func readSettings(md map[string]json.RawMessage) (Settings, *settingsReader) {
	var s Settings
	r := &settingsReader{}
	// Which object the volumes came from, for the paths of later checks.
	volPath, mountKey := "", ""
	if raw, ok := md["kubeflow_notebook"]; ok {
		s = r.kale("metadata.kubeflow_notebook", raw)
		volPath, mountKey = "metadata.kubeflow_notebook.volumes", "mount_point"
	}
	if raw, ok := md["datainsight"]; ok {
		ds := r.datainsight("metadata.datainsight", raw)
		if ds.Volumes != nil {
			volPath, mountKey = "metadata.datainsight.volumes", "mount_path"
		}
		s = overlay(s, ds)
	}
	r.mountConflicts(s, volPath, mountKey)
	for i, v := range s.Volumes {
		if v.Type == VolumeClone {
			r.add(Info, CodeVolumeNotLocal, fmt.Sprintf("%s[%d]", volPath, i),
				"a %q volume: on a cluster each run mounts a new claim cloned from %q at %s; a local run uses the notebook's own folder and mounts nothing",
				VolumeClone, v.Name, v.MountPath)
		}
	}
	return s, r
}

// settingsReader reads settings from decoded JSON, keeping every mistake
// as a diagnostic that names the field's path.
type settingsReader struct {
	diags  []Diagnostic
	fields []string // the field each of diags is about
}

func (r *settingsReader) add(sev Severity, code, path, format string, args ...any) {
	r.diags = append(r.diags, Diagnostic{Severity: sev, Code: code, Message: path + ": " + fmt.Sprintf(format, args...)})
	r.fields = append(r.fields, path)
}

// SettingProblem is a mistake in (or a note about) one pipeline setting.
type SettingProblem struct {
	// Field is the setting's path, e.g.
	// metadata.datainsight.volumes[1].mount_path.
	Field    string   `json:"field"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	// Message says what is wrong, without the field.
	Message string `json:"message"`
}

// CheckSettings reads the pipeline settings of a notebook's metadata
// exactly as ParsePipeline does, and returns every problem found with the
// field it is about: a setting with an error is left unset in the result.
func CheckSettings(md map[string]json.RawMessage) (Settings, []SettingProblem) {
	s, r := readSettings(md)
	out := make([]SettingProblem, 0, len(r.diags))
	for i, d := range r.diags {
		f := r.fields[i]
		out = append(out, SettingProblem{Field: f, Severity: d.Severity, Code: d.Code, Message: strings.TrimPrefix(d.Message, f+": ")})
	}
	return s, out
}

func (r *settingsReader) errorf(path, format string, args ...any) {
	r.add(Error, CodeBadSetting, path, format, args...)
}

// decode parses raw JSON into plain values (numbers kept as written).
func (r *settingsReader) decode(at string, raw json.RawMessage) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		// The notebook parsed, so this is what it accepts beyond JSON.
		r.errorf(at, "has NaN or Infinity, which no setting takes (Python writes them for float('nan') and float('inf'))")
		return nil, false
	}
	return v, true
}

// jsonKind names a JSON value the way a notebook author would: "a string", "a
// list", "a number (5)".
func jsonKind(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("a string (%q)", x)
	case json.Number:
		return fmt.Sprintf("a number (%s)", x)
	case bool:
		return fmt.Sprintf("%t", x)
	}
	return "null"
}

// object returns v as an object. Keys outside known are mistakes unless
// lenient, which leaves them to the caller.
func (r *settingsReader) object(path string, v any, known []string, lenient bool) (map[string]any, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		r.errorf(path, "expected an object, got %s", jsonKind(v))
		return nil, false
	}
	if !lenient {
		for _, k := range sortedKeys(obj) {
			if !contains(known, k) {
				r.errorf(path, "unknown key %q%s", k, suggest(k, known))
			}
		}
	}
	return obj, true
}

func sortedKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// str reads a string; null and absence read as "".
func (r *settingsReader) str(path string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	r.errorf(path, "expected a string, got %s", jsonKind(v))
	return ""
}

// text reads a string that becomes one line of something else (a name,
// an image reference): control characters and line breaks in it are
// mistakes.
func (r *settingsReader) text(path string, v any) (string, bool) {
	s := r.str(path, v)
	if i := strings.IndexFunc(s, breaksALine); i >= 0 {
		r.errorf(path, "%q contains %U, which has no place in it (a line break or control character)", s, []rune(s[i:])[0])
		return "", false
	}
	return s, true
}

// breaksALine reports control characters and Unicode's line and
// paragraph separators, which some readers take for line breaks.
func breaksALine(c rune) bool {
	return unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085'
}

// strList reads a list of strings; null reads as no list.
func (r *settingsReader) strList(path string, v any) []string {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		r.errorf(path, "expected a list of strings, got %s", jsonKind(v))
		return nil
	}
	out := []string{}
	for i, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		} else {
			r.errorf(fmt.Sprintf("%s[%d]", path, i), "expected a string, got %s", jsonKind(e))
		}
	}
	return out
}

func (r *settingsReader) integer(path string, v any) int {
	if v == nil {
		return 0
	}
	n, ok := v.(json.Number)
	if !ok {
		r.errorf(path, "expected an integer, got %s", jsonKind(v))
		return 0
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		r.errorf(path, "expected an integer, got %s", jsonKind(v))
		return 0
	}
	return int(i)
}

// duration reads "90s", "1h30m", "2d" or a number of seconds.
func (r *settingsReader) duration(path string, v any) Duration {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return 0
	case json.Number:
		raw = []byte(x)
	case string:
		raw, _ = json.Marshal(x)
	default:
		r.errorf(path, "expected a duration such as \"1h30m\" or a number of seconds, got %s", jsonKind(v))
		return 0
	}
	var d Duration
	if err := d.UnmarshalJSON(raw); err != nil {
		r.errorf(path, "%v", err)
		return 0
	}
	return d
}

// image reads an image reference ("python:3.11-slim", "ghcr.io/o/i@sha256:…").
func (r *settingsReader) image(path string, v any) string {
	s := r.str(path, v)
	if s == "" {
		return ""
	}
	if err := ValidImage(s); err != nil {
		r.errorf(path, "%v", err)
		return ""
	}
	return s
}

// ValidImage says what is wrong with an image reference, or nil. It is the
// syntax container runtimes read (github.com/distribution/reference): a
// reference the runtime cannot pull fails the step only when its pod
// starts, far from the notebook that named it.
func ValidImage(ref string) error {
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		return fmt.Errorf("image %q is not an image reference (%v); write e.g. python:3.11-slim or registry.example.com/team/image:1.0", ref, err)
	}
	return nil
}

// objectName reads the name of a Kubernetes object (a claim, a service
// account, a secret, a storage class): a DNS-1123 subdomain.
func (r *settingsReader) objectName(path, what string, v any) string {
	s := r.str(path, v)
	if s == "" {
		return ""
	}
	if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
		r.errorf(path, "%q is not a valid %s name: %s", s, what, msgs[0])
		return ""
	}
	return s
}

func (r *settingsReader) quantity(path string, v any) string {
	s := r.str(path, v)
	if s != "" && validQuantity(s) != nil {
		r.errorf(path, "%q is not a Kubernetes quantity (e.g. \"5Gi\")", s)
		return ""
	}
	return s
}

func (r *settingsReader) accessMode(path string, v any) string {
	s := r.str(path, v)
	if s != "" && !accessModes[s] {
		r.errorf(path, "%q must be %s", s, accessModeList)
		return ""
	}
	return s
}

// mountPath reads where a volume is mounted in every step's container.
func (r *settingsReader) mountPath(path string, v any) string {
	s := r.str(path, v)
	if s == "" {
		if v == "" {
			r.errorf(path, "is empty: say where the volume appears in every step, e.g. /data")
		}
		return ""
	}
	if err := ValidMountPath(s); err != nil {
		r.errorf(path, "%v", err)
		return ""
	}
	return s
}

// ValidMountPath says what is wrong with a volume's mount path, or nil: it
// must be a folder of its own, not where the step's container, Datainsight
// or Argo has something.
func ValidMountPath(p string) error {
	switch clean := path.Clean(p); {
	case strings.IndexFunc(p, breaksALine) >= 0:
		return fmt.Errorf("%q contains a line break or control character", p)
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q must be an absolute path (starting with /)", p)
	case contains(strings.Split(p, "/"), ".."):
		return fmt.Errorf("%q must not contain \"..\"; write the folder it means", p)
	case clean == "/":
		return fmt.Errorf("%q would hide the whole file system of the step's container; mount the volume in a folder such as /data", p)
	default:
		for _, res := range reservedMounts {
			if clean == res.dir || strings.HasPrefix(clean, res.dir+"/") {
				return fmt.Errorf("%q is under %s, which is %s; choose another folder", p, res.dir, res.owner)
			}
		}
	}
	return nil
}

// stepDefaults reads tags applied to every step, keeping the valid ones.
func (r *settingsReader) stepDefaults(path string, v any) []string {
	tags := r.strList(path, v)
	if tags == nil {
		return nil
	}
	ok := []string{}
	for i, t := range tags {
		if err := applySetting(&StepSettings{}, t); err != nil {
			r.errorf(fmt.Sprintf("%s[%d]", path, i), "tag %q: %v", t, err)
			continue
		}
		ok = append(ok, t)
	}
	return ok
}

// datainsight reads the "datainsight" object, strictly: an unknown key is
// an error naming it.
func (r *settingsReader) datainsight(at string, raw json.RawMessage) Settings {
	var s Settings
	v, ok := r.decode(at, raw)
	if !ok {
		return s
	}
	obj, ok := r.object(at, v, datainsightKeys, false)
	if !ok {
		return s
	}
	field := func(k string) string { return at + "." + k }
	if _, ok := obj["namespace"]; ok {
		r.add(Warning, CodeNamespaceIgnored, field("namespace"), "ignored: the namespace comes from your configuration (--namespace, DATAINSIGHT_NAMESPACE or the config file), never from the notebook")
	}
	s.Name, _ = r.text(field("name"), obj["name"])
	s.Description = r.str(field("description"), obj["description"])
	if img, ok := r.text(field("image"), obj["image"]); ok {
		s.Image = r.image(field("image"), img)
	}
	if vs, ok := obj["volumes"]; ok && vs != nil {
		s.Volumes = r.volumes(field("volumes"), vs)
	}
	if w, ok := obj["workspace"]; ok && w != nil {
		s.Workspace = r.workspace(field("workspace"), w)
	}
	if m, ok := obj["marshal"]; ok && m != nil {
		s.Marshal = r.marshal(field("marshal"), m)
	}
	s.StepDefaults = r.stepDefaults(field("step_defaults"), obj["step_defaults"])
	s.Timeout = r.duration(field("timeout"), obj["timeout"])
	s.TTL = r.duration(field("ttl"), obj["ttl"])
	if n := r.integer(field("parallelism"), obj["parallelism"]); n < 0 {
		r.errorf(field("parallelism"), "must be 0 (no limit) or more, not %d", n)
	} else {
		s.Parallelism = n
	}
	s.ServiceAccount = r.objectName(field("service_account"), "service account", obj["service_account"])
	if v := obj["image_pull_secrets"]; v != nil {
		s.ImagePullSecrets = []string{}
		for i, sec := range r.strList(field("image_pull_secrets"), v) {
			if sec = r.objectName(fmt.Sprintf("%s[%d]", field("image_pull_secrets"), i), "secret", sec); sec != "" {
				s.ImagePullSecrets = append(s.ImagePullSecrets, sec)
			}
		}
	}
	return s
}

var volumeKeys = []string{"name", "mount_path", "type", "size", "storage_class", "access_mode"}

func (r *settingsReader) volumes(at string, v any) []Volume {
	list, ok := v.([]any)
	if !ok {
		r.errorf(at, "expected a list of volumes, got %s", jsonKind(v))
		return nil
	}
	out := []Volume{}
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", at, i)
		obj, ok := r.object(p, e, volumeKeys, false)
		if !ok {
			continue
		}
		vol := Volume{
			Type:         r.str(p+".type", obj["type"]),
			MountPath:    r.mountPath(p+".mount_path", obj["mount_path"]),
			Size:         r.quantity(p+".size", obj["size"]),
			StorageClass: r.objectName(p+".storage_class", "storage class", obj["storage_class"]),
			AccessMode:   r.accessMode(p+".access_mode", obj["access_mode"]),
		}
		// The claim to mount or clone, or for a new_pvc the one to make.
		vol.Name = r.objectName(p+".name", "claim", obj["name"])
		if r.volumeChecks(p, "mount_path", vol, obj["name"], obj["mount_path"]) {
			out = append(out, vol)
		}
	}
	return out
}

// volumeChecks checks what a volume's fields say together, and whether
// every field was read without a mistake; it reports whether the volume
// is usable.
func (r *settingsReader) volumeChecks(at, mountKey string, v Volume, rawName, rawMount any) bool {
	before := len(r.diags)
	switch v.Type {
	case "", VolumePVC:
	case VolumeNewPVC, VolumeClone:
		if v.Size == "" {
			what := "a new claim"
			if v.Type == VolumeClone {
				what = "a clone (at least the size of the claim it copies)"
			}
			r.errorf(at+".size", "%s needs a size, e.g. \"5Gi\"", what)
		}
	default:
		r.errorf(at+".type", "%q must be %q (an existing claim), %q (a new claim per run) or %q (a per-run copy of an existing claim)", v.Type, VolumePVC, VolumeNewPVC, VolumeClone)
	}
	if rawName == nil {
		r.errorf(at+".name", "is required: the claim to mount")
	}
	if rawMount == nil {
		r.errorf(at+"."+mountKey, "is required: where the volume appears in every step")
	}
	return r.errorsSince(before) == 0 && v.Name != "" && v.MountPath != ""
}

func (r *settingsReader) errorsSince(n int) int {
	k := 0
	for _, d := range r.diags[n:] {
		if d.Severity == Error {
			k++
		}
	}
	return k
}

var workspaceKeys = []string{"mode", "pvc", "mount_path"}

func (r *settingsReader) workspace(at string, v any) *Workspace {
	obj, ok := r.object(at, v, workspaceKeys, false)
	if !ok {
		return nil
	}
	w := &Workspace{
		Mode:      r.str(at+".mode", obj["mode"]),
		PVC:       r.objectName(at+".pvc", "claim", obj["pvc"]),
		MountPath: r.mountPath(at+".mount_path", obj["mount_path"]),
	}
	switch w.Mode {
	case "pvc":
		if obj["pvc"] == nil {
			r.errorf(at+".pvc", "is required with mode \"pvc\": the notebook server's volume")
		}
		if obj["mount_path"] == nil {
			r.errorf(at+".mount_path", "is required with mode \"pvc\": where the notebook server mounts its volume")
		}
		if w.PVC == "" || w.MountPath == "" {
			return nil
		}
	case "artifacts", "image":
	case "":
		r.errorf(at+".mode", "is required: \"pvc\", \"artifacts\" or \"image\"")
		return nil
	default:
		r.errorf(at+".mode", "%q must be \"pvc\", \"artifacts\" or \"image\"", w.Mode)
		return nil
	}
	return w
}

var marshalKeys = []string{"mode", "pvc", "size", "storage_class", "access_mode"}

func (r *settingsReader) marshal(at string, v any) *Marshal {
	obj, ok := r.object(at, v, marshalKeys, false)
	if !ok {
		return nil
	}
	m := &Marshal{
		Mode:         r.str(at+".mode", obj["mode"]),
		PVC:          r.objectName(at+".pvc", "claim", obj["pvc"]),
		Size:         r.quantity(at+".size", obj["size"]),
		StorageClass: r.objectName(at+".storage_class", "storage class", obj["storage_class"]),
		AccessMode:   r.accessMode(at+".access_mode", obj["access_mode"]),
	}
	switch m.Mode {
	case "", "pvc", "artifacts":
	default:
		r.errorf(at+".mode", "%q must be \"pvc\" or \"artifacts\"", m.Mode)
		m.Mode = ""
	}
	return m
}

// kale reads Kale's kubeflow_notebook object: the keys with a meaning here
// are mapped, the others ignored with an info diagnostic.
func (r *settingsReader) kale(at string, raw json.RawMessage) Settings {
	var s Settings
	v, ok := r.decode(at, raw)
	if !ok {
		return s
	}
	obj, ok := r.object(at, v, kaleKnown, true)
	if !ok {
		return s
	}
	for _, k := range sortedKeys(obj) {
		if !contains(kaleKnown, k) {
			r.add(Info, CodeKaleSettingIgnored, at+"."+k, "a Kale setting Datainsight does not use; ignored")
		}
	}
	field := func(k string) string { return at + "." + k }
	s.Name, _ = r.text(field("pipeline_name"), obj["pipeline_name"])
	s.Description = r.str(field("pipeline_description"), obj["pipeline_description"])
	if img, ok := r.text(field("docker_image"), obj["docker_image"]); ok {
		s.Image = r.image(field("docker_image"), img)
	}
	s.StepDefaults = r.stepDefaults(field("steps_defaults"), obj["steps_defaults"])
	s.Timeout = r.duration(field("timeout"), obj["timeout"])
	class := r.objectName(field("storage_class_name"), "storage class", obj["storage_class_name"])
	mode := r.str(field("volume_access_mode"), obj["volume_access_mode"])
	// Kale writes access modes in short form.
	if full, ok := map[string]string{"rwo": "ReadWriteOnce", "rwm": "ReadWriteMany", "rom": "ReadOnlyMany"}[strings.ToLower(mode)]; ok {
		mode = full
	}
	if mode != "" && !accessModes[mode] {
		r.errorf(field("volume_access_mode"), "%q must be rwo, rwm, rom or %s", mode, accessModeList)
		mode = ""
	}
	if vs := obj["volumes"]; vs != nil {
		list, ok := vs.([]any)
		if !ok {
			r.errorf(field("volumes"), "expected a list of volumes, got %s", jsonKind(vs))
		}
		s.Volumes = []Volume{}
		for i, e := range list {
			if vol, ok := r.kaleVolume(fmt.Sprintf("%s[%d]", field("volumes"), i), e, class, mode); ok {
				s.Volumes = append(s.Volumes, vol)
			}
		}
	}
	if class != "" || mode != "" {
		s.Marshal = &Marshal{StorageClass: class, AccessMode: mode}
	}
	return s
}

func (r *settingsReader) kaleVolume(at string, v any, class, mode string) (Volume, bool) {
	// Kale writes more keys than these (annotations, snapshot, ...), which
	// mean nothing here.
	obj, ok := r.object(at, v, nil, true)
	if !ok {
		return Volume{}, false
	}
	vol := Volume{
		Type:         r.str(at+".type", obj["type"]),
		MountPath:    r.mountPath(at+".mount_point", obj["mount_point"]),
		StorageClass: class,
		AccessMode:   mode,
	}
	switch vol.Type {
	case "":
		vol.Type = VolumePVC
	case VolumePVC, VolumeNewPVC, VolumeClone:
	case "pv":
		r.errorf(at+".type", "\"pv\" (binding a claim to an existing persistent volume) is not supported; make a claim for the volume and use \"pvc\"")
		return Volume{}, false
	}
	vol.Name = r.objectName(at+".name", "claim", obj["name"])
	switch sz := obj["size"].(type) {
	case nil:
	case json.Number, string:
		n := fmt.Sprint(sz)
		unit := r.str(at+".size_type", obj["size_type"])
		if n != "" {
			vol.Size = r.quantity(at+".size", n+unit)
		}
	default:
		r.errorf(at+".size", "expected a number, got %s", jsonKind(sz))
	}
	return vol, r.volumeChecks(at, "mount_point", vol, obj["name"], obj["mount_point"])
}

// mountConflicts refuses two mounts at one place in the steps' containers:
// Kubernetes rejects the pod, or one hides the other.
func (r *settingsReader) mountConflicts(s Settings, volPath, mountKey string) {
	seen := map[string]string{}
	for i, v := range s.Volumes {
		p := fmt.Sprintf("%s[%d].%s", volPath, i, mountKey)
		clean := path.Clean(v.MountPath)
		if first, dup := seen[clean]; dup {
			r.errorf(p, "%q: %s is mounted there too; each volume needs its own folder", v.MountPath, first)
			continue
		}
		seen[clean] = fmt.Sprintf("%s[%d]", strings.TrimPrefix(volPath, "metadata."), i)
	}
	if w := s.Workspace; w != nil && w.Mode == "pvc" {
		if first, dup := seen[path.Clean(w.MountPath)]; dup {
			r.errorf("metadata.datainsight.workspace.mount_path", "%q: %s is mounted there too; the workspace needs its own folder", w.MountPath, first)
		}
	}
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

// UnmarshalJSON reads "90s", "1h30m", "2d", "1d12h" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if n, err := strconv.ParseFloat(string(b), 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Converting a float beyond int64 to a Duration gives an arbitrary
		// value (1e300 seconds once read as negative): check the range first.
		ns := n * float64(time.Second)
		switch {
		case n < 0:
			return fmt.Errorf("invalid duration %s: negative", b)
		case ns >= durationLimit:
			return fmt.Errorf("invalid duration %s seconds: %s", b, tooLong)
		}
		*d = Duration(ns)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string like \"1h30m\" or a number of seconds")
	}
	if s == "" {
		*d = 0 // unset, as metadata written by other tools may say
		return nil
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
	// Dividing first: adding a second to round up overflowed near the
	// longest duration and turned it negative.
	s := int64(time.Duration(d) / time.Second)
	if time.Duration(d)%time.Second > 0 {
		s++
	}
	return s
}

// durationLimit is 2^63 ns, just beyond the longest time.Duration, as a
// float: a duration that reaches it cannot be represented.
const durationLimit = float64(1 << 63)

// tooLong ends the error for a duration beyond time.Duration's range.
const tooLong = "too long (the longest is 106751d23h47m16s, about 292 years)"

// ParseDuration parses Go durations plus a leading days part ("2d",
// "1d12h", "1.5d"), the days a plain decimal number. A duration too long to
// represent, NaN and a negative duration are each refused as such, never
// wrapped around into some other duration.
func ParseDuration(s string) (Duration, error) {
	invalid := fmt.Errorf("invalid duration %q (use e.g. \"90s\", \"1h30m\", \"2d\")", s)
	rest, neg := s, false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		rest, neg = rest[1:], rest[0] == '-'
	}
	var days float64
	hasDays := false
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		num := rest[:i]
		switch {
		case strings.EqualFold(num, "nan"):
			return 0, fmt.Errorf("invalid duration %q: NaN is not a number of days", s)
		case strings.EqualFold(num, "inf"), strings.EqualFold(num, "infinity"):
			return 0, fmt.Errorf("invalid duration %q: %s", s, tooLong)
		case !isDecimal(num):
			return 0, invalid
		}
		// Too many digits for a float64 parse as +Inf: too long as well.
		days, _ = strconv.ParseFloat(num, 64)
		rest, hasDays = rest[i+1:], true
	}
	var part time.Duration
	switch {
	case rest == "" && !hasDays:
		return 0, invalid
	case rest == "":
	case rest[0] == '-' || rest[0] == '+':
		return 0, invalid // a sign comes first or not at all: "1d-5h" is no duration
	default:
		var err error
		if part, err = time.ParseDuration(rest); err != nil {
			// time reports an overflow as a plain "invalid duration".
			if isGoDuration(rest) {
				return 0, fmt.Errorf("invalid duration %q: %s", s, tooLong)
			}
			return 0, invalid
		}
	}
	dayNs := days * float64(24*time.Hour)
	if dayNs >= durationLimit || time.Duration(dayNs) > math.MaxInt64-part {
		return 0, fmt.Errorf("invalid duration %q: %s", s, tooLong)
	}
	total := part + time.Duration(dayNs)
	if neg && total != 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	}
	return Duration(total), nil
}

// isDecimal reports whether s is digits with at most one decimal point
// ("2", "1.5", ".5", "2."): no sign, exponent, NaN, Inf or hex, all of
// which strconv.ParseFloat would take.
func isDecimal(s string) bool {
	digits, points := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// isGoDuration reports whether s has the syntax time.ParseDuration reads,
// less the sign: decimal numbers, each followed by a unit. Such a string
// that time.ParseDuration refuses is out of range.
func isGoDuration(s string) bool {
	if s == "" || s == "0" {
		return s == "0"
	}
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if !isDecimal(s[:i]) {
			return false
		}
		s = s[i:]
		j := 0
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		switch s[:j] {
		case "ns", "us", "µs", "μs", "ms", "s", "m", "h":
		default:
			return false
		}
		s = s[j:]
	}
	return true
}
