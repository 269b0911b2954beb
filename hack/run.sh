#!/usr/bin/env bash
# Runs a local single-node garage, ready for S3 clients:
#   - installs dependencies (hack/deps.sh), builds the `garage` binary,
#   - starts `garage server --default-config ./garage-data` in the background
#     (or reuses the node already running from that directory),
#   - creates, if absent, an access key named "default" (allowed to create
#     buckets) and a bucket "default" on which it has read, write and owner,
#   - prints the endpoint, the credentials and an awscli example.
# Running it again keeps the data and the same key.
#
#   bash hack/run.sh          start (or reuse) and print the credentials
#   bash hack/run.sh stop     stop the node started from the run directory
#
# Environment:
#   GARAGE_RUN_DIR     data directory (default ./garage-data)
#   GARAGE_S3_PORT     S3 API port on 127.0.0.1 (default 3900)
#   GARAGE_ADMIN_PORT  admin API port on 127.0.0.1 (default 3903)
#   GARAGE_BIN         use this garage binary: skips dependencies and build
#   BUILD_DIR          build directory (default build)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

run_dir="${GARAGE_RUN_DIR:-./garage-data}"
mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"
pid_file="$run_dir/garage.pid"
ports_file="$run_dir/run.env"
log_file="$run_dir/garage.log"
python="/usr/bin/python3"
[ -x "$python" ] || python="python3"

running_pid() {
  if [ -f "$pid_file" ]; then
    local pid
    pid="$(cat "$pid_file")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
  fi
  return 1
}

if [ "${1:-}" = "stop" ]; then
  if pid="$(running_pid)"; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: garage (pid $pid) did not stop within 10 s" >&2
      exit 1
    fi
    rm -f "$pid_file"
    echo "garage (pid $pid) stopped; data kept in $run_dir"
  else
    echo "run.sh: no garage running from $run_dir"
  fi
  exit 0
elif [ -n "${1:-}" ]; then
  echo "usage: bash hack/run.sh [stop]" >&2
  exit 2
fi

# A node already running from this directory keeps the ports it was started
# with.
s3_port="${GARAGE_S3_PORT:-3900}"
admin_port="${GARAGE_ADMIN_PORT:-3903}"
if running_pid >/dev/null && [ -f "$ports_file" ]; then
  # shellcheck disable=SC1090
  . "$ports_file"
fi

if [ -n "${GARAGE_BIN:-}" ]; then
  bin="$GARAGE_BIN"
else
  bash "$repo/hack/deps.sh"
  build="${BUILD_DIR:-build}"
  case "$build" in /*) ;; *) build="$repo/$build" ;; esac
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build" garage
  bin="$build/node/src/garage/garage"
fi

admin_addr="127.0.0.1:$admin_port"
healthy() { curl -sf --max-time 2 "http://$admin_addr/health" >/dev/null 2>&1; }

if pid="$(running_pid)"; then
  echo "garage already running from $run_dir (pid $pid)"
else
  if healthy; then
    echo "run.sh: another process answers on $admin_addr; stop it or set GARAGE_ADMIN_PORT" >&2
    exit 1
  fi
  setsid "$bin" server --default-config "$run_dir" \
    --s3-api-bind-addr "127.0.0.1:$s3_port" \
    --admin-api-bind-addr "$admin_addr" >>"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  printf 's3_port=%s\nadmin_port=%s\n' "$s3_port" "$admin_port" >"$ports_file"
  echo "garage started (pid $pid), log in $log_file"
fi

for _ in $(seq 1 300); do
  healthy && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: garage exited; the end of its log:" >&2
    tail -n 20 "$log_file" >&2
    rm -f "$pid_file"
    exit 1
  fi
  sleep 0.1
done
if ! healthy; then
  echo "run.sh: garage does not answer on http://$admin_addr/health; see $log_file" >&2
  exit 1
fi

export GARAGE_ADMIN_ADDR="$admin_addr"
GARAGE_ADMIN_TOKEN="$(cat "$run_dir/admin_token")"
export GARAGE_ADMIN_TOKEN
cli() { "$bin" "$@"; }
field() { "$python" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

key_id="$(cli key list --json | "$python" -c '
import json, sys
for k in json.load(sys.stdin):
    if k.get("name") == "default":
        print(k["id"])
        break
')"
if [ -z "$key_id" ]; then
  key_id="$(cli key create default --json | field accessKeyId)"
  echo "created access key 'default' ($key_id)"
fi
secret="$(cli key info "$key_id" --show-secret --json | field secretAccessKey)"
cli key allow --create-bucket "$key_id" >/dev/null

if ! cli bucket info default --json >/dev/null 2>&1; then
  cli bucket create default >/dev/null
  echo "created bucket 'default'"
fi
cli bucket allow --read --write --owner default --key "$key_id" >/dev/null

endpoint="http://127.0.0.1:$s3_port"
cat <<EOF

garage is running.
  S3 endpoint:       $endpoint
  Region:            garage
  Access key id:     $key_id
  Secret access key: $secret
  Bucket:            default (read, write, owner for this key)
  Admin API:         http://$admin_addr (token in $run_dir/admin_token)

Try it:
  AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=garage aws --endpoint-url $endpoint s3 ls s3://default

Admin command line:
  GARAGE_ADMIN_ADDR=$admin_addr GARAGE_ADMIN_TOKEN=\$(cat $run_dir/admin_token) $bin bucket list

Stop it:
  bash hack/run.sh stop      (or: kill \$(cat $pid_file))
EOF
