package kubestack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Argo's manifests this stack applies, relative to its module directory.
var (
	argoRBACFiles = []string{
		"manifests/base/workflow-controller/workflow-controller-sa.yaml",
		"manifests/cluster-install-no-crds/workflow-controller-rbac/workflow-aggregate-roles.yaml",
		"manifests/cluster-install-no-crds/workflow-controller-rbac/workflow-controller-clusterrole.yaml",
		"manifests/cluster-install-no-crds/workflow-controller-rbac/workflow-controller-clusterrolebinding.yaml",
		"manifests/cluster-install-no-crds/workflow-controller-rbac/workflow-controller-role.yaml",
		"manifests/cluster-install-no-crds/workflow-controller-rbac/workflow-controller-rolebinding.yaml",
	}
	// The executor's Role (workflowtaskresults create/patch) and its binding
	// to the "default" service account, applied in every test namespace.
	argoExecutorFiles = []string{
		"manifests/quick-start/base/executor/emissary/executor-role.yaml",
		"manifests/quick-start/base/executor-default-rolebinding.yaml",
	}
)

// controllerConfig is the workflow-controller's configmap. There is no
// scheduler: podSpecPatch pins every pod to the kwok node. Metrics are off
// because their server binds a fixed port (:9090) and panics when it is taken
// by another stack in the same network namespace.
var controllerConfig = map[string]string{
	"workflowDefaults": "spec:\n  podSpecPatch: '{\"nodeName\":\"" + NodeName + "\"}'\n",
	"metricsConfig":    "enabled: false\n",
	"telemetryConfig":  "enabled: false\n",
}

// kinds maps the kinds in the manifests we apply to their resources.
var kinds = map[string]struct {
	resource   string
	namespaced bool
}{
	"CustomResourceDefinition": {"customresourcedefinitions", false},
	"ClusterRole":              {"clusterroles", false},
	"ClusterRoleBinding":       {"clusterrolebindings", false},
	"Role":                     {"roles", true},
	"RoleBinding":              {"rolebindings", true},
	"ServiceAccount":           {"serviceaccounts", true},
	"ConfigMap":                {"configmaps", true},
}

func (s *Stack) applyArgo(ctx context.Context) error {
	argo := argoModDir(s.opts.ModCache)
	crdDir := filepath.Join(argo, "manifests", "base", "crds", "full")
	if s.opts.MinimalCRDs {
		crdDir = filepath.Join(argo, "manifests", "base", "crds", "minimal")
	}
	crds, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(crds)
	var objs []*unstructured.Unstructured
	for _, f := range crds {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		o, err := readManifests(f)
		if err != nil {
			return err
		}
		objs = append(objs, o...)
	}
	// In parallel: the API server spends seconds on each big schema.
	errs := make([]error, len(objs))
	var wg sync.WaitGroup
	for i, o := range objs {
		s.crdNames = append(s.crdNames, o.GetName())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.apply(ctx, o, ""); err != nil {
				errs[i] = fmt.Errorf("apply CRD %s: %w", o.GetName(), err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(s.crdNames) == 0 {
		return fmt.Errorf("no CRDs in %s", crdDir)
	}

	if _, err := s.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: ArgoNamespace},
	}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ArgoNamespace, err)
	}
	for _, f := range argoRBACFiles {
		if err := s.applyFile(ctx, filepath.Join(argo, f), ArgoNamespace); err != nil {
			return err
		}
	}
	_, err = s.kube.CoreV1().ConfigMaps(ArgoNamespace).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ControllerConfigMap},
		Data:       controllerConfig,
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create configmap %s: %w", ControllerConfigMap, err)
	}
	return nil
}

// applyExecutorRBAC gives ns a "default" service account with Argo's
// executor Role, as Argo's quick-start does.
func (s *Stack) applyExecutorRBAC(ctx context.Context, ns string) error {
	_, err := s.kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service account %s/default: %w", ns, err)
	}
	argo := argoModDir(s.opts.ModCache)
	for _, f := range argoExecutorFiles {
		if err := s.applyFile(ctx, filepath.Join(argo, f), ns); err != nil {
			return err
		}
	}
	return nil
}

// applyNamespaceAdmin creates service account name in ns, bound to a Role
// that allows everything in ns. (The built-in "admin" ClusterRole is empty
// here: filling it is the controller-manager's job.)
func (s *Stack) applyNamespaceAdmin(ctx context.Context, ns, name string) error {
	_, err := s.kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service account %s/%s: %w", ns, name, err)
	}
	role := name + "-namespace-admin"
	_, err = s.kube.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"*"},
			Resources: []string{"*"},
			Verbs:     []string{"*"},
		}},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create role %s/%s: %w", ns, role, err)
	}
	_, err = s.kube.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create role binding %s/%s: %w", ns, role, err)
	}
	return nil
}

func (s *Stack) applyFile(ctx context.Context, path, ns string) error {
	objs, err := readManifests(path)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.apply(ctx, o, ns); err != nil {
			return fmt.Errorf("apply %s: %w", path, err)
		}
	}
	return nil
}

// apply applies o server-side. Namespaced objects go to ns, and so do
// service-account subjects without a namespace (what kustomize would do).
func (s *Stack) apply(ctx context.Context, o *unstructured.Unstructured, ns string) error {
	k, ok := kinds[o.GetKind()]
	if !ok {
		return fmt.Errorf("%s %s: kind not handled", o.GetKind(), o.GetName())
	}
	gv, err := schema.ParseGroupVersion(o.GetAPIVersion())
	if err != nil {
		return err
	}
	if subjects, ok, _ := unstructured.NestedSlice(o.Object, "subjects"); ok {
		for _, sub := range subjects {
			if m, ok := sub.(map[string]any); ok && m["kind"] == "ServiceAccount" && m["namespace"] == nil {
				m["namespace"] = ns
			}
		}
		if err := unstructured.SetNestedSlice(o.Object, subjects, "subjects"); err != nil {
			return err
		}
	}
	res := s.dyn.Resource(gv.WithResource(k.resource))
	if k.namespaced {
		o.SetNamespace(ns)
		data, err := o.MarshalJSON()
		if err != nil {
			return err
		}
		_, err = res.Namespace(ns).Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kubestack", Force: ptrTrue()})
		return err
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = res.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kubestack", Force: ptrTrue()})
	return err
}

func ptrTrue() *bool { t := true; return &t }

// readManifests reads the objects of a multi-document YAML file.
func readManifests(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReaderSize(f, 1<<20))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		data, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if string(data) == "null" {
			continue
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		objs = append(objs, o)
	}
}

func (s *Stack) waitCRDs(ctx context.Context, api *process) error {
	crds := s.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, name := range s.crdNames {
		err := poll(ctx, api, "CRD "+name+" Established", func(ctx context.Context) (bool, error) {
			o, err := crds.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// kwokConfig writes kwok's --config: kwok's own pod-delete stage, its
// pod-ready stage adapted (podReadyStage), our stages from hack/stack/kwok,
// a ClusterLogs serving PodLogFile as every container's log, and a
// ClusterExec running execs in reader containers on this machine, in
// VolumeDir. Giving any pod stage replaces all of kwok's default pod stages,
// hence pod-delete and pod-ready; node stages stay kwok's defaults.
func (s *Stack) kwokConfig() (string, error) {
	fast := filepath.Join(kwokModDir(s.opts.ModCache), "kustomize", "stage", "pod", "fast")
	del, err := os.ReadFile(filepath.Join(fast, "pod-delete.yaml"))
	if err != nil {
		return "", err
	}
	ready, err := podReadyStage(filepath.Join(fast, "pod-ready.yaml"))
	if err != nil {
		return "", err
	}
	docs := []string{strings.TrimSpace(string(del)), ready}
	ours, err := filepath.Glob(filepath.Join(s.opts.StagesDir, "*.yaml"))
	if err != nil {
		return "", err
	}
	if len(ours) == 0 {
		return "", fmt.Errorf("no kwok stages in %s", s.opts.StagesDir)
	}
	sort.Strings(ours)
	for _, f := range ours {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		docs = append(docs, strings.TrimSpace(string(b)))
	}
	docs = append(docs, fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: every-pod
spec:
  logs:
  - logsFile: %q
    follow: true`, s.PodLogFile), fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: volume-readers
spec:
  execs:
  - containers: [%q]
    local:
      workDir: %q`, ReaderContainer, s.VolumeDir))
	path := filepath.Join(s.Dir, "kwok.yaml")
	return path, os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}

// podReadyStage is kwok's "fast" pod-ready stage with two changes: pods
// labelled LabelUnschedulable are left to our pod-unschedulable stage (kwok
// picks at random among the stages matching a pod, so their selectors must
// exclude each other), and a ready pod is also PodScheduled, as a
// scheduler would have marked it.
func podReadyStage(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var st struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			ResourceRef any `json:"resourceRef"`
			Selector    struct {
				MatchExpressions []map[string]any `json:"matchExpressions"`
			} `json:"selector"`
			Next map[string]any `json:"next"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(b, &st); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	st.Spec.Selector.MatchExpressions = append(st.Spec.Selector.MatchExpressions, map[string]any{
		"key": `.metadata.labels["` + LabelUnschedulable + `"]`, "operator": "NotIn", "values": []string{"true"},
	})
	tmpl, _ := st.Spec.Next["statusTemplate"].(string)
	const anchor = "conditions:\n"
	if !strings.Contains(tmpl, anchor) {
		return "", fmt.Errorf("%s: no %q in its statusTemplate", path, anchor)
	}
	st.Spec.Next["statusTemplate"] = strings.Replace(tmpl, anchor,
		anchor+"- lastTransitionTime: {{ $now | Quote }}\n  status: \"True\"\n  type: PodScheduled\n", 1)
	out, err := yaml.Marshal(st)
	return strings.TrimSpace(string(out)), err
}
