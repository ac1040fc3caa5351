#!/usr/bin/env bash
# Runs the object-storage (artifacts mode) tests alone, against a real MinIO
# that hack/minio/build.sh installs first (once per machine), and the Argo
# test that has the API server, with Argo's full CRDs, accept the generated
# artifacts-mode workflow (hack/stack/build.sh must have built the stack).
# Tools missing here fail the tests instead of skipping them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO="${GO:-go}"
PYTHON="${PYTHON:-/usr/bin/python3}"
hack/minio/build.sh >/dev/null
export DATAINSIGHT_REQUIRE_TOOLS=1 DATAINSIGHT_PYTHON="$PYTHON"
"$GO" test -count=1 -timeout 20m ./internal/miniotest/ ./internal/s3store/
"$GO" test -count=1 -timeout 20m -run 'TestStore' ./cluster/local/
"$GO" test -count=1 -timeout 20m -run 'TestPull' ./internal/app/
"$GO" test -count=1 -timeout 20m -run 'TestWorkflowArtifactsMode|TestGoldenWorkflows|TestRuntimePython' ./pipelinegen/
hack/stack/in-netns.sh "$GO" test -count=1 -timeout 30m -run 'TestGoldenWorkflowsAccepted|TestArtifactsMode|TestRunKeyPrefix' ./cluster/argo/
