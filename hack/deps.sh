#!/usr/bin/env bash
# System packages the tests and the local control plane need, installed when missing.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
{ command -v promtool && command -v prometheus; } >/dev/null || need+=(prometheus)   # promtool: the alert rules' tests; prometheus: the autoscaling e2e's metrics
command -v lua5.1 >/dev/null || need+=(lua5.1)           # runs the Argo CD health check (Argo CD runs Lua 5.1)
# The real node and the images (see hack/images.sh and hack/cluster/node.ts):
command -v containerd >/dev/null || need+=(containerd)     # the node's container runtime (1.6, CRI plugin)
command -v runc >/dev/null || need+=(runc)                 # its OCI runtime (crun refuses our hybrid cgroups)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)   # bridge + host-local IPAM for pods
command -v iptables >/dev/null || need+=(iptables)         # kube-proxy's Service rules, the harness's forward guard
command -v conntrack >/dev/null || need+=(conntrack)       # kube-proxy clears stale UDP flows with it
command -v buildah >/dev/null || need+=(buildah)           # builds Dockerfile.server and Dockerfile.operator, no daemon
command -v debootstrap >/dev/null || need+=(debootstrap)   # the Debian base those Dockerfiles build on here
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)  # static pause
command -v gcc >/dev/null || need+=(gcc)
command -v chromium >/dev/null || need+=(chromium)         # opens `clinops report` in the tests (playwright-core drives it)
# A real PACS and modality for the PACS path (hack/cluster/pacs.ts): Orthanc with its DICOMweb plugin,
# dcmtk (storescu sends studies; dsrdump reads the SRs) and dicom3tools (dciodvfy checks them).
command -v Orthanc >/dev/null || need+=(orthanc)
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
command -v storescu >/dev/null || need+=(dcmtk)
command -v dciodvfy >/dev/null || need+=(dicom3tools)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
  echo "deps: missing ${need[*]}; install them with your package manager" >&2
  exit 1
fi
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
echo "deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
# --no-install-recommends and no service start: the harness runs its own Prometheus (for the custom
# metrics API) and its own containerd (a system one, where the package starts it, is left alone).
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for service in prometheus orthanc; do
  if [[ " ${need[*]} " == *" $service "* ]] && command -v systemctl >/dev/null && systemctl is-active -q "$service" 2>/dev/null; then
    $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true   # the harness runs its own, on loopback
  fi
done
