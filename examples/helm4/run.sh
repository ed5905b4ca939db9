#!/usr/bin/env bash
# Helm 4: graceful is a postrenderer/v1 plugin (plugin.yaml at the repository
# root), installed once, then named. Run from the repository root after
# `make build`; HELM names the helm 4 binary (default: helm). Extra arguments
# go to helm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
helm=${HELM:-helm}
if ! "$helm" plugin list | grep -q '^graceful[[:space:]]'; then
  "$helm" plugin install . >&2
fi
"$helm" template shop testdata/charts/web --namespace prod --kube-version 1.33.0 \
  --post-renderer graceful --post-renderer-args --profile=nginx --post-renderer-args --provider=aws \
  "$@"
