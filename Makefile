# graceful: make build | make example | make test | make bench
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO      ?= go

.PHONY: build example test unit tools bench fmt clean image

## build: the graceful binary, bin/graceful
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/graceful ./cmd/graceful

## example: build, then render the example chart output with the nginx profile
example: build
	./bin/graceful render --profile nginx --provider aws examples/manifests/web.yaml

## test: everything (builds the pinned Helm 3, Helm 4, kustomize and kube-apiserver on first use)
test: build
	hack/test.sh

## image: the KRM function image, an OCI layout tar holding only the static binary
image:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/graceful-static ./cmd/graceful
	$(GO) run ./hack/fnimage -binary bin/graceful-static -name ghcr.io/graceful-dev/graceful:$(VERSION) -o bin/graceful-image.tar

## unit: the tests that need no external binary
unit:
	$(GO) test ./...

## tools: build the pinned tools into .cache/tools
tools:
	hack/tools.sh helm3 helm4 kustomize kube-apiserver kubectl etcd containerd

## bench: Go benchmarks and whole-process timings against peer tools
bench: build
	hack/bench.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
