// Package argo runs compiled pipelines as Argo Workflows on Kubernetes,
// through client-go and Argo's clientset. Everything about a run lives in
// the cluster — the Workflow's labels, annotations and status — so a
// restarted CLI or sidecar loses nothing. The namespace is fixed when the
// backend is made: no pipeline or request can choose another.
package argo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	wfclient "github.com/argoproj/argo-workflows/v3/pkg/client/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/pipelinegen"
)

var _ cluster.Backend = (*Argo)(nil)

// Annotations the backend keeps on a Workflow to map it back to steps.
const (
	annotationSteps   = "datainsight.io/steps"   // JSON: [[step, argo task name], ...] in pipeline order
	annotationCreated = "datainsight.io/created" // submit time to the nanosecond (metadata keeps seconds)
	runtimeKey        = pipelinegen.RuntimeModule + ".py"
	labelWorkflow     = "workflows.argoproj.io/workflow"
	annotationNode    = "workflows.argoproj.io/node-id"
)

// Argo is the Argo Workflows backend for one namespace.
type Argo struct {
	namespace string
	cfg       *rest.Config
	wf        wfclient.Interface
	kube      kubernetes.Interface
	opts      Options

	mu      sync.Mutex
	tracker *tracker // one watch for every run this backend follows
}

// Options tune the backend.
type Options struct {
	// NotebookDir is the notebook's folder as the notebook server sees it
	// (steps run there when the workspace volume is mounted).
	NotebookDir string
	// ArtifactRepository says the cluster has one configured.
	ArtifactRepository bool
	// GPUTolerations are given to every GPU step (the cluster's taints).
	GPUTolerations []notebook.Toleration
	// ArtifactKeyPrefix and ArtifactRepositoryRef place the runs of
	// notebooks in marshal mode "artifacts" (pipelinegen.WorkflowOptions).
	ArtifactKeyPrefix     string
	ArtifactRepositoryRef *wfv1.ArtifactRepositoryRef
	// Store is where this process reaches the bucket of the artifact
	// repository (endpoint, bucket, region, plain HTTP): logs and reports
	// of runs in marshal mode "artifacts" are read from there once their
	// pods are gone. Its prefix is ignored (each run's own is used); keys
	// left unset come from the environment (s3store.Config.FromEnv).
	Store *s3store.Config
}

// New returns a backend that works in namespace only.
func New(cfg *rest.Config, namespace string, opts Options) (*Argo, error) {
	if namespace == "" {
		return nil, errors.New("argo backend: no namespace configured (--namespace, DATAINSIGHT_NAMESPACE or the kubeconfig's context)")
	}
	wf, err := wfclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Argo{namespace: namespace, cfg: rest.CopyConfig(cfg), wf: wf, kube: kube, opts: opts}, nil
}

// Namespace is the namespace every run of this backend lives in.
func (a *Argo) Namespace() string { return a.namespace }

func (a *Argo) workflows() interface {
	Create(context.Context, *wfv1.Workflow, metav1.CreateOptions) (*wfv1.Workflow, error)
	Get(context.Context, string, metav1.GetOptions) (*wfv1.Workflow, error)
	List(context.Context, metav1.ListOptions) (*wfv1.WorkflowList, error)
	Update(context.Context, *wfv1.Workflow, metav1.UpdateOptions) (*wfv1.Workflow, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
	Patch(context.Context, string, types.PatchType, []byte, metav1.PatchOptions, ...string) (*wfv1.Workflow, error)
} {
	return a.wf.ArgoprojV1alpha1().Workflows(a.namespace)
}

// explain turns API errors into what a user can act on, naming the
// namespace the backend is confined to.
func (a *Argo) explain(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: %w (namespace %s)", op, cluster.ErrNotFound, a.namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: your credentials may not do this in namespace %s (the namespace comes from your configuration): %v", op, a.namespace, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Submit creates the runtime's ConfigMap (once per runtime version), the
// Workflow of a pipeline and the claim of its marshal volume; with
// ResumeFrom, or with the notebook's own volume and the cache, the run
// shares an earlier run's volume and links the outputs of its unchanged
// steps.
func (a *Argo) Submit(ctx context.Context, p *pipelinegen.Pipeline, opts cluster.SubmitOptions) (*cluster.Run, error) {
	params, err := pipelinegen.ParameterValues(p, opts.Parameters)
	if err != nil {
		return nil, err
	}
	if err := a.ensureRuntime(ctx); err != nil {
		return nil, err
	}
	id := runID(p.Name)
	wopts := pipelinegen.WorkflowOptions{
		RunName: id, NotebookDir: a.opts.NotebookDir, ArtifactRepository: a.opts.ArtifactRepository,
		GPUTolerations: a.opts.GPUTolerations, ArtifactKeyPrefix: a.opts.ArtifactKeyPrefix,
		ArtifactRepositoryRef: a.opts.ArtifactRepositoryRef,
	}
	wf, err := pipelinegen.Workflow(p, wopts)
	if err != nil {
		return nil, err
	}
	var plan *resumePlan
	var claim *corev1.PersistentVolumeClaim
	switch {
	case pipelinegen.ArtifactsMode(p) && opts.ResumeFrom != "":
		// Reused outputs are linked on the run's volume, and this mode
		// has none.
		return nil, fmt.Errorf("--resume: not supported yet for a notebook in marshal mode %q", pipelinegen.MarshalArtifacts)
	case pipelinegen.ArtifactsMode(p):
		// No volume to make: earlier runs' outputs are reused where they
		// are in the store.
		if prefix, ok := runKeyPrefix(wf); ok {
			wf.Annotations[annotationKeyPrefix] = prefix
		}
		if !opts.NoCache {
			if plan, err = a.planStoreCache(ctx, p, params, wf); err != nil {
				return nil, err
			}
		}
	case opts.ResumeFrom != "":
		// On the earlier run's volume, where the reused outputs are.
		if plan, err = a.planResume(ctx, p, opts.ResumeFrom, params, wf); err != nil {
			return nil, err
		}
		wopts.MarshalClaim = plan.claim
	default:
		// Made by the backend, not by a volumeClaimTemplate, so that the
		// volume outlives the run's success: logs and reports are read
		// from it after the pods go.
		if claim, err = pipelinegen.MarshalClaim(p, marshalClaimName(id)); err != nil {
			return nil, err
		}
		if claim != nil {
			wopts.MarshalClaim = claim.Name
		} else if !opts.NoCache {
			// The notebook's own volume outlives its runs: reuse what an
			// earlier run left there.
			if plan, err = a.planCache(ctx, p, params, wf); err != nil {
				return nil, err
			}
		}
	}
	if wopts.MarshalClaim != "" {
		if wf, err = pipelinegen.Workflow(p, wopts); err != nil {
			return nil, err
		}
	}
	hashes, _ := json.Marshal(stepHashes(wf))
	wf.Annotations[annotationStepHashes] = string(hashes)
	if plan != nil {
		plan.apply(wf)
	}
	// The namespace is the backend's, whatever the pipeline says.
	wf.Namespace = a.namespace
	for i := range wf.Spec.Arguments.Parameters {
		prm := &wf.Spec.Arguments.Parameters[i]
		// As pipelinegen writes the defaults: Argo reads an argument again
		// for its own template syntax once it is in the step's environment,
		// and Kubernetes expands $(NAME) there.
		v, err := pipelinegen.ArgoParameterValue(params[prm.Name])
		if err != nil {
			return nil, fmt.Errorf("submit %s: parameter %q: %w", p.Name, prm.Name, err)
		}
		prm.Value = wfv1.AnyStringPtr(v)
	}
	if opts.Parallelism > 0 {
		n := int64(opts.Parallelism)
		wf.Spec.Parallelism = &n
	}
	var pairs [][2]string
	for _, t := range wf.Spec.Templates {
		// The label holds a shortened name when the step's is too long.
		if s := pipelinegen.StepName(t.Metadata.Labels, t.Metadata.Annotations); s != "" {
			pairs = append(pairs, [2]string{s, t.Name})
		}
	}
	js, _ := json.Marshal(pairs)
	wf.Annotations[annotationSteps] = string(js)
	wf.Annotations[annotationCreated] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := a.checkClones(ctx, wf); err != nil {
		return nil, fmt.Errorf("submit %s: %w", p.Name, err)
	}
	created, err := a.workflows().Create(ctx, wf, metav1.CreateOptions{})
	if err != nil {
		return nil, a.explain("submit "+p.Name, err)
	}
	// The claim comes after the Workflow, owned by it from birth: nothing
	// is left behind should this process die in between (its pods wait
	// for the claim), and it goes when the run is deleted or expires.
	switch {
	case claim != nil:
		if err := a.createClaim(ctx, claim, created, p.NotebookID); err != nil {
			a.dropRun(ctx, created.Name)
			return nil, a.explain("submit "+p.Name+": creating its marshal volume", err)
		}
	case plan != nil && plan.ours:
		if err := a.shareClaim(ctx, plan.claim, created); err != nil {
			a.dropRun(ctx, created.Name)
			return nil, a.explain("submit "+p.Name+": sharing the volume of "+plan.from.Name, err)
		}
	}
	return toRun(created), nil
}

// ensureRuntime creates the ConfigMap holding the marshalling runtime,
// named after its content: it never changes under a running workflow.
func (a *Argo) ensureRuntime(ctx context.Context) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: pipelinegen.RuntimeConfigMap(), Labels: map[string]string{"app.kubernetes.io/part-of": "datainsight"}},
		Data:       map[string]string{runtimeKey: string(pipelinegen.RuntimeSource())},
	}
	_, err := a.kube.CoreV1().ConfigMaps(a.namespace).Create(ctx, cm, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return a.explain("creating the runtime ConfigMap", err)
	}
	return nil
}

func runID(name string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	// Named as Argo names a run of the compiled file (its generateName):
	// a pipeline's name is free text, a workflow's is not.
	return pipelinegen.RunNamePrefix(name) + "-" + string(b)
}

// Get returns a run's state from its Workflow.
func (a *Argo) Get(ctx context.Context, id string) (*cluster.Run, error) {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return nil, a.explain("run "+id, err)
	}
	if wf.Labels[pipelinegen.LabelNotebook] == "" {
		return nil, fmt.Errorf("run %s: %w (workflow %s was not made by datainsight)", id, cluster.ErrNotFound, id)
	}
	return toRun(wf), nil
}

// List returns the runs in the namespace, newest first.
func (a *Argo) List(ctx context.Context, opts cluster.ListOptions) ([]*cluster.Run, error) {
	sel := pipelinegen.LabelNotebook
	if opts.NotebookID != "" {
		sel += "=" + opts.NotebookID
	}
	list, err := a.workflows().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, a.explain("list runs", err)
	}
	var runs []*cluster.Run
	for i := range list.Items {
		runs = append(runs, toRun(&list.Items[i]))
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].Created.Equal(runs[j].Created) {
			return runs[i].Created.After(runs[j].Created)
		}
		return runs[i].ID > runs[j].ID
	})
	return runs, nil
}

// Cancel terminates a run: Argo stops its pods and marks the rest.
func (a *Argo) Cancel(ctx context.Context, id string) error {
	patch := []byte(`{"spec":{"shutdown":"Terminate"}}`)
	if _, err := a.workflows().Patch(ctx, id, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return a.explain("cancel "+id, err)
	}
	// Return once Argo has recorded the end, as the local backend does.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r, err := a.Get(ctx, id)
		if err != nil {
			return err
		}
		if r.Phase.Done() {
			return nil
		}
		ch, err := a.Watch(ctx, id)
		if err != nil {
			return err
		}
		for range ch {
		}
	}
	return fmt.Errorf("cancel %s: the run did not stop within a minute", id)
}

// Delete removes a run's Workflow and the volumes made for it.
func (a *Argo) Delete(ctx context.Context, id string) error {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return a.explain("delete "+id, err)
	}
	if !wf.Status.Phase.Completed() {
		return fmt.Errorf("delete %s: %w (cancel it first)", id, cluster.ErrRunning)
	}
	if err := a.deleteStored(ctx, wf); err != nil {
		return err
	}
	if err := a.workflows().Delete(ctx, id, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return a.explain("delete "+id, err)
	}
	// PVCs from volumeClaimTemplates are owned by the workflow; without a
	// garbage collector (or before it runs) they would linger.
	pvcs, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return a.explain("delete "+id+": listing its volumes", err)
	}
	for _, pvc := range pvcs.Items {
		owned := pvc.Labels[pipelinegen.LabelRun] == id && pvc.Labels[labelManagedBy] == managedBy
		for _, o := range pvc.OwnerReferences {
			owned = owned || o.UID == wf.UID
		}
		if !owned {
			continue
		}
		// A volume shared with runs resumed from this one stays theirs.
		var others []metav1.OwnerReference
		for _, o := range pvc.OwnerReferences {
			if o.UID != wf.UID {
				others = append(others, o)
			}
		}
		if len(others) > 0 {
			if err := a.setOwners(ctx, pvc.Name, pvc.ResourceVersion, others); err != nil {
				return a.explain("delete "+id+": handing volume "+pvc.Name+" to the runs that share it", err)
			}
			continue
		}
		if err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Delete(ctx, pvc.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return a.explain("delete volume "+pvc.Name, err)
		}
	}
	return nil
}

// Retry reruns the failed, errored, cancelled and omitted steps of a
// finished run in place: their nodes are removed from the status, their
// pods deleted, and Argo's controller schedules them again, reusing the
// succeeded steps' outputs on the run's volume.
func (a *Argo) Retry(ctx context.Context, id string) (*cluster.Run, error) {
	wf, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return nil, a.explain("retry "+id, err)
	}
	switch wf.Status.Phase {
	case wfv1.WorkflowFailed, wfv1.WorkflowError:
	case wfv1.WorkflowSucceeded:
		return nil, fmt.Errorf("retry %s: %w", id, cluster.ErrNothingToDo)
	default:
		return nil, fmt.Errorf("retry %s: %w", id, cluster.ErrRunning)
	}
	nwf := wf.DeepCopy()
	var podsToDelete []string
	for nid, n := range nwf.Status.Nodes {
		switch {
		case n.Type == wfv1.NodeTypePod && n.Phase != wfv1.NodeSucceeded:
			delete(nwf.Status.Nodes, nid)
			podsToDelete = append(podsToDelete, nid)
		case n.Type == wfv1.NodeTypeRetry && n.Phase != wfv1.NodeSucceeded:
			delete(nwf.Status.Nodes, nid)
		case n.Type == wfv1.NodeTypeSkipped || n.Phase == wfv1.NodeOmitted:
			delete(nwf.Status.Nodes, nid)
		case n.Phase != wfv1.NodeSucceeded:
			n.Phase, n.Message, n.FinishedAt = wfv1.NodeRunning, "", metav1.Time{}
			nwf.Status.Nodes[nid] = n
		}
	}
	// Children lists must not point at removed nodes.
	for nid, n := range nwf.Status.Nodes {
		var kept []string
		for _, c := range n.Children {
			if _, ok := nwf.Status.Nodes[c]; ok {
				kept = append(kept, c)
			}
		}
		n.Children = kept
		nwf.Status.Nodes[nid] = n
	}
	// As Argo's own retry does: the old pods go first (a new pod of the
	// same node gets the same name), then the reset status.
	gone := map[string]bool{}
	for _, n := range podsToDelete {
		gone[n] = true
	}
	if err := a.deletePods(ctx, id, gone); err != nil {
		return nil, err
	}
	nwf.Status.Phase = wfv1.WorkflowRunning
	nwf.Status.Message = ""
	nwf.Status.FinishedAt = metav1.Time{}
	nwf.Status.Conditions = nil
	nwf.Spec.Shutdown = ""
	nwf.Labels["workflows.argoproj.io/completed"] = "false"
	nwf.Labels["workflows.argoproj.io/phase"] = string(wfv1.WorkflowRunning)
	updated, err := a.workflows().Update(ctx, nwf, metav1.UpdateOptions{})
	if err != nil {
		return nil, a.explain("retry "+id, err)
	}
	return toRun(updated), nil
}

// deletePods deletes the run's pods of the given nodes and waits until
// they are gone.
func (a *Argo) deletePods(ctx context.Context, id string, nodes map[string]bool) error {
	pods := a.kube.CoreV1().Pods(a.namespace)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + id})
	if err != nil {
		return a.explain("retry "+id+": listing its pods", err)
	}
	var names []string
	for _, p := range list.Items {
		if nodes[p.Annotations[annotationNode]] {
			names = append(names, p.Name)
			if err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return a.explain("retry "+id+": deleting pod "+p.Name, err)
			}
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, n := range names {
		for {
			_, err := pods.Get(ctx, n, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("retry %s: pod %s is not gone after a minute", id, n)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// Resubmit creates a new Workflow from a finished run's spec: same
// pipeline, same parameters, every step run again.
func (a *Argo) Resubmit(ctx context.Context, id string) (*cluster.Run, error) {
	old, err := a.workflows().Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		return nil, a.explain("resubmit "+id, err)
	}
	if !old.Status.Phase.Completed() {
		return nil, fmt.Errorf("resubmit %s: %w", id, cluster.ErrRunning)
	}
	if err := a.ensureRuntime(ctx); err != nil {
		return nil, err
	}
	name := runID(old.Annotations[pipelinegen.AnnotationPipeline])
	wf := &wfv1.Workflow{
		TypeMeta: old.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: a.namespace,
			Labels:      map[string]string{pipelinegen.LabelNotebook: old.Labels[pipelinegen.LabelNotebook], pipelinegen.LabelRun: name},
			Annotations: map[string]string{},
		},
		Spec: *old.Spec.DeepCopy(),
	}
	for k, v := range old.Annotations {
		if strings.HasPrefix(k, "datainsight.io/") || k == "workflows.argoproj.io/description" {
			wf.Annotations[k] = v
		}
	}
	wf.Annotations[annotationCreated] = time.Now().UTC().Format(time.RFC3339Nano)
	wf.Spec.Shutdown = ""
	// The run's name is written into its pods' labels and the affinity
	// that keeps them on one node: make both the new run's.
	if wf.Spec.PodMetadata != nil && wf.Spec.PodMetadata.Labels != nil {
		wf.Spec.PodMetadata.Labels[pipelinegen.LabelRun] = name
	}
	for i := range wf.Spec.Templates {
		if aff := wf.Spec.Templates[i].Affinity; aff != nil && aff.PodAffinity != nil {
			for j := range aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				sel := aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[j].LabelSelector
				if sel != nil && sel.MatchLabels[pipelinegen.LabelRun] != "" {
					sel.MatchLabels[pipelinegen.LabelRun] = name
				}
			}
		}
	}
	// A volume the run made is the old run's: the new one gets its own. A
	// resumed run's links read the volume it shares with an earlier run:
	// the new run shares it too.
	var claim *corev1.PersistentVolumeClaim
	shared := ""
	for i := range wf.Spec.Volumes {
		v := &wf.Spec.Volumes[i]
		if v.Name != pipelinegen.MarshalVolume || v.PersistentVolumeClaim == nil {
			continue
		}
		switch {
		case old.Annotations[annotationResumedFrom] != "":
			shared = v.PersistentVolumeClaim.ClaimName
		case v.PersistentVolumeClaim.ClaimName == marshalClaimName(id):
			if claim, err = a.claimLike(ctx, v.PersistentVolumeClaim.ClaimName, name); err != nil {
				return nil, fmt.Errorf("resubmit %s: %w", id, err)
			}
			v.PersistentVolumeClaim.ClaimName = claim.Name
		}
	}
	// The claim a clone copies may have gone since the earlier run.
	if err := a.checkClones(ctx, wf); err != nil {
		return nil, fmt.Errorf("resubmit %s: %w", id, err)
	}
	created, err := a.workflows().Create(ctx, wf, metav1.CreateOptions{})
	if err != nil {
		return nil, a.explain("resubmit "+id, err)
	}
	if claim != nil {
		if err := a.createClaim(ctx, claim, created, wf.Labels[pipelinegen.LabelNotebook]); err != nil {
			a.dropRun(ctx, created.Name)
			return nil, a.explain("resubmit "+id+": creating its marshal volume", err)
		}
	}
	if shared != "" {
		if pvc, err := a.kube.CoreV1().PersistentVolumeClaims(a.namespace).Get(ctx, shared, metav1.GetOptions{}); err == nil && runsClaim(pvc, old) {
			if err := a.shareClaim(ctx, shared, created); err != nil {
				a.dropRun(ctx, created.Name)
				return nil, a.explain("resubmit "+id+": sharing its volume", err)
			}
		}
	}
	return toRun(created), nil
}

// stepPairs reads the step ↔ task mapping kept on the workflow; a
// damaged one reads as none (toRun says so: damagedRecord).
func stepPairs(wf *wfv1.Workflow) [][2]string {
	var pairs [][2]string
	json.Unmarshal([]byte(wf.Annotations[annotationSteps]), &pairs)
	return pairs
}

// damagedRecord says which of the annotations a run keeps its steps in
// cannot be read (edited by hand, or cut short), "" when none: without
// them the run shows no steps, and the user should hear why.
func damagedRecord(wf *wfv1.Workflow) string {
	var bad []string
	for key, into := range map[string]any{annotationSteps: &[][2]string{}, annotationReused: &[]string{}} {
		v, ok := wf.Annotations[key]
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(v), into); err != nil {
			bad = append(bad, fmt.Sprintf("annotation %s: %v", key, err))
		}
	}
	sort.Strings(bad)
	if len(bad) == 0 {
		return ""
	}
	return "the workflow's record of its steps is damaged (" + strings.Join(bad, "; ") + ")"
}

// nodeFor finds the status node of a DAG task.
func nodeFor(wf *wfv1.Workflow, task string) *wfv1.NodeStatus {
	var best *wfv1.NodeStatus
	for _, n := range wf.Status.Nodes {
		if n.DisplayName != task || (n.Type != wfv1.NodeTypePod && n.Type != wfv1.NodeTypeRetry && n.Type != wfv1.NodeTypeSkipped) {
			continue
		}
		n := n
		// A retried step has a Retry node over its attempts: prefer it.
		if best == nil || n.Type == wfv1.NodeTypeRetry {
			best = &n
		}
	}
	return best
}

// toRun maps a Workflow to a Run.
func toRun(wf *wfv1.Workflow) *cluster.Run {
	r := &cluster.Run{
		ID: wf.Name, Backend: "argo", Pipeline: wf.Annotations[pipelinegen.AnnotationPipeline],
		Notebook: wf.Annotations[pipelinegen.AnnotationNotebook], NotebookID: wf.Labels[pipelinegen.LabelNotebook],
		Parameters: map[string]string{}, Created: wf.CreationTimestamp.UTC(),
		Started: wf.Status.StartedAt.UTC(), Finished: wf.Status.FinishedAt.UTC(), Message: wf.Status.Message,
	}
	if t, err := time.Parse(time.RFC3339Nano, wf.Annotations[annotationCreated]); err == nil {
		r.Created = t
	}
	for _, prm := range wf.Spec.Arguments.Parameters {
		if prm.Value != nil {
			r.Parameters[prm.Name] = givenValue(prm.Value.String())
		}
	}
	cancelled := wf.Spec.Shutdown != ""
	r.Phase = runPhase(wf.Status.Phase, cancelled)
	r.ResumedFrom = wf.Annotations[annotationResumedFrom]
	reused := reusedSteps(wf)
	for _, s := range stepPairs(wf) {
		st := cluster.StepStatus{Name: s[0], Phase: cluster.Pending, Cached: reused[s[0]]}
		if n := nodeFor(wf, s[1]); n != nil {
			st.Phase = nodePhase(n, cancelled)
			st.Message = n.Message
			st.Started, st.Finished = n.StartedAt.UTC(), n.FinishedAt.UTC()
			if n.Type == wfv1.NodeTypeRetry {
				st.Attempt = len(n.Children)
			}
			if st.Phase == cluster.Pending && strings.Contains(n.Message, "Unschedulable") {
				st.Message = "unschedulable: " + strings.TrimSpace(strings.TrimPrefix(n.Message, "Unschedulable:"))
			}
		} else if r.Phase.Done() {
			st.Phase = cluster.Skipped
			if cancelled {
				st.Phase = cluster.Cancelled
			}
		}
		r.Steps = append(r.Steps, st)
	}
	if d := damagedRecord(wf); d != "" {
		if r.Message != "" {
			d = r.Message + "; " + d
		}
		r.Message = d
	}
	if r.Phase == cluster.Failed && r.Message == "" {
		var failed []string
		for _, s := range r.Steps {
			if s.Phase == cluster.Failed || s.Phase == cluster.Error {
				failed = append(failed, s.Name)
			}
		}
		r.Message = "failed: " + strings.Join(failed, ", ")
	}
	return r
}

// givenValue is a run's argument shown without the escapes that
// ArgoParameterValue put in it for Argo: the value given, written as
// Python writes it ("$HOME", not "\x24HOME").
func givenValue(arg string) string {
	if !strings.Contains(arg, `\x`) {
		return arg
	}
	lit, err := notebook.ParseLiteral(arg)
	if err != nil {
		return arg
	}
	return lit.Python()
}

func runPhase(p wfv1.WorkflowPhase, cancelled bool) cluster.Phase {
	switch p {
	case wfv1.WorkflowSucceeded:
		return cluster.Succeeded
	case wfv1.WorkflowFailed, wfv1.WorkflowError:
		if cancelled {
			return cluster.Cancelled
		}
		if p == wfv1.WorkflowError {
			return cluster.Error
		}
		return cluster.Failed
	case wfv1.WorkflowRunning:
		return cluster.Running
	}
	return cluster.Pending
}

func nodePhase(n *wfv1.NodeStatus, cancelled bool) cluster.Phase {
	switch n.Phase {
	case wfv1.NodeSucceeded:
		return cluster.Succeeded
	case wfv1.NodeRunning:
		return cluster.Running
	case wfv1.NodePending:
		return cluster.Pending
	case wfv1.NodeSkipped, wfv1.NodeOmitted:
		if cancelled {
			return cluster.Cancelled
		}
		return cluster.Skipped
	case wfv1.NodeFailed, wfv1.NodeError:
		if cancelled {
			return cluster.Cancelled
		}
		if n.Phase == wfv1.NodeError {
			return cluster.Error
		}
		return cluster.Failed
	}
	return cluster.Pending
}
