#!/usr/bin/env bash
# Makes sure the tests' S3-compatible object store exists — MinIO, built from its published Go module,
# pinned by the wrapper module hack/minio — and links it into bin/. Its own per-user cache, keyed by that
# module, so pinning it anew never rebuilds the cluster's binaries (hack/binaries.sh).
#
# Usage: hack/minio.sh   → prints the path of bin/minio on stdout, progress on stderr
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir="$(cd "$here/.." && pwd)/bin"
key=$(cat "$here"/minio/go.mod "$here"/minio/go.sum "$0" | sha256sum | cut -c1-16)
cachedir="${XDG_CACHE_HOME:-$HOME/.cache}/clinops/minio-$key"

if [ -n "${CLINOPS_BIN_DIR:-}" ] && [ -x "$CLINOPS_BIN_DIR/minio" ]; then
  src="$CLINOPS_BIN_DIR/minio"
else
  if [ ! -x "$cachedir/minio" ]; then
    command -v go >/dev/null || { echo "minio: go is not installed and $cachedir is empty" >&2; exit 1; }
    echo "minio: building the object store from its Go module (first time only; ~10 min on 2 cores)" >&2
    start=$SECONDS
    tmp="$cachedir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "$here/minio" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$tmp/minio" github.com/minio/minio)
    rm -rf "$cachedir" && mv "$tmp" "$cachedir"
    echo "minio: built in $((SECONDS - start)) s" >&2
  fi
  src="$cachedir/minio"
fi
mkdir -p "$bindir"
[ "$src" = "$bindir/minio" ] || ln -sf "$src" "$bindir/minio"
printf '%s\n' "$bindir/minio"
