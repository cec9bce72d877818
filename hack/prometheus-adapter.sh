#!/usr/bin/env bash
# Makes sure the tests' custom metrics API exists — prometheus-adapter, built from its published Go module,
# pinned by the wrapper module hack/prometheus-adapter — and links it into bin/. It serves
# custom.metrics.k8s.io from Debian's Prometheus to the HorizontalPodAutoscalers that spec.serving.autoscaling
# makes. Its own per-user cache, keyed by that module, so pinning it anew rebuilds nothing else.
#
# Usage: hack/prometheus-adapter.sh   → prints the path of bin/prometheus-adapter on stdout, progress on stderr
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir="$(cd "$here/.." && pwd)/bin"
key=$(cat "$here"/prometheus-adapter/go.mod "$here"/prometheus-adapter/go.sum "$0" | sha256sum | cut -c1-16)
cachedir="${XDG_CACHE_HOME:-$HOME/.cache}/clinops/prometheus-adapter-$key"

if [ -n "${CLINOPS_BIN_DIR:-}" ] && [ -x "$CLINOPS_BIN_DIR/prometheus-adapter" ]; then
  src="$CLINOPS_BIN_DIR/prometheus-adapter"
else
  if [ ! -x "$cachedir/prometheus-adapter" ]; then
    command -v go >/dev/null || { echo "prometheus-adapter: go is not installed and $cachedir is empty" >&2; exit 1; }
    echo "prometheus-adapter: building the custom metrics API server from its Go module (first time only; ~3 min on 2 cores)" >&2
    start=$SECONDS
    tmp="$cachedir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "$here/prometheus-adapter" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$tmp/prometheus-adapter" sigs.k8s.io/prometheus-adapter/cmd/adapter)
    rm -rf "$cachedir" && mv "$tmp" "$cachedir"
    echo "prometheus-adapter: built in $((SECONDS - start)) s" >&2
  fi
  src="$cachedir/prometheus-adapter"
fi
mkdir -p "$bindir"
[ "$src" = "$bindir/prometheus-adapter" ] || ln -sf "$src" "$bindir/prometheus-adapter"
printf '%s\n' "$bindir/prometheus-adapter"
