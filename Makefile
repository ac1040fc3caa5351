# Datainsight: `make run` runs an example notebook on the embedded (local)
# backend; `make test` runs every test. Both install what they need first.

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Debian's interpreter: the examples need its numpy/pandas/scikit-learn.
PYTHON ?= /usr/bin/python3
EXAMPLE ?= examples/iris.ipynb
FUZZTIME ?= 5m

.PHONY: all build assets deps stack minio run test test-short test-cluster test-artifacts test-ui demo bench bench-ui fuzz vet clean

all: build

build:
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags "-s -w -X github.com/datainsight/datainsight/internal/app.version=$(VERSION)" -o bin/datainsight ./cmd/datainsight

# The JupyterLab panel (frontend/): its npm packages from the lock file, the
# RPC declarations generated from the sidecar's Go types, the TypeScript,
# the prebuilt extension (embedded by the next build) and the small
# JupyterLab app the UI tests and the demo serve. `make build` alone works
# without it: the sidecar then serves a "panel not built" page.
assets:
	hack/frontend/build.sh

deps:
	hack/install-deps.sh

run: deps build
	bin/datainsight run $(EXAMPLE) --python $(PYTHON)

# The real Kubernetes + Argo stack the cluster tests run against: built once
# per machine from the Go module proxy into ~/.cache/datainsight (cold: about
# 20 minutes on 2 cores), never from inside a test.
stack:
	hack/stack/build.sh

# The MinIO server the object-storage tests run against: installed once per
# machine from the Go module proxy at a pinned version into the same cache
# (cold: about 4 minutes on 2 cores).
minio:
	hack/minio/build.sh >/dev/null

# Tests run in a private network namespace: Argo's controller binds *:6060,
# and nothing of the test stack should listen beyond loopback.
# deps and stack installed every tool the tests use: a missing one fails its
# tests instead of skipping them (internal/testenv).
# The panel is built first: a Go test drives it in Chromium against the stack.
test: deps stack minio
	hack/frontend/build.sh
	$(GO) vet ./...
	DATAINSIGHT_REQUIRE_TOOLS=1 DATAINSIGHT_PYTHON=$(PYTHON) hack/stack/in-netns.sh $(GO) test -timeout 30m ./...
	hack/test-ui.sh

test-short:
	$(GO) test -short ./...

test-cluster: deps stack
	DATAINSIGHT_REQUIRE_TOOLS=1 hack/stack/in-netns.sh $(GO) test -timeout 30m ./internal/kubestack/ ./cluster/argo/

# The panel's tests alone: jest unit tests, then headless Chromium against
# a real Jupyter server with the JupyterLab app, the sidecar and a kernel;
# prints where the screenshots are.
test-ui: deps
	hack/test-ui.sh

# Jupyter with the JupyterLab app, the panel and the sidecar on localhost,
# on a folder of example notebooks; prints the URL to open.
demo: deps build
	hack/demo.sh

# The panel's timings in headless Chromium on the 100-step synthetic
# notebook: keystroke to redrawn pipeline, open to pipeline shown, a step's
# state change to shown. Exits non-zero when a target is missed.
bench-ui: build
	hack/bench-ui.sh

# The object-storage tests alone: MinIO, local runs through it, pull, the
# artifacts-mode workflow against the API server.
test-artifacts: deps stack minio
	hack/test-artifacts.sh

bench: build stack minio
	hack/bench.sh

fuzz:
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzSetTags$$' -fuzztime $(FUZZTIME)
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzParsePipeline$$' -fuzztime $(FUZZTIME)
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzParseDuration$$' -fuzztime $(FUZZTIME)
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzParseLiteral$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pipelinegen/ -run '^$$' -fuzz '^FuzzParseParameterFlags$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyzer/ -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME)
	$(GO) test ./ipython/ -run '^$$' -fuzz '^FuzzTranslate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cluster/argo/ -run '^$$' -fuzz '^FuzzParseFrames$$' -fuzztime $(FUZZTIME)
	$(GO) test ./kernelgw/rpc/ -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./kernelgw/jupyter/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
