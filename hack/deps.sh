#!/usr/bin/env bash
# System packages the tests and the local control plane need, installed when missing.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v promtool >/dev/null || need+=(prometheus)      # promtool: checks and unit-tests the alert rules
command -v lua5.1 >/dev/null || need+=(lua5.1)           # runs the Argo CD health check (Argo CD runs Lua 5.1)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
  echo "deps: missing ${need[*]}; install them with your package manager" >&2
  exit 1
fi
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
echo "deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
# --no-install-recommends and no service start: only promtool is wanted from the prometheus package.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [[ " ${need[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null && systemctl is-active -q prometheus 2>/dev/null; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
