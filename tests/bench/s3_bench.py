#!/usr/bin/python3
"""S3 load benchmark: one garage node against nginx (WebDAV PUT) on loopback.

Measures in one run, against both servers with the same client code:
  - PUT and GET throughput (MiB/s) of large objects (64 MiB by default),
  - PUT and GET rate (ops/s) of small objects (4 KiB by default),
with 1 and 16 concurrent clients, plus garage's resident memory (VmRSS from
/proc/PID/status) at idle and during the 16-client runs, and VmHWM at the end.

The client is Python's http.client over keep-alive connections, one per
client thread. Every request is SigV4-signed with UNSIGNED-PAYLOAD (garage
checks the signature; nginx ignores the headers), so the client does exactly
the same work for both servers. With small objects the Python client itself
is often the bottleneck (and it shares the 2 cores with the servers): the
4 KiB rows compare the servers under that same limit, not their ceilings.

Aims are printed as met / not met, never asserted:
  large-object GET and PUT >= 0.5x nginx; idle RSS < 50 MiB;
  RSS under the 16-client load < 200 MiB.

Usage: tests/bench/run_s3_bench.sh [--seconds 5] [--large-mib 64] ...
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import harness  # noqa: E402

MiB = 1 << 20
REGION = harness.REGION


# -- SigV4 with UNSIGNED-PAYLOAD: small and cheap, same cost for both servers ----

class signer:
    """Signs path-style requests for one access key. Keys must not need URI-encoding."""

    def __init__(self, host: str, key_id: str, secret: str):
        self.host, self.key_id, self.secret = host, key_id, secret
        self._day = None
        self._kdate = None

    def _signing_key(self, day: str) -> bytes:
        if day != self._day:
            k = hmac.new(("AWS4" + self.secret).encode(), day.encode(), hashlib.sha256).digest()
            for part in (REGION, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self._day, self._kdate = day, k
        return self._kdate

    def headers(self, method: str, path: str) -> dict[str, str]:
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        signed = "host;x-amz-content-sha256;x-amz-date"
        canonical = (f"{method}\n{path}\n\nhost:{self.host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"
                     f"x-amz-date:{amz_date}\n\n{signed}\nUNSIGNED-PAYLOAD")
        scope = f"{day}/{REGION}/s3/aws4_request"
        sts = (f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n"
               + hashlib.sha256(canonical.encode()).hexdigest())
        sig = hmac.new(self._signing_key(day), sts.encode(), hashlib.sha256).hexdigest()
        return {
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            "x-amz-date": amz_date,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                             f"SignedHeaders={signed}, Signature={sig}",
        }


class target:
    """A server under test: where to send requests and how to sign them."""

    def __init__(self, name: str, port: int, prefix: str, sign: signer, pid: int | None):
        self.name, self.port, self.prefix, self.sign, self.pid = name, port, prefix, sign, pid


class client:
    """One keep-alive HTTP/1.1 connection; PUT from memory, GET into a reused buffer."""

    CHUNK = 1 * MiB

    def __init__(self, t: target):
        self.t = t
        self.conn: http.client.HTTPConnection | None = None
        self.buf = bytearray(self.CHUNK)

    def _conn(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.t.port, timeout=120)
        return self.conn

    def _request(self, method: str, key: str, body: memoryview | None) -> int:
        path = f"{self.t.prefix}/{key}"
        for attempt in range(2):
            c = self._conn()
            try:
                c.putrequest(method, path, skip_accept_encoding=True)
                for k, v in self.t.sign.headers(method, path).items():
                    c.putheader(k, v)
                if body is not None:
                    c.putheader("Content-Length", str(len(body)))
                c.endheaders()
                if body is not None:
                    for i in range(0, len(body), self.CHUNK):
                        c.send(body[i:i + self.CHUNK])
                r = c.getresponse()
                n = 0
                while True:
                    got = r.readinto(self.buf)
                    if not got:
                        break
                    n += got
                if r.status >= 300:
                    raise RuntimeError(f"{self.t.name} {method} {path}: HTTP {r.status} "
                                       f"{bytes(self.buf[:min(n, 300)])!r}")
                if r.will_close:
                    self.close()
                return n
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest, BrokenPipeError):
                self.close()
                if attempt == 1:
                    raise
        return 0

    def put(self, key: str, body: memoryview) -> None:
        self._request("PUT", key, body)

    def get(self, key: str) -> int:
        return self._request("GET", key, None)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# -- servers ---------------------------------------------------------------------

NGINX_CONF = """\
{user}worker_processes {workers};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  client_body_temp_path {dir}/body_tmp;
  proxy_temp_path {dir}/proxy_tmp;
  fastcgi_temp_path {dir}/fastcgi_tmp;
  uwsgi_temp_path {dir}/uwsgi_tmp;
  scgi_temp_path {dir}/scgi_tmp;
  client_body_buffer_size 1m;
  server {{
    listen 127.0.0.1:{port};
    root {dir}/root;
    client_max_body_size 0;
    location / {{
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }}
  }}
}}
"""


class nginx_server:
    def __init__(self, binary: str, workers: int):
        self.dir = Path(tempfile.mkdtemp(prefix="s3bench-nginx-"))
        (self.dir / "root" / "bench").mkdir(parents=True)
        self.port = harness.free_port()
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, workers=workers, dir=self.dir,
                                          port=self.port))
        self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr", "wb"),
                                     start_new_session=True)
        deadline = time.monotonic() + 15
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/")
                c.getresponse().read()
                c.close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    logs = [self.dir / "stderr", self.dir / "error.log"]
                    raise RuntimeError("nginx did not start:\n" + "".join(
                        p.read_text(errors="replace") for p in logs if p.exists()))
                time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- memory sampling ---------------------------------------------------------------

def proc_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class rss_sampler(threading.Thread):
    """Samples VmRSS of `pid` every 20 ms while active; keeps the maximum."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.active, self.done = pid, 0, threading.Event(), False

    def run(self):
        while not self.done:
            if self.active.is_set():
                try:
                    self.peak_kib = max(self.peak_kib, proc_kib(self.pid, "VmRSS"))
                except OSError:
                    return
            time.sleep(0.02)


# -- workloads -------------------------------------------------------------------

class workload_result:
    def __init__(self, ops: int, nbytes: int, secs: float):
        self.ops, self.nbytes, self.secs = ops, nbytes, secs

    @property
    def mib_s(self) -> float:
        return self.nbytes / MiB / self.secs

    @property
    def ops_s(self) -> float:
        return self.ops / self.secs


def run_clients(t: target, n: int, seconds: float, max_ops: int, body_fn, op: str,
                keys_by_client: list[list[str]], tag: str) -> workload_result:
    """n client threads doing `op` for `seconds` (at least one op each, at most
    max_ops in all). PUT keys are recorded in keys_by_client; GETs read them back."""
    clients = [client(t) for _ in range(n)]
    counts = [0] * n
    nbytes = [0] * n
    errors: list[BaseException] = []
    start_barrier = threading.Barrier(n + 1)
    budget = threading.Semaphore(max_ops)
    stop_at = [0.0]

    def worker(i: int):
        c = clients[i]
        start_barrier.wait()
        try:
            j = 0
            while True:
                if j > 0 and time.monotonic() >= stop_at[0]:
                    break
                if not budget.acquire(blocking=False):
                    break
                if op == "PUT":
                    key = f"{tag}/c{i}/o{j}"
                    body = body_fn(i, j)
                    c.put(key, body)
                    keys_by_client[i].append(key)
                    nbytes[i] += len(body)
                else:
                    keys = keys_by_client[i] or [k for ks in keys_by_client for k in ks]
                    nbytes[i] += c.get(keys[j % len(keys)])
                counts[i] += 1
                j += 1
        except BaseException as e:  # reported after the join
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for th in threads:
        th.start()
    t0 = time.monotonic()
    stop_at[0] = t0 + seconds
    start_barrier.wait()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - t0
    if errors:
        raise RuntimeError(f"{t.name} {op} with {n} clients failed: {errors[0]!r}")
    return workload_result(sum(counts), sum(nbytes), elapsed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--garage-bin", default=str(harness.garage_bin()))
    ap.add_argument("--nginx-bin", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--nginx-workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    ap.add_argument("--large-mib", type=int, default=64, help="large object size (MiB)")
    ap.add_argument("--small-kib", type=int, default=4, help="small object size (KiB)")
    ap.add_argument("--clients", default="1,16", help="comma-separated client counts")
    ap.add_argument("--max-large-ops", type=int, default=64,
                    help="cap on large PUTs per measurement (bounds disk use)")
    ap.add_argument("--max-small-ops", type=int, default=200_000)
    ap.add_argument("--garage-config", action="append", default=[], metavar="KEY=VALUE",
                    help="override a top-level garage config key (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the garage directory")
    args = ap.parse_args()

    client_counts = [int(x) for x in args.clients.split(",")]
    large = args.large_mib * MiB
    small = args.small_kib * 1024
    if not Path(args.garage_bin).exists():
        print(f"garage binary not found: {args.garage_bin}", file=sys.stderr)
        return 2
    if not Path(args.nginx_bin).exists():
        print(f"nginx not found ({args.nginx_bin}); run hack/deps.sh", file=sys.stderr)
        return 2

    overrides: dict = {}
    for kv in args.garage_config:
        k, _, v = kv.partition("=")
        overrides[k] = int(v) if v.isdigit() else {"true": True, "false": False}.get(v, v)
    if args.keep:
        os.environ["GARAGE_KEEP_TMP"] = "1"

    print(f"# s3 bench: {os.cpu_count()} cpus, {args.seconds}s per measurement, "
          f"large={args.large_mib} MiB, small={args.small_kib} KiB, clients={client_counts}",
          flush=True)
    # Random source for bodies: each PUT takes a different window, so no two
    # objects share a block (garage deduplicates identical blocks).
    pool = memoryview(os.urandom(large + 4 * MiB))

    def large_body(i: int, j: int) -> memoryview:
        off = ((i * 131 + j * 17) * 4099) % (4 * MiB)
        return pool[off:off + large]

    def small_body(i: int, j: int) -> memoryview:
        off = ((i * 7919 + j * 104729) * 8) % (len(pool) - small)
        return pool[off:off + small]

    node = harness.garage_node(binary=args.garage_bin, config_overrides=overrides)
    ngx = None
    try:
        ngx = nginx_server(args.nginx_bin, args.nginx_workers)
        cred = node.key_and_bucket("bench")
        host_g = f"127.0.0.1:{node.s3_port}"
        targets = {
            "garage": target("garage", node.s3_port, "/bench",
                             signer(host_g, cred.access_key_id, cred.secret_access_key), node.pid),
            "nginx": target("nginx", ngx.port, "/bench",
                            signer(f"127.0.0.1:{ngx.port}", cred.access_key_id,
                                   cred.secret_access_key), ngx.proc.pid),
        }
        # Warm up both (connections, first block files, first metadata writes).
        for t in targets.values():
            c = client(t)
            c.put("warmup/x", small_body(0, 0))
            c.get("warmup/x")
            c.close()
        time.sleep(1.0)
        idle_rss = proc_kib(node.pid, "VmRSS")

        sampler = rss_sampler(node.pid)
        sampler.start()
        rows = []  # (operation, clients, garage value, nginx value, unit)
        for n in client_counts:
            for size, label, body_fn, max_ops in [
                    (large, f"{args.large_mib} MiB", large_body, args.max_large_ops),
                    (small, f"{args.small_kib} KiB", small_body, args.max_small_ops)]:
                keys = {name: [[] for _ in range(n)] for name in targets}
                results = {}
                for op in ("PUT", "GET"):
                    for name in ("nginx", "garage"):
                        if n == max(client_counts) and name == "garage":
                            sampler.active.set()
                        r = run_clients(targets[name], n, args.seconds, max_ops, body_fn, op,
                                        keys[name], f"{label.replace(' ', '')}-n{n}")
                        sampler.active.clear()
                        results[(op, name)] = r
                        print(f"  {name:6} {op} {label:>7} x{n:<2}: {r.ops} ops in "
                              f"{r.secs:.2f}s = {r.mib_s:8.1f} MiB/s {r.ops_s:9.1f} ops/s",
                              flush=True)
                    unit = "MiB/s" if size == large else "ops/s"
                    g, x = results[(op, "garage")], results[(op, "nginx")]
                    gv, xv = (g.mib_s, x.mib_s) if unit == "MiB/s" else (g.ops_s, x.ops_s)
                    rows.append((f"{op} {label}", n, gv, xv, unit))
                if node.proc.poll() is not None:
                    raise RuntimeError("garage died:\n" + node.log_tail())
        sampler.done = True
        load_rss = sampler.peak_kib
        hwm = proc_kib(node.pid, "VmHWM")

        print()
        print(f"{'operation':<14} {'clients':>7} {'garage':>12} {'nginx':>12} {'unit':>6} "
              f"{'ratio':>7}")
        for op, n, gv, xv, unit in rows:
            ratio = gv / xv if xv else float("nan")
            print(f"{op:<14} {n:>7} {gv:>12.1f} {xv:>12.1f} {unit:>6} {ratio:>7.2f}")
        print()
        print(f"garage RSS idle: {idle_rss / 1024:.1f} MiB; peak during the "
              f"{max(client_counts)}-client runs: {load_rss / 1024:.1f} MiB; "
              f"VmHWM at the end: {hwm / 1024:.1f} MiB")
        print()
        print("aims (reported, not asserted):")
        for op, n, gv, xv, unit in rows:
            if unit == "MiB/s":
                ok = xv > 0 and gv >= 0.5 * xv
                print(f"  {op} x{n}: garage >= 0.5x nginx: {'met' if ok else 'not met'} "
                      f"({gv / xv if xv else float('nan'):.2f}x)")
        print(f"  idle RSS < 50 MiB: {'met' if idle_rss < 50 * 1024 else 'not met'} "
              f"({idle_rss / 1024:.1f} MiB)")
        print(f"  RSS under {max(client_counts)}-client load < 200 MiB: "
              f"{'met' if load_rss < 200 * 1024 else 'not met'} ({load_rss / 1024:.1f} MiB)")
        print("note: the client is Python (http.client, one thread per client, same code for "
              "both servers); small-object rates are often bounded by it.")
        return 0
    finally:
        if ngx is not None:
            ngx.close()
        node.close()


if __name__ == "__main__":
    sys.exit(main())
