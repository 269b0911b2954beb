#!/usr/bin/env bash
# Runs the geo latency benchmark: three zones 100 ms apart, one client next to node 0.
# Usage: tests/bench/run_geo_bench.sh [geo_bench.py options]   (see README.md)
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
if ! /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
  echo "boto3 is not installed for /usr/bin/python3: apt-get install python3-boto3" >&2
  exit 2
fi
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$here/geo_bench.py" --garage-bin "$bin" "$@"
