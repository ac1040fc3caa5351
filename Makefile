# Datainsight: `make run` runs an example notebook on the embedded (local)
# backend; `make test` runs every test. Both install what they need first.

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Debian's interpreter: the examples need its numpy/pandas/scikit-learn.
PYTHON ?= /usr/bin/python3
EXAMPLE ?= examples/iris.ipynb
FUZZTIME ?= 60s

.PHONY: all build deps run test test-short bench fuzz vet clean

all: build

build:
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags "-s -w -X github.com/datainsight/datainsight/internal/app.version=$(VERSION)" -o bin/datainsight ./cmd/datainsight

deps:
	hack/install-deps.sh

run: deps build
	bin/datainsight run $(EXAMPLE) --python $(PYTHON)

test: deps
	$(GO) vet ./...
	DATAINSIGHT_PYTHON=$(PYTHON) $(GO) test -timeout 20m ./...

test-short:
	$(GO) test -short ./...

bench: build
	hack/bench.sh

fuzz:
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzSetTags$$' -fuzztime $(FUZZTIME)
	$(GO) test ./notebook/ -run '^$$' -fuzz '^FuzzParsePipeline$$' -fuzztime $(FUZZTIME)
	$(GO) test ./analyzer/ -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
