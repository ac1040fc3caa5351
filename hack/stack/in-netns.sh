#!/usr/bin/env bash
# Runs a command in a new, private network namespace whose only interface is
# loopback (up), so the test stack (Argo's workflow-controller binds *:6060
# hard-coded) listens on nothing reachable from outside and stacks on one
# machine never clash. Needs root (or CAP_SYS_ADMIN) and iproute2's ip; where
# it cannot make one it says so and runs the command as is, unless
# DATAINSIGHT_NETNS=require.
#
#   hack/stack/in-netns.sh go test -timeout 30m ./internal/kubestack/
#
# Nothing outside is reachable from inside: download Go modules before
# (go mod download, go vet ./... or a build), not from the command run here.
# The environment is passed through unchanged.
set -euo pipefail
if [[ $# -eq 0 ]]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi
ip="$(command -v ip || true)"
[[ -n "$ip" ]] || ip=/usr/sbin/ip
if [[ -x "$ip" ]] && unshare --net true 2>/dev/null; then
	exec unshare --net -- sh -c '"$0" link set lo up && exec "$@"' "$ip" "$@"
fi
why="unshare --net failed (not root?)"
[[ -x "$ip" ]] || why="no ip command (Debian: apt-get install iproute2)"
if [[ "${DATAINSIGHT_NETNS:-}" == require ]]; then
	echo "$0: cannot make a private network namespace: $why" >&2
	exit 1
fi
echo "$0: warning: $why; running without a private network namespace" >&2
exec "$@"
