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

# The drill: rolling updates and a node drain under load on a real
# single-node cluster (hack/cluster.sh, needs root), each profile without
# and with graceful, GRACEFUL_DRILL_RUNS rounds (2 in CI: ~8 min in all here
# warm; cold, kubelet & co. take ~3 more to build); alone, after every other test,
# so that nothing else competes for the cores. CI (CI=true) always runs it;
# elsewhere it is opt-in (GRACEFUL_DRILL=1), as it needs root.
if [ "${CI:-}" = true ] || [ "${GRACEFUL_DRILL:-}" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "hack/test.sh: the drill needs root (containers, iptables): run as root, or without CI=true and GRACEFUL_DRILL" >&2
    exit 1
  fi
  hack/tools.sh kubectl kubelet kube-controller-manager kube-scheduler kube-proxy >/dev/null
  mkdir -p .cache
  GRACEFUL_DRILL=1 GRACEFUL_DRILL_RUNS="${GRACEFUL_DRILL_RUNS:-2}" GRACEFUL_DRILL_OUT="${GRACEFUL_DRILL_OUT:-$PWD/.cache/drill-runs.tsv}" \
    go test -count=1 -timeout 40m ./e2e -run 'TestDrill$'
fi
