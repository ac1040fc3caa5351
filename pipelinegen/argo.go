package pipelinegen

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	apiv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/notebook"
)

// Labels and annotations that link every run to its notebook.
const (
	LabelNotebook      = "datainsight.io/notebook"
	LabelRun           = "datainsight.io/run"
	LabelStep          = "datainsight.io/step"
	AnnotationNotebook = "datainsight.io/notebook-path"
	AnnotationPipeline = "datainsight.io/pipeline"
)

// Paths inside step pods.
const (
	MarshalMount = "/datainsight/marshal"
	RuntimeMount = "/datainsight/runtime"
	// MarshalVolume names the marshal volume in a Workflow's spec.
	MarshalVolume = "datainsight-marshal"
	runtimeVol    = "datainsight-runtime"
	entrypoint    = "pipeline"
)

// What a step leaves in its folder of the marshal volume,
// <MarshalMount>/<run>/<step>/, besides its values.
const (
	StepLog        = "output.log" // everything the step printed (steps run on a cluster keep it)
	StepReport     = "report.ipynb"
	StepReportHTML = "report.html"
	StepMetrics    = "metrics.json"
)

// DefaultImage runs steps whose notebook names no image. The runtime needs
// only the standard library; notebooks using more name their image.
const DefaultImage = "python:3.11-slim"

// WorkflowOptions tune the generated Workflow.
type WorkflowOptions struct {
	// RunName, when set, names the Workflow; otherwise it has a
	// generateName and Argo picks the name at submit.
	RunName string
	// NotebookDir is the notebook's folder as the notebook server sees it;
	// with a "pvc" workspace, steps run there.
	NotebookDir string
	// RuntimeConfigMap names the ConfigMap holding the runtime (default:
	// RuntimeConfigMap(), named after the runtime's content).
	RuntimeConfigMap string
	// ArtifactRepository says an artifact repository is configured, so step
	// reports and metrics become output artifacts. Without one, Argo fails
	// every step that declares artifacts.
	ArtifactRepository bool
	// GPUTolerations are added to every step with a GPU limit: clusters
	// taint their GPU nodes, and the notebook should not have to know how.
	GPUTolerations []notebook.Toleration
	// MarshalClaim names a claim the submitter made for this run's marshal
	// volume (see MarshalClaim), used instead of a volumeClaimTemplate:
	// Argo deletes a template's claim when the run succeeds, and with it
	// the step logs and reports read after the pods are gone. Ignored when
	// the notebook names its own marshal volume.
	MarshalClaim string
}

// MarshalClaim is the claim to make, under name, for the marshal volume of
// one run, or nil when the notebook names an existing volume.
func MarshalClaim(p *Pipeline, name string) (*apiv1.PersistentVolumeClaim, error) {
	m := p.Settings.Marshal
	if m == nil {
		m = &notebook.Marshal{}
	}
	if m.PVC != "" {
		return nil, nil
	}
	pvc, err := claim(name, orDefault(m.Size, "1Gi"), m.StorageClass, orDefault(m.AccessMode, "ReadWriteOnce"))
	if err != nil {
		return nil, fmt.Errorf("marshal volume: %w", err)
	}
	return &pvc, nil
}

// RuntimeConfigMap is the name of the ConfigMap holding this build's
// marshalling runtime: content-addressed, so runs share it and an upgrade
// never changes the runtime under a running workflow.
func RuntimeConfigMap() string { return "datainsight-runtime-" + ShortHash(string(RuntimeSource())) }

// Workflow builds the Argo Workflow of a compiled pipeline from Argo's own
// types. It fails, rather than emitting a workflow Argo would reject, when
// a name or value cannot be mapped.
func Workflow(p *Pipeline, opts WorkflowOptions) (*wfv1.Workflow, error) {
	s := p.Settings
	names, err := argoNames(p.Steps)
	if err != nil {
		return nil, err
	}
	wf := &wfv1.Workflow{
		TypeMeta: metav1.TypeMeta{APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow"},
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{LabelNotebook: p.NotebookID},
			Annotations: map[string]string{AnnotationNotebook: p.Notebook, AnnotationPipeline: p.Name},
		},
	}
	if opts.RunName != "" {
		wf.Name = opts.RunName
		wf.Labels[LabelRun] = opts.RunName
	} else {
		wf.GenerateName = dnsLabel(p.Name, 40) + "-"
	}
	if p.Description != "" {
		wf.Annotations["workflows.argoproj.io/description"] = p.Description
	}
	spec := &wf.Spec
	spec.Entrypoint = entrypoint
	spec.ServiceAccountName = s.ServiceAccount
	for _, sec := range s.ImagePullSecrets {
		spec.ImagePullSecrets = append(spec.ImagePullSecrets, apiv1.LocalObjectReference{Name: sec})
	}
	if s.Parallelism > 0 {
		n := int64(s.Parallelism)
		spec.Parallelism = &n
	}
	if s.Timeout > 0 {
		n := s.Timeout.Seconds()
		spec.ActiveDeadlineSeconds = &n
	}
	if s.TTL > 0 {
		n := int32(min(s.TTL.Seconds(), 1<<31-1))
		spec.TTLStrategy = &wfv1.TTLStrategy{SecondsAfterCompletion: &n}
		spec.PodGC = &wfv1.PodGC{Strategy: wfv1.PodGCOnWorkflowCompletion}
	}
	// A submitted run knows its name; a compiled file leaves it to Argo.
	run := "{{workflow.name}}"
	if opts.RunName != "" {
		run = opts.RunName
	}
	spec.PodMetadata = &wfv1.Metadata{Labels: map[string]string{LabelNotebook: p.NotebookID, LabelRun: run}}
	for _, prm := range p.Parameters {
		if errs := validParamName(prm.Name); errs != "" {
			return nil, fmt.Errorf("parameter %q: %s", prm.Name, errs)
		}
		spec.Arguments.Parameters = append(spec.Arguments.Parameters, wfv1.Parameter{Name: prm.Name, Value: wfv1.AnyStringPtr(prm.Default)})
	}

	cm := opts.RuntimeConfigMap
	if cm == "" {
		cm = RuntimeConfigMap()
	}
	mounts, err := volumes(p, spec, cm, opts.MarshalClaim)
	if err != nil {
		return nil, err
	}
	workDir := workingDir(s, opts.NotebookDir)

	dag := &wfv1.DAGTemplate{}
	for _, st := range p.Steps {
		task := wfv1.DAGTask{Name: names[st.Name], Template: names[st.Name]}
		for _, a := range st.After {
			task.Dependencies = append(task.Dependencies, names[a])
		}
		sort.Strings(task.Dependencies)
		dag.Tasks = append(dag.Tasks, task)
		tmpl, err := stepTemplate(p, st, names[st.Name], mounts, workDir, run, opts)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", st.Name, err)
		}
		spec.Templates = append(spec.Templates, tmpl)
	}
	spec.Templates = append([]wfv1.Template{{Name: entrypoint, DAG: dag}}, spec.Templates...)
	return wf, nil
}

// YAML marshals a workflow deterministically (sorted keys), without the
// empty status and creation timestamps a new object has.
func YAML(wf *wfv1.Workflow) ([]byte, error) {
	js, err := json.Marshal(wf)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, err
	}
	delete(doc, "status")
	dropTimestamps(doc)
	return yaml.Marshal(doc)
}

// dropTimestamps removes every null creationTimestamp and empty status
// that the API types marshal for objects not yet created.
func dropTimestamps(v any) {
	switch t := v.(type) {
	case map[string]any:
		if ts, ok := t["creationTimestamp"]; ok && ts == nil {
			delete(t, "creationTimestamp")
		}
		if st, ok := t["status"].(map[string]any); ok && len(st) == 0 {
			delete(t, "status")
		}
		for _, c := range t {
			dropTimestamps(c)
		}
	case []any:
		for _, c := range t {
			dropTimestamps(c)
		}
	}
}

func volumes(p *Pipeline, spec *wfv1.WorkflowSpec, runtimeConfigMap, marshalClaim string) ([]apiv1.VolumeMount, error) {
	s := p.Settings
	m := s.Marshal
	if m == nil {
		m = &notebook.Marshal{}
	}
	if m.Mode == "artifacts" {
		return nil, fmt.Errorf("marshal mode \"artifacts\" (object storage) is not supported yet; use \"pvc\"")
	}
	mounts := []apiv1.VolumeMount{
		{Name: MarshalVolume, MountPath: MarshalMount},
		{Name: runtimeVol, MountPath: RuntimeMount, ReadOnly: true},
	}
	switch {
	case m.PVC != "":
		spec.Volumes = append(spec.Volumes, pvcVolume(MarshalVolume, m.PVC))
	case marshalClaim != "":
		spec.Volumes = append(spec.Volumes, pvcVolume(MarshalVolume, marshalClaim))
	default:
		pvc, err := MarshalClaim(p, MarshalVolume)
		if err != nil {
			return nil, err
		}
		spec.VolumeClaimTemplates = append(spec.VolumeClaimTemplates, *pvc)
	}
	mode := int32(0o444)
	spec.Volumes = append(spec.Volumes, apiv1.Volume{Name: runtimeVol, VolumeSource: apiv1.VolumeSource{
		ConfigMap: &apiv1.ConfigMapVolumeSource{LocalObjectReference: apiv1.LocalObjectReference{Name: runtimeConfigMap}, DefaultMode: &mode},
	}})
	for i, v := range s.Volumes {
		name := fmt.Sprintf("volume-%d", i)
		if v.Type == "new_pvc" {
			pvc, err := claim(name, v.Size, v.StorageClass, orDefault(v.AccessMode, "ReadWriteOnce"))
			if err != nil {
				return nil, fmt.Errorf("volume %q: %w", v.Name, err)
			}
			pvc.Annotations = map[string]string{"datainsight.io/volume": v.Name}
			spec.VolumeClaimTemplates = append(spec.VolumeClaimTemplates, pvc)
		} else {
			spec.Volumes = append(spec.Volumes, pvcVolume(name, v.Name))
		}
		mounts = append(mounts, apiv1.VolumeMount{Name: name, MountPath: v.MountPath})
	}
	if w := s.Workspace; w != nil && w.Mode == "pvc" {
		spec.Volumes = append(spec.Volumes, pvcVolume("workspace", w.PVC))
		mounts = append(mounts, apiv1.VolumeMount{Name: "workspace", MountPath: w.MountPath})
	}
	return mounts, nil
}

func pvcVolume(name, claimName string) apiv1.Volume {
	return apiv1.Volume{Name: name, VolumeSource: apiv1.VolumeSource{
		PersistentVolumeClaim: &apiv1.PersistentVolumeClaimVolumeSource{ClaimName: claimName},
	}}
}

func claim(name, size, class, mode string) (apiv1.PersistentVolumeClaim, error) {
	q, err := resource.ParseQuantity(size)
	if err != nil {
		return apiv1.PersistentVolumeClaim{}, fmt.Errorf("size %q is not a quantity", size)
	}
	pvc := apiv1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: apiv1.PersistentVolumeClaimSpec{
			AccessModes: []apiv1.PersistentVolumeAccessMode{apiv1.PersistentVolumeAccessMode(mode)},
			Resources:   apiv1.VolumeResourceRequirements{Requests: apiv1.ResourceList{apiv1.ResourceStorage: q}},
		},
	}
	if class != "" {
		pvc.Spec.StorageClassName = &class
	}
	return pvc, nil
}

// workingDir is where steps run: the notebook's folder when the notebook
// server's workspace volume is mounted (Kale's default), else nothing.
func workingDir(s notebook.Settings, nbDir string) string {
	w := s.Workspace
	if w == nil || w.Mode != "pvc" || nbDir == "" {
		return ""
	}
	clean := path.Clean(nbDir)
	if clean == w.MountPath || strings.HasPrefix(clean, strings.TrimSuffix(w.MountPath, "/")+"/") {
		return clean
	}
	return w.MountPath
}

func stepTemplate(p *Pipeline, st *Step, name string, mounts []apiv1.VolumeMount, workDir, run string, opts WorkflowOptions) (wfv1.Template, error) {
	set := st.Settings
	image := orDefault(set.Image, orDefault(p.Settings.Image, DefaultImage))
	env := []apiv1.EnvVar{
		{Name: "DATAINSIGHT_MARSHAL_ROOT", Value: MarshalMount},
		{Name: "DATAINSIGHT_RUN_ID", Value: "{{workflow.name}}"},
		{Name: "DATAINSIGHT_RUNTIME_DIR", Value: RuntimeMount},
		{Name: "DATAINSIGHT_PYTHON_EXE", Value: "python3"},
		{Name: "PYTHONUNBUFFERED", Value: "1"},
		// The pod's log goes with the pod; the marshal volume keeps a copy.
		{Name: "DATAINSIGHT_KEEP_LOG", Value: "1"},
	}
	for _, prm := range p.Parameters {
		env = append(env, apiv1.EnvVar{Name: "DATAINSIGHT_PARAM_" + prm.Name, Value: "{{workflow.parameters." + prm.Name + "}}"})
	}
	for _, e := range set.Env {
		env = append(env, apiv1.EnvVar{Name: e.Name, Value: e.Value})
	}
	for _, sec := range set.Secrets {
		env = append(env, apiv1.EnvVar{Name: sec.Env, ValueFrom: &apiv1.EnvVarSource{SecretKeyRef: &apiv1.SecretKeySelector{
			LocalObjectReference: apiv1.LocalObjectReference{Name: sec.Secret}, Key: sec.Key,
		}}})
	}
	res, err := resources(set)
	if err != nil {
		return wfv1.Template{}, err
	}
	t := wfv1.Template{
		Name: name,
		Metadata: wfv1.Metadata{
			Labels:      merge(set.Labels, map[string]string{LabelStep: st.Name}),
			Annotations: set.Annotations,
		},
		NodeSelector: set.NodeSelector,
		Script: &wfv1.ScriptTemplate{
			Container: apiv1.Container{
				Image:        image,
				Command:      []string{"python3"},
				Env:          env,
				Resources:    res,
				VolumeMounts: mounts,
				WorkingDir:   workDir,
			},
			Source: st.Script,
		},
	}
	tols := set.Tolerations
	if hasGPU(set) {
		for _, g := range opts.GPUTolerations {
			if !containsToleration(tols, g) {
				tols = append(tols, g)
			}
		}
	}
	for _, tol := range tols {
		op := apiv1.TolerationOpEqual
		if tol.Value == "" {
			op = apiv1.TolerationOpExists
		}
		t.Tolerations = append(t.Tolerations, apiv1.Toleration{Key: tol.Key, Operator: op, Value: tol.Value, Effect: apiv1.TaintEffect(tol.Effect)})
	}
	if set.Retry > 0 {
		n := intstr.FromInt32(int32(set.Retry))
		t.RetryStrategy = &wfv1.RetryStrategy{Limit: &n, RetryPolicy: wfv1.RetryPolicyOnFailure}
	}
	if set.Timeout > 0 {
		n := intstr.FromInt32(int32(min(set.Timeout.Seconds(), 1<<31-1)))
		t.ActiveDeadlineSeconds = &n
	}
	if m := p.Settings.Marshal; m == nil || m.PVC == "" && (m.AccessMode == "" || m.AccessMode == "ReadWriteOnce" || m.AccessMode == "ReadWriteOncePod") {
		// One ReadWriteOnce volume: every step must run on the node that
		// mounted it, so each step is affine to the run's other pods.
		t.Affinity = &apiv1.Affinity{PodAffinity: &apiv1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []apiv1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelRun: run}},
				TopologyKey:   "kubernetes.io/hostname",
			}},
		}}
	}
	if opts.ArtifactRepository {
		dir := MarshalMount + "/{{workflow.name}}/" + st.Name + "/"
		for _, f := range []string{StepReport, StepReportHTML, StepMetrics, StepLog} {
			t.Outputs.Artifacts = append(t.Outputs.Artifacts, wfv1.Artifact{
				Name: strings.NewReplacer(".", "-").Replace(f), Path: dir + f, Optional: true,
			})
		}
	}
	return t, nil
}

// hasGPU reports whether a step asks for a GPU (any vendor's *gpu resource).
func hasGPU(set notebook.StepSettings) bool {
	for _, m := range []map[string]string{set.Limits, set.Requests} {
		for k := range m {
			if strings.HasSuffix(k, "/gpu") {
				return true
			}
		}
	}
	return false
}

func containsToleration(ts []notebook.Toleration, t notebook.Toleration) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func resources(set notebook.StepSettings) (apiv1.ResourceRequirements, error) {
	var r apiv1.ResourceRequirements
	conv := func(m map[string]string) (apiv1.ResourceList, error) {
		if len(m) == 0 {
			return nil, nil
		}
		l := apiv1.ResourceList{}
		for k, v := range m {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %q is not a quantity", k, v)
			}
			l[apiv1.ResourceName(k)] = q
		}
		return l, nil
	}
	var err error
	if r.Limits, err = conv(set.Limits); err != nil {
		return r, err
	}
	if r.Requests, err = conv(set.Requests); err != nil {
		return r, err
	}
	// Kubernetes requires GPU requests to equal limits; a limit alone
	// implies the request, so nothing more is needed for nvidia.com/gpu.
	return r, nil
}

// argoNames maps step names to Argo template and task names: "_" becomes
// "-" (Argo allows no "_"), names are kept short enough for pod names, and
// a collision or a shortened name gets a hash suffix.
func argoNames(steps []*Step) (map[string]string, error) {
	out := map[string]string{}
	used := map[string]string{}
	for _, st := range steps {
		n := dnsLabel(st.Name, 40)
		if n != strings.ReplaceAll(st.Name, "_", "-") || used[n] != "" || n == entrypoint {
			n = dnsLabel(st.Name, 33) + "-" + ShortHash(st.Name)[:6]
		}
		if prev := used[n]; prev != "" {
			return nil, fmt.Errorf("steps %q and %q map to the same Argo name %q; rename one", prev, st.Name, n)
		}
		used[n] = st.Name
		out[st.Name] = n
	}
	return out, nil
}

// dnsLabel makes a lower-case DNS-label-like name of at most max characters.
func dnsLabel(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	n := b.String()
	if len(n) > max {
		n = n[:max]
	}
	n = strings.Trim(n, "-")
	if n == "" {
		n = "step"
	}
	return n
}

func validParamName(n string) string {
	for _, r := range n {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "Argo parameter names allow only ASCII letters, digits, '_' and '-'"
		}
	}
	return ""
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
