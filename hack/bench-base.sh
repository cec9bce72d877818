#!/usr/bin/env bash
# Builds an earlier commit of this repository beside it, for the side-by-side server benchmark
# (make bench-ab BASE=<commit>): its files (git archive) under .clinops/bench-base/<commit>, compiled
# with this checkout's node_modules (a base whose dependencies differ from ours is not comparable this
# way). Prints the built checkout's root. Built once per commit.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --verify "${1:?usage: bench-base.sh <commit>}^{commit}")
dir=".clinops/bench-base/$commit"
if [ ! -f "$dir/dist/cli/main.js" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  git archive "$commit" | tar -x -C "$dir"
  ln -s "$PWD/node_modules" "$dir/node_modules"
  (cd "$dir" && node node_modules/typescript/bin/tsc -p tsconfig.build.json) >&2
fi
echo "$PWD/$dir"
