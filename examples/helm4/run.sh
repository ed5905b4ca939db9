#!/usr/bin/env bash
# Helm 4: graceful is a postrenderer/v1 plugin (plugin.yaml at the repository
# root), installed once, then named. Run from the repository root after
# `make build`; HELM names the helm 4 binary (default: helm), HELM_DATA_HOME
# its data folder (default: ~/.local/share/helm4, never Helm 3's). Extra
# arguments go to helm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
helm=${HELM:-helm}
# Helm 3 cannot load a Helm 4 plugin and then fails on every command: unless
# the caller chose a data folder, Helm 4 gets one of its own.
export HELM_DATA_HOME=${HELM_DATA_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/helm4}
if ! "$helm" plugin list | grep -q '^graceful[[:space:]]'; then
  echo "installing the graceful plugin into $HELM_DATA_HOME/plugins (a link named after this directory);" \
    "remove it with: HELM_DATA_HOME=$HELM_DATA_HOME $helm plugin uninstall graceful" >&2
  "$helm" plugin install . >&2
fi
"$helm" template shop testdata/charts/web --namespace prod --kube-version 1.33.0 \
  --post-renderer graceful --post-renderer-args --profile=nginx --post-renderer-args --provider=aws \
  "$@"
