package app

import (
	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/service"
)

// kubeFlags say which cluster and namespace Argo runs go to. The
// namespace comes from --namespace, then DATAINSIGHT_NAMESPACE, then the
// config file, then the kubeconfig context — never from a notebook.
type kubeFlags struct {
	kubeconfig string
	context    string
	namespace  string
	artifacts  bool
	gpuTols    []string
	store      string
	repoRef    string
}

func (f *kubeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file for --backend argo (default $KUBECONFIG, else ~/.kube/config, else in-cluster)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context for --backend argo")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "namespace for --backend argo (default $DATAINSIGHT_NAMESPACE, else the context's)")
	cmd.Flags().BoolVar(&f.artifacts, "artifact-repository", false, "the cluster has an Argo artifact repository: keep step reports as artifacts")
	cmd.Flags().StringVar(&f.store, "artifact-store", "", "for --backend argo, marshal mode artifacts: the artifact repository's bucket as this machine reaches it, s3://BUCKET[/PREFIX] (default $DATAINSIGHT_ARTIFACT_STORE; endpoint and keys from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): logs and reports of finished runs are read from it, and the cache checks it")
	cmd.Flags().StringVar(&f.repoRef, "artifact-repository-ref", "", "for --backend argo, marshal mode artifacts: the artifact repository to use, CONFIGMAP[:KEY] (default $DATAINSIGHT_ARTIFACT_REPOSITORY_REF, else the cluster's)")
	cmd.Flags().StringArrayVar(&f.gpuTols, "gpu-toleration", nil, "toleration given to every GPU step, KEY[=VALUE]:EFFECT (repeatable; default $DATAINSIGHT_GPU_TOLERATIONS, comma-separated)")
}

// config sets what the flags set.
func (f *kubeFlags) config(c *service.Config) {
	c.Kubeconfig, c.Context, c.Namespace = f.kubeconfig, f.context, f.namespace
	c.ArtifactRepository = f.artifacts
	c.GPUTolerations = f.gpuTols
	c.ArtifactStore, c.ArtifactRepositoryRef = f.store, f.repoRef
}
