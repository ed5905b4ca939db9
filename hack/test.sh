#!/usr/bin/env bash
# The test command of the README and of CI: static checks, then every test,
# with the real Helm 3, Helm 4, kustomize, kube-apiserver and etcd (built or
# installed on first use by hack/tools.sh, cached under .cache/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt: not formatted: $unformatted" >&2
  exit 1
fi
go vet ./...

hack/tools.sh helm3 helm4 kustomize kube-apiserver kubectl etcd containerd >/dev/null
GRACEFUL_BIN="$PWD/bin/graceful"
GRACEFUL_HELM3=$(hack/tools.sh path helm3)
GRACEFUL_HELM4=$(hack/tools.sh path helm4)
GRACEFUL_KUSTOMIZE=$(hack/tools.sh path kustomize)
GRACEFUL_KUBE_APISERVER=$(hack/tools.sh path kube-apiserver)
GRACEFUL_ETCD=$(hack/tools.sh path etcd)
GRACEFUL_KUBECTL=$(hack/tools.sh path kubectl)
GRACEFUL_CONTAINERD=$(hack/tools.sh path containerd)
export GRACEFUL_BIN GRACEFUL_HELM3 GRACEFUL_HELM4 GRACEFUL_KUSTOMIZE GRACEFUL_KUBE_APISERVER GRACEFUL_ETCD GRACEFUL_KUBECTL GRACEFUL_CONTAINERD

env -u GRACEFUL_DRILL go test -count=1 ./...

# The drill (opt-in, GRACEFUL_DRILL=1): rolling updates under load on a real
# single-node cluster (hack/cluster.sh, needs root), each profile without and
# with graceful, one run each; alone, so that no other test competes for the
# cores. Not in CI yet: 3 of 100 runs with graceful had a short request time
# out on the shared development machine.
if [ "${GRACEFUL_DRILL:-}" = 1 ]; then
  hack/tools.sh kubectl kubelet kube-controller-manager kube-scheduler kube-proxy >/dev/null
  go test -count=1 -timeout 30m ./e2e -run 'TestDrill$'
fi
