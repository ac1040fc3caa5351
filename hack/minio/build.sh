#!/usr/bin/env bash
# Installs the MinIO server the object-storage tests run against (AGPL-3.0, run
# unmodified as a local test service only) from the Go module proxy at a
# pinned version into a cache outside the clone:
#
#   ${DATAINSIGHT_CACHE:-$HOME/.cache/datainsight}/minio-<version>/bin/minio
#
# The proxy refuses MinIO's RELEASE tags, so the pin is a pseudo-version (the
# one `go list -m github.com/minio/minio@latest` gave when it was chosen).
# Idempotent: skipped when the binary and its marker are there; the marker is
# written after a successful install, so an interrupted one is redone.
# Cold: about 2.5 minutes on 2 cores; warm: instant. Prints the binary's path
# on its last line. internal/miniotest computes the same path: change both
# together.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=version.sh
. "$here/version.sh"

GO="${GO:-go}"
NICE="${NICE:-nice -n 10}"
bin="$MINIO_DIR/bin"
mkdir -p "$bin"
# One install at a time per cache directory; a second waits, then finds it done.
exec 9>"$MINIO_DIR/.lock"
flock 9

if [[ -x "$bin/minio" && -f "$bin/.built-minio" ]]; then
	echo "minio: already built ($bin/minio)" >&2
	echo "$bin/minio"
	exit 0
fi

echo "minio: installing github.com/minio/minio@$MINIO_VERSION..." >&2
start=$(date +%s)
rm -f "$bin/.built-minio" "$bin/minio"
# Outside any module, so that no go.mod or go.sum of the caller is touched.
cd "$MINIO_DIR"
GOWORK=off GOTOOLCHAIN=local GOBIN="$bin" CGO_ENABLED=0 \
	$NICE "$GO" install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION"
end=$(date +%s)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) built in $((end - start))s" >"$bin/.built-minio"
echo "minio: built in $((end - start))s" >&2
echo "$bin/minio"
