# Datainsight: `make run` runs an example notebook on the embedded (local)
# backend; `make test` runs every test. Both install what they need first.

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Debian's interpreter: the examples need its numpy/pandas/scikit-learn.
PYTHON ?= /usr/bin/python3
EXAMPLE ?= examples/iris.ipynb
FUZZTIME ?= 5m

.PHONY: all build deps stack minio run test test-short test-cluster test-artifacts bench fuzz vet clean

all: build

build:
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags "-s -w -X github.com/datainsight/datainsight/internal/app.version=$(VERSION)" -o bin/datainsight ./cmd/datainsight

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
test: deps stack minio
	$(GO) vet ./...
	DATAINSIGHT_REQUIRE_TOOLS=1 DATAINSIGHT_PYTHON=$(PYTHON) hack/stack/in-netns.sh $(GO) test -timeout 30m ./...

test-short:
	$(GO) test -short ./...

test-cluster: deps stack
	DATAINSIGHT_REQUIRE_TOOLS=1 hack/stack/in-netns.sh $(GO) test -timeout 30m ./internal/kubestack/ ./cluster/argo/

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
