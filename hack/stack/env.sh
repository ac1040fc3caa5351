# Sourced (`. hack/stack/env.sh`): sets and exports STACK_BIN and
# DATAINSIGHT_STACK_BIN, the directory that holds the binaries hack/stack/build.sh
# built (etcd, kube-apiserver, workflow-controller, kwok). Run as a script, it
# prints the export lines instead, for `eval "$(hack/stack/env.sh)"`.
# internal/kubestack computes the same default when DATAINSIGHT_STACK_BIN is unset.
_stack_here="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
# shellcheck source=versions.sh
. "$_stack_here/versions.sh"
STACK_BIN="${DATAINSIGHT_STACK_BIN:-$STACK_DIR/bin}"
DATAINSIGHT_STACK_BIN="$STACK_BIN"
export STACK_BIN DATAINSIGHT_STACK_BIN
unset _stack_here
if [ "${BASH_SOURCE[0]:-$0}" = "$0" ]; then
	echo "export STACK_BIN='$STACK_BIN'"
	echo "export DATAINSIGHT_STACK_BIN='$DATAINSIGHT_STACK_BIN'"
fi
