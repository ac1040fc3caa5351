# Pinned versions of the real test stack, sourced by
# build.sh and env.sh. internal/kubestack computes the same cache path: change
# both together.
ETCD_VERSION=v3.5.21
KUBE_VERSION=v1.33.5
ARGO_VERSION=v3.7.3
KWOK_VERSION=v0.7.0

STACK_NAME="stack-etcd${ETCD_VERSION}-kube${KUBE_VERSION}-argo${ARGO_VERSION}-kwok${KWOK_VERSION}"
STACK_DIR="${DATAINSIGHT_CACHE:-$HOME/.cache/datainsight}/${STACK_NAME}"
