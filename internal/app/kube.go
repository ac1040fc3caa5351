package app

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/datainsight/datainsight/cluster/argo"
	"github.com/datainsight/datainsight/notebook"
)

// kubeFlags say which cluster and namespace Argo runs go to. The
// namespace comes from --namespace, then DATAINSIGHT_NAMESPACE, then the
// kubeconfig context — never from a notebook.
type kubeFlags struct {
	kubeconfig string
	context    string
	namespace  string
	artifacts  bool
	gpuTols    []string
}

func (f *kubeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file for --backend argo (default $KUBECONFIG, else ~/.kube/config, else in-cluster)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context for --backend argo")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "namespace for --backend argo (default $DATAINSIGHT_NAMESPACE, else the context's)")
	cmd.Flags().BoolVar(&f.artifacts, "artifact-repository", false, "the cluster has an Argo artifact repository: keep step reports as artifacts")
	cmd.Flags().StringArrayVar(&f.gpuTols, "gpu-toleration", nil, "toleration given to every GPU step, KEY[=VALUE]:EFFECT (repeatable; default $DATAINSIGHT_GPU_TOLERATIONS, comma-separated)")
}

func (f *kubeFlags) argo(nb notebookRef) (*argo.Argo, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		rules.ExplicitPath = f.kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("--backend argo: no cluster configuration: %w", err)
	}
	ns := f.namespace
	if ns == "" {
		ns = os.Getenv("DATAINSIGHT_NAMESPACE")
	}
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, fmt.Errorf("--backend argo: %w", err)
		}
	}
	opts := argo.Options{ArtifactRepository: f.artifacts}
	specs := f.gpuTols
	if len(specs) == 0 && os.Getenv("DATAINSIGHT_GPU_TOLERATIONS") != "" {
		specs = strings.Split(os.Getenv("DATAINSIGHT_GPU_TOLERATIONS"), ",")
	}
	for _, spec := range specs {
		tol, err := notebook.ParseToleration(strings.TrimSpace(spec))
		if err != nil {
			return nil, usagef("--gpu-toleration %q: %v", spec, err)
		}
		opts.GPUTolerations = append(opts.GPUTolerations, tol)
	}
	opts.NotebookDir = nb.analysisDir()
	return argo.New(cfg, ns, opts)
}
