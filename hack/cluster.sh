#!/usr/bin/env bash
# A throw-away single-node Kubernetes on this machine, for the drill
# (rolling updates under load). Everything listens on 127.0.0.1.
#
#   hack/cluster.sh up [--owner PID]
#                           start etcd, kube-apiserver (hack/apiserver.sh),
#                           containerd, kube-controller-manager, kube-scheduler,
#                           kubelet and kube-proxy (iptables); wait for the node
#                           to be Ready; print the env (also in DIR/env).
#                           With --owner, a watchdog runs `down` once PID
#                           is gone (a test that panicked or was killed)
#   hack/cluster.sh down    stop exactly the processes `up` recorded (by PID),
#                           then clean what the cluster leaves: containers and
#                           their shims, network namespaces, the CNI bridge,
#                           kube-proxy's iptables rules, the kubelet's mounts
#   hack/cluster.sh env     print the env of the running cluster
#   hack/cluster.sh deps    install the Debian packages the cluster needs
#
# DIR is $GRACEFUL_CLUSTER_DIR (default /tmp/graceful-cluster): one cluster
# per DIR; `up` first cleans a previous run's leftovers from DIR. Binaries:
# hack/tools.sh (built once, cached). Needs root (containers, iptables).
# The env printed: KUBECONFIG, CLUSTER_DIR, CONTAINERD_SOCK, CTR (the ctr
# command line for this containerd), NODE_NAME.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${GRACEFUL_CLUSTER_DIR:-/tmp/graceful-cluster}"
MARKER=.graceful-cluster
NODE=graceful-node
BRIDGE=graceful0
POD_SUBNET=10.244.0.0/24
CNI_BIN=/usr/lib/cni
# Debian bookworm packages (what was seen working here, see FACTS.md).
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack etcd-server
  nginx-light busybox-static openssl curl)

log() { echo "cluster.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

deps() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || die "missing Debian packages (${missing[*]}); run as root"
  log "installing Debian packages: ${missing[*]}"
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } >&2
  # Debian starts the services it installs where it can; this cluster runs
  # its own containerd and nginx runs only inside images.
  local s
  for s in containerd nginx etcd; do
    if command -v systemctl >/dev/null && systemctl is-active -q "$s" 2>/dev/null; then
      systemctl stop "$s" >&2 || true
    fi
  done
}

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# stop_pid NAME: stop the process recorded in DIR/pids/NAME if its command
# line still mentions DIR (a recycled PID is left alone).
stop_pid() {
  local name="$1" pid i
  pid="$(cat "$DIR/pids/$name" 2>/dev/null || true)"
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DIR" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    [[ -e /proc/$pid ]] || return 0
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
    sleep 0.1
  done
  log "$name (pid $pid) did not stop on SIGTERM, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# start NAME CMD...: run CMD in the background, log to DIR/logs/NAME.log,
# record its PID in DIR/pids/NAME.
start() {
  local name="$1"
  shift
  "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/pids/$name"
}

# wait_for WHAT SECONDS CMD...: until CMD succeeds.
wait_for() {
  local what="$1" deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "$what not ready in time"; return 1; }
    sleep 0.3
  done
}

ctr_cmd() { ctr --address "$DIR/containerd/containerd.sock" -n k8s.io "$@"; }

down() {
  [[ -d $DIR ]] || return 0
  [[ -f $DIR/$MARKER ]] || die "$DIR was not made by hack/cluster.sh"
  log "stopping the cluster in $DIR"
  # The watchdog, unless it is the one calling.
  [[ -n ${GRACEFUL_CLUSTER_WATCHDOG:-} ]] || stop_pid watchdog
  # The kubelet first, so that it restarts nothing while the rest goes.
  stop_pid kubelet
  stop_pid kube-controller-manager
  stop_pid kube-scheduler
  # Containers: kill and remove every task and container of this containerd,
  # remembering the network namespaces of the sandboxes.
  local sock="$DIR/containerd/containerd.sock" netns=() id
  if [[ -S $sock ]] && ctr_cmd version >/dev/null 2>&1; then
    for id in $(ctr_cmd containers ls -q 2>/dev/null); do
      local ns
      ns="$(ctr_cmd containers info "$id" 2>/dev/null |
        grep -o '"path": *"/[^"]*netns/[^"]*"' | sed 's/.*"\(\/[^"]*\)"$/\1/' | head -1 || true)"
      [[ -z $ns ]] || netns+=("$ns")
      ctr_cmd tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for id in $(ctr_cmd containers ls -q 2>/dev/null); do
      ctr_cmd tasks delete -f "$id" >/dev/null 2>&1 || true
      ctr_cmd containers rm "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_pid containerd
  # Shims of this containerd (their command line names its socket).
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in "${netns[@]}"; do
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
  done
  stop_pid kube-proxy
  if [[ -f $DIR/kube-proxy-bin ]]; then
    "$(cat "$DIR/kube-proxy-bin")" --cleanup >"$DIR/logs/kube-proxy-cleanup.log" 2>&1 || true
  fi
  kubelet_iptables_cleanup
  if [[ -f $DIR/route_localnet ]]; then
    sysctl -q -w "net.ipv4.conf.all.route_localnet=$(cat "$DIR/route_localnet")" || true
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  local apidir
  for apidir in "$DIR"/graceful-apiserver.*; do
    [[ -d $apidir ]] && "$ROOT/hack/apiserver.sh" stop "$apidir" >/dev/null 2>&1
  done
  # Mounts under DIR (pod volumes, overlay snapshots, shm), deepest first.
  local m
  for m in $(awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$DIR"
  log "stopped"
}

# The kubelet's own chains (kube-proxy --cleanup leaves them): the
# canaries, the hint, and KUBE-FIREWALL with its INPUT/OUTPUT jumps.
kubelet_iptables_cleanup() {
  local ipt t
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    "$ipt" -t filter -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -t filter -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -t filter -F KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -t filter -X KUBE-FIREWALL 2>/dev/null || true
    for t in filter nat mangle; do
      "$ipt" -t "$t" -F KUBE-KUBELET-CANARY 2>/dev/null || true
      "$ipt" -t "$t" -X KUBE-KUBELET-CANARY 2>/dev/null || true
    done
    "$ipt" -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null || true
  done
}

env_out() {
  [[ -f $DIR/env ]] || die "no cluster in $DIR (hack/cluster.sh up)"
  cat "$DIR/env"
}

# watchdog DIR OWNER: runs `down` once OWNER has exited. DIR is in its
# command line so that stop_pid recognizes it.
watchdog() {
  local owner="$2"
  while kill -0 "$owner" 2>/dev/null; do sleep 1; done
  GRACEFUL_CLUSTER_WATCHDOG=1 GRACEFUL_CLUSTER_DIR="$1" "$ROOT/hack/cluster.sh" down
}

up() {
  local owner=""
  if [[ ${1:-} == --owner ]]; then
    owner="${2:?--owner needs a PID}"
    kill -0 "$owner" 2>/dev/null || die "owner $owner is not running"
  fi
  [[ $(id -u) == 0 ]] || die "hack/cluster.sh needs root (containers, iptables)"
  deps
  local t0=$SECONDS
  down # leftovers of a previous run
  local tools=() t
  for t in kubectl kubelet kube-controller-manager kube-scheduler kube-proxy kube-apiserver etcd; do
    tools+=("$("$ROOT/hack/tools.sh" path "$t")")
  done
  local kubectl="${tools[0]}" kubelet="${tools[1]}" kcm="${tools[2]}" sched="${tools[3]}" proxy="${tools[4]}"
  mkdir -p "$DIR"/{pids,logs,containerd,cni/net.d,cni/ipam,kubelet,kubelet-pki}
  touch "$DIR/$MARKER"
  if [[ -n $owner ]]; then
    setsid "$ROOT/hack/cluster.sh" watchdog "$DIR" "$owner" </dev/null >"$DIR/logs/watchdog.log" 2>&1 &
    echo $! >"$DIR/pids/watchdog"
  fi
  echo "$proxy" >"$DIR/kube-proxy-bin"
  sysctl -n net.ipv4.conf.all.route_localnet >"$DIR/route_localnet"
  trap 'log "up failed; logs in $DIR/logs (kept until down)"; exit 1' ERR

  # etcd + kube-apiserver, as the dry-run tests start them.
  local apienv
  apienv="$(TMPDIR="$DIR" GRACEFUL_KUBE_APISERVER="${tools[5]}" GRACEFUL_ETCD="${tools[6]}" \
    "$ROOT/hack/apiserver.sh" start -- --kubelet-preferred-address-types=InternalIP)"
  local kubeconfig apidir
  kubeconfig="$(sed -n 's/^KUBECONFIG=//p' <<<"$apienv")"
  apidir="$(sed -n 's/^APISERVER_DIR=//p' <<<"$apienv")"

  # containerd with its own root, state and socket.
  cat >"$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
[grpc]
  address = "$DIR/containerd/containerd.sock"
[ttrpc]
  address = "$DIR/containerd/containerd.sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  # This VM refuses negative oom_score_adj; without this runc fails with
  # "can't get final child's PID from pipe: EOF" (FACTS.md).
  restrict_oom_score_adj = true
  sandbox_image = "registry.k8s.io/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
EOF
  cat >"$DIR/cni/net.d/10-graceful.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "graceful",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$DIR/cni/ipam"
      }
    }
  ]
}
EOF
  start containerd containerd --config "$DIR/containerd/config.toml"
  wait_for containerd 30 ctr_cmd version

  local p_kubelet p_healthz p_proxy_h p_proxy_m
  p_kubelet="$(free_port 10000)"
  p_healthz="$(free_port 10000)"
  p_proxy_h="$(free_port 10000)"
  p_proxy_m="$(free_port 10000)"

  start kube-controller-manager "$kcm" --kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --service-account-private-key-file="$apidir/sa.key" \
    --root-ca-file="$apidir/certs/apiserver.crt" \
    --controllers='*,-nodeipam,-service,-route,-cloud-node-lifecycle' \
    --concurrent-deployment-syncs=5 --v=1
  start kube-scheduler "$sched" --kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false --v=1

  cat >"$DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $p_kubelet
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $p_healthz
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$DIR/containerd/containerd.sock
resolvConf: ""
registerNode: true
serializeImagePulls: false
# never evict or garbage-collect the test images on a busy disk
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
featureGates: {ContainerStopSignals: true}
# pod logs inside DIR, so that down removes them
podLogsDir: $DIR/pod-logs
EOF
  start kubelet "$kubelet" --config="$DIR/kubelet/config.yaml" --kubeconfig="$kubeconfig" \
    --root-dir="$DIR/kubelet/root" --cert-dir="$DIR/kubelet-pki" \
    --hostname-override="$NODE" --v=1

  cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$kubeconfig"}
mode: iptables
hostnameOverride: $NODE
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$p_proxy_h
metricsBindAddress: 127.0.0.1:$p_proxy_m
clusterCIDR: $POD_SUBNET
nodePortAddresses: ["127.0.0.0/8"]
# leave the machine's conntrack sysctls alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: true, minSyncPeriod: 0s, syncPeriod: 30s}
EOF
  start kube-proxy "$proxy" --config="$DIR/kube-proxy.yaml" --v=1

  local k=("$kubectl" --kubeconfig="$kubeconfig")
  wait_for "node $NODE" 90 bash -c "'${kubectl}' --kubeconfig='$kubeconfig' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  # No default ServiceAccount until the controller makes it; pods need it.
  "${k[@]}" create serviceaccount default >/dev/null 2>&1 || true
  "${k[@]}" taint node "$NODE" node.kubernetes.io/not-ready- >/dev/null 2>&1 || true
  trap - ERR

  cat >"$DIR/env" <<EOF
KUBECONFIG=$kubeconfig
CLUSTER_DIR=$DIR
CONTAINERD_SOCK=$DIR/containerd/containerd.sock
CTR=ctr --address $DIR/containerd/containerd.sock -n k8s.io
NODE_NAME=$NODE
KUBECTL=$kubectl
EOF
  log "ready in $((SECONDS - t0))s; stop with: $0 down"
  cat "$DIR/env"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  watchdog) watchdog "$2" "$3" ;;
  down) down ;;
  env) env_out ;;
  deps) deps ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac
