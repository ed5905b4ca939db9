#!/usr/bin/env bash
# Helm 3: graceful is the post-renderer executable, its arguments one
# --post-renderer-args each. Run from the repository root after `make build`;
# HELM names the helm 3 binary (default: helm). Extra arguments go to helm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
"${HELM:-helm}" template shop testdata/charts/web --namespace prod --kube-version 1.33.0 \
  --post-renderer ./bin/graceful \
  --post-renderer-args render --post-renderer-args --profile=nginx --post-renderer-args --provider=aws \
  "$@"
