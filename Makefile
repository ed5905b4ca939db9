# graceful: make build | make example | make test | make bench
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO      ?= go

.PHONY: build example test unit tools bench fmt clean image drill drill-servers

## build: the graceful binary, bin/graceful, and bin/graceful-drill (run by `graceful drill`).
## bin/graceful is static: linked to libc (pflag imports net), every process took 0.5-1 ms more to start.
build: profiles/builtin_table.go
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/graceful ./cmd/graceful
	$(GO) build -o bin/graceful-drill ./cmd/graceful-drill

# The built-in profiles are compiled in as a Go table generated from their
# files: an edited file is regenerated into it before the build uses it.
profiles/builtin_table.go: $(wildcard profiles/builtin/*.yaml)
	$(GO) generate ./profiles

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

## drill: rolling updates and a node drain under load on a real single-node
## cluster (root; builds kubelet & co. and installs containerd on first use),
## each profile without and with graceful (the drain: with --pdb), DRILL_RUNS times
DRILL_RUNS ?= 5
drill: build
	hack/tools.sh kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler kube-proxy etcd >/dev/null
	GRACEFUL_BIN=$$PWD/bin/graceful GRACEFUL_DRILL=1 GRACEFUL_DRILL_RUNS=$(DRILL_RUNS) \
		$(GO) test ./e2e -run TestDrill -count=1 -v -timeout 60m

## drill-servers: the drill for servers built from Debian packages (apache2,
## haproxy, php-fpm, gunicorn, uwsgi, puma, node, caddy, tomcat; the stop of
## postgresql, redis and rabbitmq; celery's and sidekiq's with a job running)
## and for traefik, built from the Go module proxy by hack/tools.sh when
## SERVERS selects it, without and with their profile; SERVERS=apache2,haproxy
## picks some; counts in e2e/testdata/drill/servers/
SERVERS ?= 1
drill-servers: build
	hack/tools.sh kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler kube-proxy etcd >/dev/null
	traefik=$$(case ",$(SERVERS)," in ,1,|*,traefik,*) hack/tools.sh path traefik ;; esac) && \
	GRACEFUL_TRAEFIK=$$traefik GRACEFUL_BIN=$$PWD/bin/graceful GRACEFUL_DRILL_SERVERS=$(SERVERS) GRACEFUL_DRILL_RUNS=$(DRILL_RUNS) \
		GRACEFUL_DRILL_SERVERS_OUT=$$PWD/e2e/testdata/drill/servers \
		$(GO) test ./e2e -run TestDrillServers -count=1 -v -timeout 120m

## bench: Go benchmarks and whole-process timings against peer tools
bench: build
	hack/bench.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
