package pipelinegen

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	apiv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/datainsight/datainsight/notebook"
)

// Labels and annotations that link every run to its notebook.
const (
	LabelNotebook = "datainsight.io/notebook"
	LabelRun      = "datainsight.io/run"
	// LabelStep is the step's name, as LabelValue makes it fit a label
	// value; AnnotationStep is the name itself, however long (StepName
	// reads the two).
	LabelStep          = "datainsight.io/step"
	AnnotationStep     = "datainsight.io/step-name"
	AnnotationNotebook = "datainsight.io/notebook-path"
	AnnotationPipeline = "datainsight.io/pipeline"
	// AnnotationVolume names, on a claim made for a run, the notebook's
	// volume it stands for.
	AnnotationVolume = "datainsight.io/volume"
)

// Paths inside step pods.
const (
	MarshalMount = "/datainsight/marshal"
	RuntimeMount = "/datainsight/runtime"
	// MarshalVolume names the marshal volume in a Workflow's spec.
	MarshalVolume = "datainsight-marshal"
	runtimeVol    = "datainsight-runtime"
	entrypoint    = "pipeline"
	// braceEnv holds "{" for env values that must reach the step with a
	// "{{" in them (see envValue).
	braceEnv = "DATAINSIGHT_BRACE"
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
	// ArtifactKeyPrefix is where in the artifact repository's bucket runs
	// in marshal mode "artifacts" keep their steps' files:
	// <prefix>/<run>/<step>/<file>, the layout a local run's store has
	// (default DefaultArtifactKeyPrefix).
	ArtifactKeyPrefix string
	// ArtifactRepositoryRef, when set, names the artifact repository
	// (a ConfigMap and key) instead of the namespace's default one.
	ArtifactRepositoryRef *wfv1.ArtifactRepositoryRef
}

// DefaultArtifactKeyPrefix is where artifacts-mode runs go in their
// bucket when WorkflowOptions names no prefix.
const DefaultArtifactKeyPrefix = "datainsight"

// MarshalArtifacts is the marshal mode that passes values between steps
// as Argo artifacts in object storage, with no shared volume.
const MarshalArtifacts = "artifacts"

// ArtifactsMode reports whether a pipeline passes its values as artifacts.
func ArtifactsMode(p *Pipeline) bool {
	return p.Settings.Marshal != nil && p.Settings.Marshal.Mode == MarshalArtifacts
}

// ArtifactFile is the file a value is at in a step's folder on Argo in
// artifacts mode, besides its own: an artifact's path is fixed when the
// workflow is generated, but a value's file name (its format's extension,
// or a group's file) is chosen only when it is saved. The runtime links
// the value there (DATAINSIGHT_ARTIFACTS=1) and loads from there when its
// own file is absent.
func ArtifactFile(value string) string { return value + ".artifact" }

// MarshalClaim is the claim to make, under name, for the marshal volume of
// one run, or nil when the notebook names an existing volume.
func MarshalClaim(p *Pipeline, name string) (*apiv1.PersistentVolumeClaim, error) {
	m := p.Settings.Marshal
	if m == nil {
		m = &notebook.Marshal{}
	}
	if m.PVC != "" || m.Mode == MarshalArtifacts {
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
	// The name Argo gives a run made from the compiled file: its
	// generateName and five characters. Labels that will hold it are
	// checked with one of that length.
	runLike := RunNamePrefix(p.Name) + "-xxxxx"
	if opts.RunName != "" {
		wf.Name = opts.RunName
		wf.Labels[LabelRun] = opts.RunName
		runLike = opts.RunName
	} else {
		wf.GenerateName = RunNamePrefix(p.Name) + "-"
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
	if err := CheckMetadata("the workflow", wf.Labels, wf.Annotations); err != nil {
		return nil, err
	}
	if s.Parallelism > 0 {
		n := int64(s.Parallelism)
		spec.Parallelism = &n
	}
	if s.Timeout > 0 {
		n := s.Timeout.Seconds()
		spec.ActiveDeadlineSeconds = &n
	}
	if ArtifactsMode(p) {
		spec.ArtifactRepositoryRef = opts.ArtifactRepositoryRef
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
	if err := CheckMetadata("the run's pods", map[string]string{LabelNotebook: p.NotebookID, LabelRun: runLike}, nil); err != nil {
		return nil, err
	}
	for _, prm := range p.Parameters {
		if errs := validParamName(prm.Name); errs != "" {
			return nil, fmt.Errorf("parameter %q: %s", prm.Name, errs)
		}
		v, err := ArgoParameterValue(prm.Default)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", prm.Name, err)
		}
		spec.Arguments.Parameters = append(spec.Arguments.Parameters, wfv1.Parameter{Name: prm.Name, Value: wfv1.AnyStringPtr(v)})
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
	if strings.Contains(workDir, "{{") {
		return nil, fmt.Errorf("the notebook's folder %q has \"{{\" in its path, which Argo would read as its own template syntax in the steps' working directory; rename the folder", workDir)
	}

	dag := &wfv1.DAGTemplate{}
	for _, st := range p.Steps {
		task := wfv1.DAGTask{Name: names[st.Name], Template: names[st.Name]}
		for _, a := range st.After {
			task.Dependencies = append(task.Dependencies, names[a])
		}
		sort.Strings(task.Dependencies)
		if ArtifactsMode(p) {
			task.Arguments.Artifacts = inputArtifactArgs(st, names)
		}
		dag.Tasks = append(dag.Tasks, task)
		tmpl, err := stepTemplate(p, st, names[st.Name], mounts, workDir, run, opts)
		if err == nil {
			err = CheckMetadata("its pod", tmpl.Metadata.Labels, tmpl.Metadata.Annotations)
		}
		if err == nil {
			err = CheckMetadata("its node selector", tmpl.NodeSelector, nil)
		}
		if err == nil {
			err = onlyOurTemplateTags(tmpl, p.Parameters)
		}
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", st.Name, err)
		}
		spec.Templates = append(spec.Templates, tmpl)
	}
	spec.Templates = append([]wfv1.Template{{Name: entrypoint, DAG: dag}}, spec.Templates...)
	// Argo substitutes global parameters in the rest of the spec too
	// (arguments, volumes, claim templates) before any step runs.
	rest := *spec
	rest.Templates = nil
	if err := onlyOurTemplateTags(rest, p.Parameters); err != nil {
		return nil, fmt.Errorf("the workflow's spec: %w", err)
	}
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
	mounts := []apiv1.VolumeMount{
		{Name: MarshalVolume, MountPath: MarshalMount},
		{Name: runtimeVol, MountPath: RuntimeMount, ReadOnly: true},
	}
	switch {
	case m.Mode == MarshalArtifacts:
		// Each pod's own: its inputs arrive there as artifacts, its
		// outputs leave from there as artifacts. No claim at all.
		spec.Volumes = append(spec.Volumes, apiv1.Volume{Name: MarshalVolume, VolumeSource: apiv1.VolumeSource{EmptyDir: &apiv1.EmptyDirVolumeSource{}}})
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
		switch v.Type {
		case notebook.VolumeNewPVC, notebook.VolumeClone:
			pvc, err := claim(name, v.Size, v.StorageClass, orDefault(v.AccessMode, "ReadWriteOnce"))
			if err != nil {
				return nil, fmt.Errorf("volume %q: %w", v.Name, err)
			}
			pvc.Annotations = map[string]string{AnnotationVolume: v.Name}
			if v.Type == notebook.VolumeClone {
				// Kubernetes volume cloning: the claim starts as a copy of
				// the named one, so each run has its own (Kale's "clone").
				pvc.Spec.DataSource = &apiv1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: v.Name}
			}
			if err := CheckMetadata(fmt.Sprintf("volume %q", v.Name), pvc.Labels, pvc.Annotations); err != nil {
				return nil, err
			}
			spec.VolumeClaimTemplates = append(spec.VolumeClaimTemplates, pvc)
		case notebook.VolumePVC, "":
			spec.Volumes = append(spec.Volumes, pvcVolume(name, v.Name))
		default:
			return nil, fmt.Errorf("volume %q: unknown type %q", v.Name, v.Type)
		}
		mounts = append(mounts, apiv1.VolumeMount{Name: name, MountPath: path.Clean(v.MountPath)})
	}
	if w := s.Workspace; w != nil && w.Mode == "pvc" {
		spec.Volumes = append(spec.Volumes, pvcVolume("workspace", w.PVC))
		mounts = append(mounts, apiv1.VolumeMount{Name: "workspace", MountPath: path.Clean(w.MountPath)})
	}
	// The notebook's settings refuse these already; a Pipeline made
	// another way must not make a container Kubernetes rejects, or one
	// whose volume hides Datainsight's own.
	seen := map[string]string{}
	for i, m := range mounts {
		if i >= 2 {
			if err := notebook.ValidMountPath(m.MountPath); err != nil {
				return nil, fmt.Errorf("volume %s: mount path %w", m.Name, err)
			}
		}
		if strings.Contains(m.MountPath, "{{") {
			return nil, fmt.Errorf("volume %s: mount path %q has \"{{\", which Argo would read as its own template syntax", m.Name, m.MountPath)
		}
		if other, dup := seen[m.MountPath]; dup {
			return nil, fmt.Errorf("volumes %s and %s are both mounted at %s", other, m.Name, m.MountPath)
		}
		seen[m.MountPath] = m.Name
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
	if ArtifactsMode(p) {
		env = append(env, apiv1.EnvVar{Name: "DATAINSIGHT_ARTIFACTS", Value: "1"})
	}
	for _, prm := range p.Parameters {
		env = append(env, apiv1.EnvVar{Name: "DATAINSIGHT_PARAM_" + prm.Name, Value: "{{workflow.parameters." + prm.Name + "}}"})
	}
	var tagEnv []apiv1.EnvVar
	braces := false
	for _, e := range set.Env {
		v, brace := envValue(e.Value)
		braces = braces || brace
		tagEnv = append(tagEnv, apiv1.EnvVar{Name: e.Name, Value: v})
	}
	if braces {
		// Before the values that refer to it: Kubernetes expands $(NAME)
		// only from variables defined earlier in the list.
		env = append(env, apiv1.EnvVar{Name: braceEnv, Value: "{"})
	}
	env = append(env, tagEnv...)
	for _, sec := range set.Secrets {
		if msgs := validation.IsConfigMapKey(sec.Key); len(msgs) > 0 {
			return wfv1.Template{}, fmt.Errorf("secret %s: key %q: %s", sec.Secret, sec.Key, msgs[0])
		}
		env = append(env, apiv1.EnvVar{Name: sec.Env, ValueFrom: &apiv1.EnvVarSource{SecretKeyRef: &apiv1.SecretKeySelector{
			LocalObjectReference: apiv1.LocalObjectReference{Name: sec.Secret}, Key: sec.Key,
		}}})
	}
	res, err := resources(set)
	if err != nil {
		return wfv1.Template{}, err
	}
	for _, k := range sortedKeys(set.Annotations) {
		// Argo substitutes {{...}} in a template's metadata too, and an
		// annotation has no way to say "{" that Argo leaves alone.
		if v := set.Annotations[k]; strings.Contains(v, "{{") {
			return wfv1.Template{}, fmt.Errorf("annotation %s: the value %q has \"{{\", which Argo would read as its own template syntax and replace; Datainsight cannot pass it to the pod unchanged", k, v)
		}
	}
	t := wfv1.Template{
		Name: name,
		Metadata: wfv1.Metadata{
			Labels:      merge(set.Labels, map[string]string{LabelStep: LabelValue(st.Name)}),
			Annotations: merge(set.Annotations, map[string]string{AnnotationStep: st.Name}),
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
			Source: argoScript(st.Name, st.Script),
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
		// Kubernetes holds a toleration's value to a label value's rules;
		// the tag's parser checks only its key.
		if msgs := validation.IsValidLabelValue(tol.Value); len(msgs) > 0 {
			return wfv1.Template{}, fmt.Errorf("toleration %s: value %q: %s", tol.Key, tol.Value, msgs[0])
		}
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
	if m := p.Settings.Marshal; !ArtifactsMode(p) && (m == nil || m.PVC == "" && (m.AccessMode == "" || m.AccessMode == "ReadWriteOnce" || m.AccessMode == "ReadWriteOncePod")) {
		// One ReadWriteOnce volume: every step must run on the node that
		// mounted it, so each step is affine to the run's other pods.
		t.Affinity = &apiv1.Affinity{PodAffinity: &apiv1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []apiv1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelRun: run}},
				TopologyKey:   "kubernetes.io/hostname",
			}},
		}}
	}
	switch {
	case ArtifactsMode(p):
		t.Inputs.Artifacts, t.Outputs.Artifacts = stepArtifacts(st, orDefault(opts.ArtifactKeyPrefix, DefaultArtifactKeyPrefix))
	case opts.ArtifactRepository:
		dir := MarshalMount + "/{{workflow.name}}/" + st.Name + "/"
		for _, f := range []string{StepReport, StepReportHTML, StepMetrics, StepLog} {
			t.Outputs.Artifacts = append(t.Outputs.Artifacts, wfv1.Artifact{
				Name: strings.NewReplacer(".", "-").Replace(f), Path: dir + f, Optional: true,
			})
		}
	}
	return t, nil
}

// Names of a step's artifacts in artifacts mode.
const (
	manifestArtifact = "manifest"
	valueArtifactPre = "value-"
)

// valueArtifact names the output artifact of one value: Argo allows only
// ASCII letters, digits, "-" and "_" in an artifact's name, and a value's
// name is any Python identifier.
func valueArtifact(name string) string {
	if validParamName(name) == "" {
		return valueArtifactPre + name
	}
	var kept strings.Builder
	for _, r := range name {
		if r < 0x80 && validParamName(string(r)) == "" && kept.Len() < 40 {
			kept.WriteRune(r)
		}
	}
	if kept.Len() == 0 {
		return valueArtifactPre + ShortHash(name)[:8]
	}
	return valueArtifactPre + kept.String() + "-" + ShortHash(name)[:8]
}

// inputArtifact names, in a consumer, the input that is an artifact of a
// producer step (step names are valid in artifact names); two producers'
// artifacts of one name stay apart.
func inputArtifact(producer, artifact string) string { return producer + "--" + artifact }

// stepArtifacts returns a step's input and output artifacts in artifacts
// mode. Each value is an artifact of its own, so a consumer downloads only
// what it loads; each producer's manifest comes with them, so the runtime
// loads as from a shared volume. Every file lands in the bucket at
// <prefix>/<run>/<step>/<file> (key-only artifacts: the repository gives
// the bucket, endpoint and credentials), raw, not archived, so the same
// store code reads a local run's and a cluster run's values.
func stepArtifacts(st *Step, prefix string) (inputs, outputs []wfv1.Artifact) {
	none := &wfv1.ArchiveStrategy{None: &wfv1.NoneStrategy{}}
	dir := func(step string) string { return MarshalMount + "/{{workflow.name}}/" + step + "/" }
	key := func(step, file string) *wfv1.S3Artifact {
		return &wfv1.S3Artifact{Key: path.Join(prefix, "{{workflow.name}}", step, file)}
	}
	for _, in := range inputsByProducer(st) {
		inputs = append(inputs, wfv1.Artifact{Name: inputArtifact(in.producer, manifestArtifact), Path: dir(in.producer) + "manifest.json"})
		for _, n := range in.names {
			inputs = append(inputs, wfv1.Artifact{Name: inputArtifact(in.producer, valueArtifact(n)), Path: dir(in.producer) + ArtifactFile(n)})
		}
	}
	for _, n := range st.Outs {
		outputs = append(outputs, wfv1.Artifact{Name: valueArtifact(n), Path: dir(st.Name) + ArtifactFile(n),
			ArtifactLocation: wfv1.ArtifactLocation{S3: key(st.Name, ArtifactFile(n))}, Archive: none})
	}
	if len(st.Outs) > 0 {
		outputs = append(outputs, wfv1.Artifact{Name: manifestArtifact, Path: dir(st.Name) + "manifest.json",
			ArtifactLocation: wfv1.ArtifactLocation{S3: key(st.Name, "manifest.json")}, Archive: none})
	}
	// The step's report, metrics and output stay readable once its pod is
	// gone, beside its values.
	for _, f := range []string{StepReport, StepReportHTML, StepMetrics, StepLog} {
		outputs = append(outputs, wfv1.Artifact{Name: strings.NewReplacer(".", "-").Replace(f), Path: dir(st.Name) + f,
			Optional: true, ArtifactLocation: wfv1.ArtifactLocation{S3: key(st.Name, f)}, Archive: none})
	}
	return inputs, outputs
}

type producerInputs struct {
	producer string
	names    []string
}

// inputsByProducer groups the values a step loads by the step they come
// from, sorted, for a stable workflow.
func inputsByProducer(st *Step) []producerInputs {
	by := map[string][]string{}
	for n, p := range st.Ins {
		by[p] = append(by[p], n)
	}
	var out []producerInputs
	for p, names := range by {
		sort.Strings(names)
		out = append(out, producerInputs{producer: p, names: names})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].producer < out[j].producer })
	return out
}

// inputArtifactArgs passes a DAG task the artifacts its template takes,
// each from the task of the step that saved it.
func inputArtifactArgs(st *Step, names map[string]string) []wfv1.Artifact {
	var args []wfv1.Artifact
	for _, in := range inputsByProducer(st) {
		task := names[in.producer]
		from := func(art string) string { return "{{tasks." + task + ".outputs.artifacts." + art + "}}" }
		args = append(args, wfv1.Artifact{Name: inputArtifact(in.producer, manifestArtifact), From: from(manifestArtifact)})
		for _, n := range in.names {
			args = append(args, wfv1.Artifact{Name: inputArtifact(in.producer, valueArtifact(n)), From: from(valueArtifact(n))})
		}
	}
	return args
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
		if n != strings.ReplaceAll(st.Name, "_", "-") || used[n] != "" || n == entrypoint || startsWithDigit(n) {
			prefix := dnsLabel(st.Name, 33)
			if startsWithDigit(prefix) {
				// Argo refuses a task whose name starts with a digit once
				// it has dependencies ("_1st" would become "1st").
				prefix = "step-" + dnsLabel(st.Name, 28)
			}
			n = prefix + "-" + ShortHash(st.Name)[:6]
		}
		if prev := used[n]; prev != "" {
			return nil, fmt.Errorf("steps %q and %q map to the same Argo name %q; rename one", prev, st.Name, n)
		}
		used[n] = st.Name
		out[st.Name] = n
	}
	return out, nil
}

// RunNamePrefix is what a pipeline's name becomes at the start of its
// runs' names: the generateName of a compiled file, and the name a backend
// gives a run it submits, so that both name runs alike. Pipeline names are
// free text ("Nightly Churn"); workflow names and the labels that hold
// them are not.
func RunNamePrefix(pipeline string) string { return dnsLabel(pipeline, 40) }

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

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// LabelValue returns s when it is a valid Kubernetes label value, else a
// valid one made from it, always the same for the same s: as much of s as
// fits and a hash of all of it, so two names that differ only past the
// cut get two values.
func LabelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	hash := ShortHash(s)
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case alnum(c), c == '-', c == '_', c == '.':
			b = append(b, c)
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
	}
	b = b[:min(len(b), validation.LabelValueMaxLength-len(hash)-1)]
	// A label value starts and ends with a letter or digit.
	prefix := strings.TrimRight(strings.TrimLeft(string(b), "-_."), "-_.")
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}

// StepName returns the step a pod or template belongs to, from its
// metadata: the annotation has the whole name; a run made before there was
// one has only the label.
func StepName(labels, annotations map[string]string) string {
	if s := annotations[AnnotationStep]; s != "" {
		return s
	}
	return labels[LabelStep]
}

// CheckMetadata returns what Kubernetes would refuse in the labels and
// annotations of an object (what names it), or nil: every label and
// annotation the project writes goes through it, so a bad one is an error
// that says which, not an API server's refusal or a pod that never starts.
func CheckMetadata(what string, labels, annotations map[string]string) error {
	var msgs []string
	for _, k := range sortedKeys(labels) {
		for _, m := range validation.IsQualifiedName(k) {
			msgs = append(msgs, fmt.Sprintf("label key %q: %s", k, m))
		}
		for _, m := range validation.IsValidLabelValue(labels[k]) {
			msgs = append(msgs, fmt.Sprintf("label %s: value %q: %s", k, labels[k], m))
		}
	}
	size := 0
	for _, k := range sortedKeys(annotations) {
		// As Kubernetes checks them: annotation keys may have capitals.
		for _, m := range validation.IsQualifiedName(strings.ToLower(k)) {
			msgs = append(msgs, fmt.Sprintf("annotation key %q: %s", k, m))
		}
		size += len(k) + len(annotations[k])
	}
	if size > apivalidation.TotalAnnotationSizeLimitB {
		msgs = append(msgs, fmt.Sprintf("annotations: %d bytes in all, over Kubernetes' limit of %d", size, apivalidation.TotalAnnotationSizeLimitB))
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s: %s", what, strings.Join(msgs, "; "))
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Argo substitutes "{{...}}" everywhere in a template (script source,
// env values, metadata), more than once (global parameters first, then
// inputs, so what one pass inserts the next reads again), and evaluates
// "{{=...}}" as an expression; an unclosed "{{" makes it refuse the
// workflow. It has no escape for a literal "{{". So notebook text reaches
// a step unchanged only if the template holds no "{{" of its own: each
// place writes it in a form that has none, and onlyOurTemplateTags checks
// the result.

// argoScript returns a step's script as Argo may carry it: unchanged when
// it has no "{{", else kept in one Python string in which a "{" followed
// by another is written \x7b, and run from there.
func argoScript(step, script string) string {
	if !strings.Contains(script, "{{") {
		return script
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Step %q, generated by datainsight: edit the notebook, not this file.\n", step)
	b.WriteString("# Its code has a \"{\" right after another, which Argo would take for its own template syntax:\n")
	b.WriteString("# the script is kept in a string that writes such a \"{\" as \\x7b, and run from there.\n")
	b.WriteString(`exec(compile("""`)
	for i := 0; i < len(script); {
		r, size := utf8.DecodeRuneInString(script[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '{' && i+1 < len(script) && script[i+1] == '{':
			b.WriteString(`\x7b`)
		case r == '\n', r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		default:
			b.WriteString(script[i : i+size])
		}
		i += size
	}
	fmt.Fprintf(&b, `""", %s, "exec"))`+"\n", notebook.PyQuote("<step "+step+">"))
	return b.String()
}

// envValue writes an env value so that the container gets it as the
// notebook has it. Kubernetes expands $(NAME) in env values ("$$" is a
// "$"); and a "{" followed by another becomes $(DATAINSIGHT_BRACE), which
// Kubernetes expands to "{" after Argo has passed over it. It reports
// whether the value needs DATAINSIGHT_BRACE.
func envValue(v string) (string, bool) {
	if !strings.ContainsAny(v, "${") {
		return v, false
	}
	var b strings.Builder
	brace := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '$':
			b.WriteString("$$")
		case c == '{' && i+1 < len(v) && v[i+1] == '{':
			b.WriteString("$(" + braceEnv + ")")
			brace = true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), brace
}

// ArgoParameterValue returns a parameter's value (a Python literal, as
// Compile and ParseParameterFlags make them) as a Workflow's argument
// holds it: the same value, with the "{" of a "{{" and every "$" in its
// strings written as \x7b and \x24. Argo substitutes the argument into
// the step's environment and then reads the result again for its own
// template syntax; Kubernetes then expands $(NAME) in it.
func ArgoParameterValue(literal string) (string, error) {
	if !strings.ContainsAny(literal, "${") {
		return literal, nil
	}
	// Written afresh, so that the strings are in the form escaped below
	// whatever quoting the value came with.
	lit, err := notebook.ParseLiteral(literal)
	if err != nil {
		return "", fmt.Errorf("value %s: %w", literal, err)
	}
	py := lit.Python()
	// Only a string can hold "$" or "{{" (a dict's own "{" is followed by a
	// key or "}"), and in Python() a backslash always starts a pair that
	// neither character ends: the escapes can go in place.
	var b strings.Builder
	for i := 0; i < len(py); i++ {
		switch c := py[i]; {
		case c == '\\' && i+1 < len(py):
			b.WriteString(py[i : i+2])
			i++
		case c == '$':
			b.WriteString(`\x24`)
		case c == '{' && i+1 < len(py) && py[i+1] == '{':
			b.WriteString(`\x7b`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// onlyOurTemplateTags refuses a step template (or the rest of a spec) in
// which Argo would find template syntax that Datainsight did not put there
// on purpose.
func onlyOurTemplateTags(v any, params []Parameter) error {
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ours := map[string]bool{"workflow.name": true}
	for _, p := range params {
		ours["workflow.parameters."+p.Name] = true
	}
	s := string(js)
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return fmt.Errorf("the template has an unclosed \"{{\" (%.40q), which Argo refuses", s[i:])
		}
		if tag := s[i+2 : i+j]; !ours[tag] {
			return fmt.Errorf("the template has %q, which Argo would read as its own template syntax", s[i:i+j+2])
		}
		s = s[i+j+2:]
	}
}
