#!/usr/bin/env bash
# Starts a throw-away etcd + kube-apiserver (the version pinned in
# tools/kube/go.mod) on loopback, for server-side dry-run tests.
#
#   hack/apiserver.sh [start] [-- EXTRA_APISERVER_FLAGS...]
#       Starts etcd and kube-apiserver on 127.0.0.1 with free random ports,
#       waits until /readyz answers "ok", writes a kubeconfig, and prints on
#       stdout (shell-evaluable, also saved in DIR/env):
#         KUBECONFIG=DIR/kubeconfig
#         APISERVER_DIR=DIR
#         APISERVER_URL=https://127.0.0.1:PORT
#         APISERVER_TOKEN=graceful-test
#         ETCD_PID=... APISERVER_PID=...
#   hack/apiserver.sh stop DIR
#       Stops the processes started for DIR and removes DIR.
#
# Authentication: static bearer token "graceful-test" (user admin, group
# system:masters); authorization: AlwaysAllow. Logs: DIR/etcd.log,
# DIR/apiserver.log. Binaries come from hack/tools.sh (kube-apiserver is
# built if missing, etcd installed from Debian's etcd-server if not on PATH);
# override with $GRACEFUL_KUBE_APISERVER / $GRACEFUL_ETCD.
# $GRACEFUL_APISERVER_TIMEOUT: seconds to wait for readiness (default 120).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOKEN=graceful-test
MARKER=.graceful-apiserver

log() { echo "apiserver.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

need() { command -v "$1" >/dev/null || die "$1 is required (Debian package: $2)"; }

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# kill PID if it is still the process we started (its command line mentions DIR).
stop_pid() {
  local pid="$1" dir="$2" i
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    [[ -e /proc/$pid ]] || return 0
    # a zombie child of ours counts as stopped
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
    sleep 0.1
  done
  log "pid $pid did not stop on SIGTERM, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  local dir="${1:-}"
  [[ -n $dir ]] || die "usage: $0 stop DIR"
  [[ -d $dir ]] || { log "$dir does not exist, nothing to stop"; return 0; }
  dir="$(cd "$dir" && pwd)"
  [[ -f $dir/$MARKER ]] || die "$dir was not made by hack/apiserver.sh"
  local pid etcd_data
  pid="$(cat "$dir/apiserver.pid" 2>/dev/null || true)"
  stop_pid "$pid" "$dir"
  pid="$(cat "$dir/etcd.pid" 2>/dev/null || true)"
  etcd_data="$(cat "$dir/etcd-data-dir" 2>/dev/null || true)"
  stop_pid "$pid" "${etcd_data:-$dir}"
  if [[ -n $etcd_data && $etcd_data != "$dir"/* && -f $etcd_data.$MARKER ]]; then
    rm -rf "$etcd_data" "$etcd_data.$MARKER"
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

# wait_ok WHAT PID DEADLINE LOG PATTERN CURL_ARGS...: waits until curl's
# output matches the bash regexp PATTERN; fails early if PID died.
wait_ok() {
  local what="$1" pid="$2" deadline="$3" logf="$4" want="$5"
  shift 5
  while true; do
    local out
    out="$(curl -sS --max-time 2 "$@" 2>/dev/null || true)"
    if [[ $out =~ $want ]]; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$what exited; last lines of $logf:"
      tail -n 20 "$logf" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$what not ready in time; last lines of $logf:"
      tail -n 20 "$logf" >&2 || true
      return 2
    fi
    sleep 0.2
  done
}

start_etcd() {
  local dir="$1" etcd="$2" client peer
  client="$(free_port)"
  peer="$(free_port)"
  while [[ $peer == "$client" ]]; do peer="$(free_port)"; done
  local data
  data="$(cat "$dir/etcd-data-dir")"
  rm -rf "$data" && mkdir -p "$data" && chmod 0700 "$data"
  # etcd 3.4 refuses to start on arm64 unless ETCD_UNSUPPORTED_ARCH is set
  # (and warns about the variable on amd64).
  local -a envs=()
  case "$(uname -m)" in
    x86_64 | amd64) ;;
    aarch64 | arm64) envs=(ETCD_UNSUPPORTED_ARCH=arm64) ;;
    *) envs=("ETCD_UNSUPPORTED_ARCH=$(uname -m)") ;;
  esac
  env "${envs[@]}" "$etcd" --name graceful --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "graceful=http://127.0.0.1:$peer" \
    --initial-cluster-state new \
    --logger zap --log-outputs stderr --log-level warn \
    </dev/null >"$dir/etcd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/etcd.pid"
  if wait_ok etcd "$pid" $((SECONDS + 30)) "$dir/etcd.log" '"health": ?"true"' \
    "http://127.0.0.1:$client/health"; then
    echo "$client"
    return 0
  fi
  stop_pid "$pid" "$data"
  return 1
}

start_apiserver() {
  local dir="$1" apiserver="$2" etcd_port="$3" deadline="$4"
  shift 4
  local port
  port="$(free_port)"
  "$apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$port" \
    --cert-dir="$dir/certs" \
    --token-auth-file="$dir/tokens.csv" \
    --authorization-mode=AlwaysAllow \
    --disable-admission-plugins=ServiceAccount \
    --feature-gates=ContainerStopSignals=true \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$dir/sa.pub" \
    --service-account-signing-key-file="$dir/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false \
    "$@" \
    </dev/null >"$dir/apiserver.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/apiserver.pid"
  if wait_ok kube-apiserver "$pid" "$deadline" "$dir/apiserver.log" '^ok$' \
    -k -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$port/readyz"; then
    echo "$port"
    return 0
  fi
  stop_pid "$pid" "$dir"
  return 1
}

start() {
  [[ ${1:-} != -- ]] || shift
  need curl curl
  need openssl openssl
  need flock util-linux
  local apiserver etcd
  apiserver="${GRACEFUL_KUBE_APISERVER:-$("$ROOT/hack/tools.sh" path kube-apiserver)}"
  etcd="${GRACEFUL_ETCD:-$("$ROOT/hack/tools.sh" path etcd)}"
  local timeout="${GRACEFUL_APISERVER_TIMEOUT:-120}"

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/graceful-apiserver.XXXXXX")"
  touch "$dir/$MARKER"
  # etcd fsyncs a lot: keep its data in memory when /dev/shm is available.
  local etcd_data="$dir/etcd-data"
  if [[ -d /dev/shm && -w /dev/shm ]]; then
    etcd_data="$(mktemp -d /dev/shm/graceful-etcd.XXXXXX)"
    touch "$etcd_data.$MARKER"
  fi
  echo "$etcd_data" >"$dir/etcd-data-dir"
  trap 'log "start failed; cleaning up"; stop "'"$dir"'" || true; exit 1' ERR INT TERM

  local t0=$SECONDS
  # Service-account signing key, static token file.
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  printf '%s,admin,admin,"system:masters"\n' "$TOKEN" >"$dir/tokens.csv"
  mkdir -p "$dir/certs"

  local etcd_port="" port="" try
  for try in 1 2 3; do
    etcd_port="$(start_etcd "$dir" "$etcd")" && break
    etcd_port=""
    grep -q 'address already in use' "$dir/etcd.log" || break
    log "etcd port was taken, retrying (try $try)"
  done
  [[ -n $etcd_port ]] || false
  for try in 1 2 3; do
    port="$(start_apiserver "$dir" "$apiserver" "$etcd_port" $((SECONDS + timeout)) "$@")" && break
    port=""
    grep -q 'address already in use' "$dir/apiserver.log" || break
    log "kube-apiserver port was taken, retrying (try $try)"
  done
  [[ -n $port ]] || false

  # The apiserver's self-signed serving cert (cert-dir) is a bundle whose CA
  # covers 127.0.0.1, so the kubeconfig can verify TLS.
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: graceful
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $dir/certs/apiserver.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: graceful
  context:
    cluster: graceful
    user: admin
    namespace: default
current-context: graceful
EOF
  chmod 0600 "$dir/kubeconfig"
  trap - ERR INT TERM

  cat >"$dir/env" <<EOF
KUBECONFIG=$dir/kubeconfig
APISERVER_DIR=$dir
APISERVER_URL=https://127.0.0.1:$port
APISERVER_TOKEN=$TOKEN
ETCD_PID=$(cat "$dir/etcd.pid")
APISERVER_PID=$(cat "$dir/apiserver.pid")
EOF
  log "ready in $((SECONDS - t0))s; stop with: $0 stop $dir"
  cat "$dir/env"
}

case "${1:-start}" in
  start) shift || true; start "$@" ;;
  --) start "$@" ;;
  stop) stop "${2:-}" ;;
  -h | --help | help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
  *) die "usage: $0 [start [-- FLAGS...]] | stop DIR" ;;
esac
