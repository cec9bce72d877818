#!/usr/bin/env bash
# Makes sure the local control plane's binaries exist and prints the folder that holds them.
#
# Every binary is built from its published Go module, pinned by the wrapper modules beside this script
# (hack/kube, hack/etcd, hack/kwok, hack/helm). Lookup order, per binary:
#   1. $CLINOPS_BIN_DIR, then $KUBEBUILDER_ASSETS (a user's own binaries, e.g. envtest's)
#   2. bin/ in the repository
#   3. a per-user cache keyed by the pinned versions (a fresh clone on the same machine reuses it)
#   4. a build with `go`, into that cache
# and the result is linked into bin/. Without go and without the binaries it fails, saying what to do.
#
# Usage: hack/binaries.sh [--quiet]   → prints the bin folder on stdout, progress on stderr
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bindir="$root/bin"

KUBE_VERSION=v1.33.13
ETCD_VERSION=v3.5.21
KWOK_VERSION=v0.7.0
HELM_VERSION=v3.18.6
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy kwok helm)

log() { [ "${1:-}" = "" ] || printf 'binaries: %s\n' "$*" >&2; }

# The cache key covers every pinned input: the wrapper modules and their checksums.
key=$(cat "$here"/{kube,etcd,kwok,helm}/go.mod "$here"/{kube,etcd,kwok,helm}/go.sum "$0" | sha256sum | cut -c1-16)
cachedir="${XDG_CACHE_HOME:-$HOME/.cache}/clinops/bin-$key"

find_in() { # find_in NAME DIR... → first DIR/NAME that is executable
  local name=$1; shift
  local d
  for d in "$@"; do
    [ -n "$d" ] && [ -x "$d/$name" ] && { printf '%s\n' "$d/$name"; return 0; }
  done
  return 1
}

build_all() {
  command -v go >/dev/null || {
    echo "binaries: go is not installed and $cachedir is empty." >&2
    echo "binaries: install Go (1.24 or newer) or point CLINOPS_BIN_DIR at a folder holding: ${BINARIES[*]}" >&2
    exit 1
  }
  local tmp="$cachedir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  local start=$SECONDS
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local kv
  kv="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1"
  kv+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  kv+=" -X k8s.io/component-base/version.buildDate=$date"
  kv+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1"
  kv+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  export CGO_ENABLED=0 GOFLAGS=-mod=mod
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy $KUBE_VERSION (first time only; ~15 min on 2 cores)"
  (cd "$here/kube" && go build -trimpath -ldflags "-s -w $kv" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
  log "building etcd $ETCD_VERSION"
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  log "building kwok $KWOK_VERSION"
  (cd "$here/kwok" && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)
  log "building helm $HELM_VERSION"
  (cd "$here/helm" && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    -o "$tmp/helm" helm.sh/helm/v3/cmd/helm)
  rm -rf "$cachedir" && mv "$tmp" "$cachedir"
  log "built all in $((SECONDS - start)) s into the cache"
}

missing=()
for b in "${BINARIES[@]}"; do
  find_in "$b" "${CLINOPS_BIN_DIR:-}" "${KUBEBUILDER_ASSETS:-}" "$bindir" "$cachedir" >/dev/null || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "missing: ${missing[*]}"
  build_all
fi

# bin/ is the one folder the harness reads: link each binary there from wherever it was found.
mkdir -p "$bindir"
for b in "${BINARIES[@]}"; do
  src=$(find_in "$b" "${CLINOPS_BIN_DIR:-}" "${KUBEBUILDER_ASSETS:-}" "$bindir" "$cachedir")
  [ "$src" = "$bindir/$b" ] || ln -sf "$src" "$bindir/$b"
done
printf '%s\n' "$bindir"
