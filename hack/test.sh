#!/usr/bin/env bash
# Installs what is needed, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/deps.sh
bash hack/k8s-tools.sh >/dev/null  # kubectl and helm in .tools/bin for tests/k8s
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j"$(nproc)"
cd "$build" && ctest --output-on-failure -j"$(nproc)"
