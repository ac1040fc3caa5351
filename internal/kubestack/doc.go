// Package kubestack starts a real Kubernetes control plane with Argo Workflows
// for integration tests: etcd, kube-apiserver (RBAC, token auth), Argo's full
// CRDs and workflow-controller, and kwok standing in for kubelets on one fake
// node, all on loopback with random ports in a temporary directory, torn down
// when the test ends.
//
// The binaries are built beforehand by hack/stack/build.sh (never from a test)
// into a cache outside the clone; Start skips the test, naming that script, when
// they are missing. See hack/stack/ for how the
// parts fit; hack/stack/kwok/ holds the pod stages (complete, hold, fail,
// unschedulable) that tests select with the Label* labels on a step's template
// metadata.
package kubestack
