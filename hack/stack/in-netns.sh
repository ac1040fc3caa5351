#!/usr/bin/env bash
# Runs a command in a new, private network namespace whose only interface is
# loopback (up), so the test stack (Argo's workflow-controller binds *:6060
# hard-coded) listens on nothing reachable from outside and two stacks on one
# machine never clash. Needs root (or CAP_SYS_ADMIN) and iproute2's ip.
#
#   hack/stack/in-netns.sh go test -timeout 30m ./internal/kubestack/
#
# The environment is passed through unchanged.
set -euo pipefail
if [[ $# -eq 0 ]]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi
ip="$(command -v ip || true)"
[[ -n "$ip" ]] || ip=/usr/sbin/ip
if [[ ! -x "$ip" ]]; then
	echo "$0: ip (Debian: apt-get install iproute2) is needed" >&2
	exit 1
fi
exec unshare --net -- sh -c '"$0" link set lo up && exec "$@"' "$ip" "$@"
