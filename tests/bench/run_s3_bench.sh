#!/usr/bin/env bash
# Runs the S3 load benchmark: one garage node against nginx, same client, same run.
# Usage: tests/bench/run_s3_bench.sh [s3_bench.py options]   (see README.md)
# GARAGE_BIN selects the binary (default: build/node/src/garage/garage; with
# BUILD_DIR set and no binary there, `ninja -C $BUILD_DIR garage` builds it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
bin="${GARAGE_BIN:-$build/node/src/garage/garage}"
if [ ! -x "$bin" ] && [ -z "${GARAGE_BIN:-}" ] && [ -f "$build/build.ninja" ]; then
  echo "building garage in $build" >&2
  ninja -C "$build" garage >&2
fi
if [ ! -x "$bin" ]; then
  echo "garage binary not found at $bin: build it (ninja -C build garage) or set GARAGE_BIN" >&2
  exit 2
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "nginx is not installed: run hack/deps.sh" >&2
  exit 2
fi
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$here/s3_bench.py" --garage-bin "$bin" "$@"
