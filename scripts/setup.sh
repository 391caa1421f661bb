#!/usr/bin/env bash
# Installs every Debian package caudal needs (idempotent: a no-op when all are
# present) and builds the project into build/.
# Usage: scripts/setup.sh [--no-build] [--test]   (--test: also what only the tests need)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread        # tensors and autograd; a fast BLAS
  libblas-dev                              # cblas.h: attention's small products straight to BLAS
  libgoogle-perftools-dev                  # tcmalloc: faster than glibc's malloc for these programs
  libgloo-dev                              # distributed training (LibTorch's c10d with Gloo)
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  zlib1g-dev                               # gzip-compressed logs and metadata
  libzip-dev                               # checkpoint CRC checks
  libcpp-httplib-dev libcurl4-openssl-dev  # embedding endpoint client and its tests
  libgtest-dev libgmock-dev libbenchmark-dev
)
for arg in "$@"; do
  [ "$arg" = "--test" ] && packages+=(chromium)  # renders `caudal report` in tests/report_in_browser.sh
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# Debian's default BLAS is the slow reference implementation; make sure the
# OpenBLAS alternative is the one LibTorch loads.
blas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [ -e "$blas" ] && command -v update-alternatives >/dev/null; then
  current=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/{print $2}')
  if [ "$current" != "$blas" ]; then
    $sudo_cmd update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" || true
  fi
fi

if [[ " $* " != *" --no-build "* ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j "$(nproc)"
fi
