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

go test -count=1 ./...
