#!/usr/bin/env bash
# Builds the pinned tool binaries that graceful's tests and CI use, from the
# Go module proxy only, and prints their paths on stdout (one per line).
#
#   hack/tools.sh [TOOL...]          build missing TOOLs, print their paths
#   hack/tools.sh path TOOL          print the path of one TOOL (build if missing)
#   hack/tools.sh versions           print "TOOL VERSION" for each Go-built tool
#
# TOOL is one of: helm3 helm4 kustomize kube-apiserver kubectl etcd containerd all,
# or a cluster tool: kubelet kube-controller-manager kube-scheduler kube-proxy,
# or traefik ("all", the default, is every Go-built tool hack/test.sh needs;
# the cluster tools are built only when named, for hack/cluster.sh; traefik
# only when named, for `make drill-servers`; etcd and containerd are separate
# because they are installed with apt-get from Debian).
#
# Versions are pinned in the go.mod of each module under tools/ (the single
# source of truth): tools/helm3, tools/helm4, tools/kustomize, tools/kube
# (kube-apiserver, kubectl and the cluster tools), tools/traefik (a require
# line only: see build_traefik). Binaries land in
#   .cache/tools/<tool>-<version>/<binary>     (or $GRACEFUL_TOOLS_DIR/...)
# so bumping a version in a tools/*/go.mod builds a fresh binary. An existing
# binary is never rebuilt (delete its directory to force a rebuild). Builds of
# different tools may run in parallel; builds of the same tool are serialized
# with flock. Logs go to stderr; stdout carries only paths.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/tools"
# GRACEFUL_TOOLS_DIR moves the binaries elsewhere, e.g. to share them between
# clones on one machine.
CACHE_DIR="${GRACEFUL_TOOLS_DIR:-$ROOT/.cache/tools}"

# Never let the go command download another toolchain, and never let a stray
# GOFLAGS=-mod=mod rewrite the committed go.mod/go.sum files.
export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-}"
export CGO_ENABLED=0

ALL_TOOLS=(helm3 helm4 kustomize kube-apiserver kubectl)
# The rest of a single-node cluster (hack/cluster.sh), same module as kubectl.
CLUSTER_TOOLS=(kubelet kube-controller-manager kube-scheduler kube-proxy)
# Servers the drill runs that Debian does not package (make drill-servers).
SERVER_TOOLS=(traefik)

log() { echo "tools.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# tool -> module directory under tools/, Go package, binary name, version module
tool_moddir() {
  case "$1" in
    helm3) echo helm3 ;;
    helm4) echo helm4 ;;
    kustomize) echo kustomize ;;
    kube-apiserver | kubectl | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo kube ;;
    traefik) echo traefik ;;
    *) die "unknown tool '$1'" ;;
  esac
}
tool_pkg() {
  case "$1" in
    helm3) echo helm.sh/helm/v3/cmd/helm ;;
    helm4) echo helm.sh/helm/v4/cmd/helm ;;
    kustomize) echo sigs.k8s.io/kustomize/kustomize/v5 ;;
    kube-apiserver) echo k8s.io/kubernetes/cmd/kube-apiserver ;;
    kubectl | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo "k8s.io/kubernetes/cmd/$1" ;;
    traefik) echo ./cmd/traefik ;; # inside the module's own directory
  esac
}
tool_bin() {
  case "$1" in
    helm3 | helm4) echo helm ;;
    *) echo "$1" ;;
  esac
}
tool_module() {
  case "$1" in
    helm3) echo helm.sh/helm/v3 ;;
    helm4) echo helm.sh/helm/v4 ;;
    kustomize) echo sigs.k8s.io/kustomize/kustomize/v5 ;;
    kube-apiserver | kubectl | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo k8s.io/kubernetes ;;
    traefik) echo github.com/traefik/traefik/v3 ;;
  esac
}

# The version pinned in the tool's go.mod (read with awk: no go invocation, so
# the warm path stays fast). Handles both "require (" blocks and single lines.
tool_version() {
  local gomod mod v
  gomod="$TOOLS_DIR/$(tool_moddir "$1")/go.mod"
  mod="$(tool_module "$1")"
  [[ -f $gomod ]] || die "missing $gomod"
  v="$(awk -v m="$mod" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == m && $2 ~ /^v/ { print $2; exit }
  ' "$gomod")"
  [[ -n $v ]] || die "no 'require $mod' in $gomod"
  echo "$v"
}

tool_path() {
  echo "$CACHE_DIR/$1-$(tool_version "$1")/$(tool_bin "$1")"
}

# go list -m in the tool's module (only called when building).
modinfo() { (cd "$1" && go list -m -f "$2" "$3"); }

tool_ldflags() {
  local tool="$1" version="$2" moddir="$3" flags="-s -w"
  case "$tool" in
    helm3 | helm4)
      # helm reads its version from helm.sh/helm/vN/internal/version.version
      # (the source default is only "v3.22"/"v4.3"), as Helm's Makefile sets it.
      local p="helm.sh/helm/${version%%.*}/internal/version"
      flags+=" -X $p.version=$version -X $p.metadata= -X $p.gitTreeState=clean"
      if [[ $tool == helm3 ]]; then
        # Helm 3's default .Capabilities.KubeVersion (used by `helm template`
        # without --kube-version) and lint's deprecation target default to
        # v1.20 unless set like Helm's Makefile does: client-go v0.X.Y -> 1.X.
        local cg major minor
        cg="$(modinfo "$moddir" '{{.Version}}' k8s.io/client-go)"
        cg="${cg#v}"
        major=$((${cg%%.*} + 1))
        minor="$(echo "$cg" | cut -d. -f2)"
        local q
        for q in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
          flags+=" -X $q.k8sVersionMajor=$major -X $q.k8sVersionMinor=$minor"
        done
      fi
      # Helm 4 derives its default kube version from the client-go module
      # version in the binary's build info, which `go build` records.
      ;;
    kustomize)
      # kustomize finds its version in the build info (dependency
      # sigs.k8s.io/kustomize/kustomize/v5), nothing to set.
      ;;
    kube-apiserver | kubectl | kubelet | kube-controller-manager | kube-scheduler | kube-proxy)
      # As kubernetes' hack/lib/version.sh does; the source default is
      # "v0.0.0-master+$Format:%H$".
      local v="${version#v}" date
      date="$(modinfo "$moddir" '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
      local p
      for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        flags+=" -X $p.gitVersion=$version -X $p.gitMajor=${v%%.*}"
        flags+=" -X $p.gitMinor=$(echo "$v" | cut -d. -f2) -X $p.gitTreeState=clean"
        # The commit is not known from the module proxy; avoid "$Format:%H$".
        flags+=" -X $p.gitCommit="
        [[ -z $date ]] || flags+=" -X $p.buildDate=$date"
      done
      ;;
    traefik)
      # As Traefik's Makefile does (the source default is "dev"); the
      # release date stands for the build date. The codename is left at
      # the source default: it changes per minor release.
      local p=github.com/traefik/traefik/v3/pkg/version date
      date="$(modinfo "$moddir" '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' github.com/traefik/traefik/v3)"
      flags+=" -X $p.Version=$version"
      [[ -z $date ]] || flags+=" -X $p.BuildDate=$date"
      ;;
  esac
  echo "$flags"
}

build_tool() {
  local tool="$1" version out dir moddir pkg lock tmp start
  version="$(tool_version "$tool")"
  out="$(tool_path "$tool")"
  if [[ -x $out ]]; then
    echo "$out"
    return
  fi
  dir="$(dirname "$out")"
  moddir="$TOOLS_DIR/$(tool_moddir "$tool")"
  pkg="$(tool_pkg "$tool")"
  mkdir -p "$CACHE_DIR"
  lock="$CACHE_DIR/.$tool-$version.lock"
  (
    # Serialize builds of the same tool+version; another process may have
    # finished it while we waited for the lock.
    exec 9>"$lock"
    flock 9
    [[ -x $out ]] && exit 0
    log "building $tool $version ($pkg) into $dir"
    start=$SECONDS
    mkdir -p "$dir"
    tmp="$(mktemp "$dir/.$(tool_bin "$tool").tmp.XXXXXX")"
    trap 'rm -f "$tmp"' EXIT
    local ldflags
    ldflags="$(tool_ldflags "$tool" "$version" "$moddir")"
    if [[ $tool == traefik ]]; then
      build_traefik "$moddir" "$dir" "$ldflags" "$tmp"
    else
      (cd "$moddir" && go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg")
    fi
    chmod 0755 "$tmp"
    mv -f "$tmp" "$out" # atomic: a binary at $out is always complete
    log "built $tool $version in $((SECONDS - start))s"
  )
  echo "$out"
}

# Traefik's go.mod has replace directives (go install refuses the module)
# and one points at a nested module, ./pkg/config/dynamic/ext, that module
# zips leave out and the proxy does not serve. So: download the module
# pinned in tools/traefik (checked against tools/traefik/go.sum), build
# ./cmd/traefik in a writable copy of it, where its own go.mod and go.sum
# apply, with the nested module written back as upstream has it (two empty
# structs, extension points: pkg/config/dynamic/ext/ext.go at v3.7.x). The
# web UI (webui/static, embedded) is not in the zip either: only its
# placeholder file is embedded, so the dashboard is empty; the drill needs
# none of it.
build_traefik() {
  local moddir="$1" dir="$2" ldflags="$3" out="$4" src copy
  src="$(cd "$moddir" && go mod download -json github.com/traefik/traefik/v3 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d $src ]] || die "traefik: go mod download gave no directory"
  copy="$(mktemp -d "$dir/.src.XXXXXX")"
  trap "rm -rf '$tmp' '$copy'" EXIT
  cp -R "$src/." "$copy"
  chmod -R u+w "$copy"
  if [[ ! -f $copy/pkg/config/dynamic/ext/go.mod ]]; then
    mkdir -p "$copy/pkg/config/dynamic/ext"
    printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.26.0\n' >"$copy/pkg/config/dynamic/ext/go.mod"
    printf 'package ext\n\n// HTTP is a dynamic.HTTP extension.\ntype HTTP struct{}\n\n// Router is a dynamic.Router extension.\ntype Router struct{}\n' >"$copy/pkg/config/dynamic/ext/ext.go"
  fi
  # -buildvcs=false: the copy may sit inside another repository's work tree.
  (cd "$copy" && go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out" ./cmd/traefik)
  rm -rf "$copy"
}

# etcd is not built: Debian's etcd-server package is installed when no etcd is
# on PATH (the apiserver tests only need a local etcd).
etcd_path() {
  local p
  if p="$(command -v etcd 2>/dev/null)"; then
    echo "$p"
    return
  fi
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "etcd is not on PATH and we are not root: install Debian's etcd-server"
    sudo=(sudo)
  fi
  log "installing Debian package etcd-server"
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends etcd-server
  } >&2
  p="$(command -v etcd 2>/dev/null)" || die "etcd-server installed but no etcd on PATH"
  echo "$p"
}

# containerd (with ctr and runc beside it) is not built either: Debian's
# containerd and runc packages, installed when containerd is missing. The
# function-image test runs its own containerd with it.
containerd_path() {
  local p
  if p="$(command -v containerd 2>/dev/null)" && command -v runc >/dev/null; then
    echo "$p"
    return
  fi
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "containerd is not on PATH and we are not root: install Debian's containerd and runc"
    sudo=(sudo)
  fi
  log "installing Debian packages containerd runc"
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends containerd runc
  } >&2
  p="$(command -v containerd 2>/dev/null)" || die "containerd installed but not on PATH"
  echo "$p"
}

run_tool() {
  case "$1" in
    etcd) etcd_path ;;
    containerd) containerd_path ;;
    all) for t in "${ALL_TOOLS[@]}"; do build_tool "$t"; done ;;
    helm3 | helm4 | kustomize | kube-apiserver | kubectl) build_tool "$1" ;;
    kubelet | kube-controller-manager | kube-scheduler | kube-proxy) build_tool "$1" ;;
    traefik) build_tool "$1" ;;
    *) die "unknown tool '$1' (want: ${ALL_TOOLS[*]} ${CLUSTER_TOOLS[*]} ${SERVER_TOOLS[*]} etcd containerd all)" ;;
  esac
}

main() {
  command -v flock >/dev/null || die "flock (util-linux) is required"
  case "${1:-all}" in
    -h | --help | help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
      ;;
    path)
      [[ $# -eq 2 ]] || die "usage: $0 path TOOL"
      [[ $2 != all ]] || die "path takes one tool"
      run_tool "$2"
      ;;
    versions)
      for t in "${ALL_TOOLS[@]}" "${CLUSTER_TOOLS[@]}" "${SERVER_TOOLS[@]}"; do echo "$t $(tool_version "$t")"; done
      ;;
    *)
      [[ $# -gt 0 ]] || set -- all
      for t in "$@"; do run_tool "$t"; done
      ;;
  esac
}

main "$@"
