"""Harness for integration tests: real `garage` processes on loopback, real clients.

A `garage_node` owns a temporary directory (config, metadata, data, log), runs
`garage server -c <dir>/garage.yaml` on free loopback ports, and can be stopped
(SIGTERM), killed (SIGKILL) and restarted on the same directory. Through its
admin API (Garage admin API v2 shape, bearer token) it creates keys and
buckets; `credentials` then hand out ready-made clients and environments for
boto3, awscli, s3cmd, rclone and restic.

The binary is $GARAGE_BIN, else <repo>/build/node/src/garage/garage.
Set GARAGE_KEEP_TMP=1 to keep the node directories after the tests.

Only the Python standard library, requests, boto3 and botocore are used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterable

import requests

REPO = Path(__file__).resolve().parents[2]
REGION = "garage"
ADMIN_TOKEN = "integration-admin-token"


def garage_bin() -> Path:
    """The garage binary under test ($GARAGE_BIN or the default build path)."""
    return Path(os.environ.get("GARAGE_BIN", REPO / "build/node/src/garage/garage"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_tool(name: str, preferred: Iterable[str] = ()) -> str | None:
    """Path of a client binary: the first existing `preferred` path, else PATH."""
    for p in preferred:
        if os.access(p, os.X_OK):
            return p
    return shutil.which(name)


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class node_error(RuntimeError):
    """The node failed to start, died, or an admin call failed."""


@dataclasses.dataclass
class credentials:
    """An access key on a node, with client factories bound to its S3 endpoint."""

    node: "garage_node"
    access_key_id: str
    secret_access_key: str
    name: str = ""

    # -- boto3 ------------------------------------------------------------
    def boto3_client(self, **config_kwargs: Any):
        """A boto3 S3 client: path-style, SigV4, region garage, no retries."""
        import boto3
        from botocore.config import Config

        cfg = dict(
            region_name=REGION,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
        )
        cfg.update(config_kwargs)
        return boto3.client(
            "s3",
            endpoint_url=self.node.s3_endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=REGION,
            config=Config(**cfg),
        )

    # -- awscli -----------------------------------------------------------
    def aws_env(self, base: dict | None = None) -> dict:
        """Environment for `aws` (use with aws_args(): --endpoint-url)."""
        env = dict(os.environ if base is None else base)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key_id,
            AWS_SECRET_ACCESS_KEY=self.secret_access_key,
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
            AWS_MAX_ATTEMPTS="2",
        )
        return env

    def aws_args(self) -> list[str]:
        """Arguments to put after `aws`: the endpoint and no pager."""
        return ["--endpoint-url", self.node.s3_endpoint, "--no-cli-pager"]

    # -- s3cmd ------------------------------------------------------------
    def s3cmd_config(self, path: str | os.PathLike) -> Path:
        """Writes an s3cmd config (path-style, plain HTTP, SigV4) to `path`."""
        hp = f"127.0.0.1:{self.node.s3_port}"
        text = (
            "[default]\n"
            f"access_key = {self.access_key_id}\n"
            f"secret_key = {self.secret_access_key}\n"
            f"host_base = {hp}\n"
            f"host_bucket = {hp}\n"
            f"bucket_location = {REGION}\n"
            "use_https = False\n"
            "signature_v2 = False\n"
            "check_ssl_certificate = False\n"
            "guess_mime_type = True\n"
            "multipart_chunk_size_mb = 15\n"
            "socket_timeout = 60\n"
            "max_retries = 2\n"
            "progress_meter = False\n"
        )
        p = Path(path)
        p.write_text(text)
        return p

    # -- rclone -----------------------------------------------------------
    def rclone_env(self, remote: str = "garage", base: dict | None = None) -> dict:
        """Environment defining rclone remote `remote:` (provider Other, path style)."""
        env = dict(os.environ if base is None else base)
        r = remote.upper()
        env.update(
            {
                f"RCLONE_CONFIG_{r}_TYPE": "s3",
                f"RCLONE_CONFIG_{r}_PROVIDER": "Other",
                f"RCLONE_CONFIG_{r}_ACCESS_KEY_ID": self.access_key_id,
                f"RCLONE_CONFIG_{r}_SECRET_ACCESS_KEY": self.secret_access_key,
                f"RCLONE_CONFIG_{r}_ENDPOINT": self.node.s3_endpoint,
                f"RCLONE_CONFIG_{r}_REGION": REGION,
                f"RCLONE_CONFIG_{r}_FORCE_PATH_STYLE": "true",
                f"RCLONE_CONFIG_{r}_ENV_AUTH": "false",
                "RCLONE_CONFIG": os.devnull,
            }
        )
        return env

    # -- restic -----------------------------------------------------------
    def restic_env(self, bucket: str, password: str = "integration-password",
                   prefix: str = "", base: dict | None = None) -> dict:
        """Environment for restic with repository s3:http://127.0.0.1:PORT/bucket[/prefix]."""
        env = self.aws_env(base)
        repo = f"s3:{self.node.s3_endpoint}/{bucket}"
        if prefix:
            repo += "/" + prefix.strip("/")
        env.update(RESTIC_REPOSITORY=repo, RESTIC_PASSWORD=password)
        return env

    @staticmethod
    def restic_args() -> list[str]:
        """Options to put after `restic`: region, path-style lookup, no cache."""
        return ["-o", f"s3.region={REGION}", "-o", "s3.bucket-lookup=path", "--no-cache"]

    # -- raw signed requests ------------------------------------------------
    def signed_headers(self, method: str, url: str, headers: dict | None = None,
                       payload_hash: str = "UNSIGNED-PAYLOAD") -> dict:
        """Headers (incl. Authorization) for a SigV4 request to `url`.

        `url` must already be percent-encoded the way it will be sent. The
        payload is not read: `payload_hash` is sent as x-amz-content-sha256
        (UNSIGNED-PAYLOAD or the hex SHA-256 of the body). Signed with
        botocore.auth.SigV4Auth (S3 flavour: the path is not normalised).
        """
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        class _s3_sigv4(SigV4Auth):
            def _normalize_url_path(self, path):  # S3 signs the path as sent
                return path

        h = dict(headers or {})
        h["X-Amz-Content-SHA256"] = payload_hash
        req = AWSRequest(method=method, url=url, headers=h, data=b"")
        creds = Credentials(self.access_key_id, self.secret_access_key)
        _s3_sigv4(creds, "s3", REGION).add_auth(req)
        out = dict(req.headers.items())
        out.setdefault("Host", urllib.parse.urlsplit(url).netloc)
        return out

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                sign_payload: bool = True, timeout: float = 60, **kw) -> requests.Response:
        """A SigV4-signed request through `requests` to the node's S3 API.

        `path` is the percent-encoded path plus optional ?query, e.g. "/b/k?delete".
        """
        import hashlib

        url = self.node.s3_endpoint + path
        h = dict(headers or {})
        if body:
            h.setdefault("Content-Length", str(len(body)))
        ph = hashlib.sha256(body).hexdigest() if sign_payload else "UNSIGNED-PAYLOAD"
        return requests.request(method, url, data=body,
                                headers=self.signed_headers(method, url, h, ph),
                                timeout=timeout, **kw)


class garage_node:
    """One `garage server` process on loopback, in its own directory.

    Ports are picked free at construction and kept across restarts, so clients
    made before a restart keep working. `config_overrides` replace or add
    top-level config keys (values: bool, int, str; a dict for a section).
    """

    def __init__(self, base_dir: str | os.PathLike | None = None, *,
                 config_overrides: dict | None = None, binary: str | os.PathLike | None = None,
                 admin_token: str = ADMIN_TOKEN, start: bool = True):
        self.binary = Path(binary) if binary else garage_bin()
        if not self.binary.exists():
            raise node_error(f"garage binary not found at {self.binary} (set GARAGE_BIN)")
        self._own_dir = base_dir is None
        self.dir = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="garage-it-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.admin_token = admin_token
        self.config_overrides = dict(config_overrides or {})
        self.s3_port = free_port()
        self.admin_port = free_port()
        self.rpc_port = free_port()
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.starts = 0
        self.write_config()
        if start:
            self.start()

    # -- paths and config -------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.dir / "garage.yaml"

    @property
    def metadata_dir(self) -> Path:
        return self.dir / "meta"

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def log_path(self) -> Path:
        return self.dir / "garage.log"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def admin_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def config(self) -> dict:
        """The config as a dict (sections as nested dicts)."""
        cfg: dict[str, Any] = {
            "metadata_dir": str(self.metadata_dir),
            "data_dir": str(self.data_dir),
            "metadata_fsync": False,
            "data_fsync": False,
            "block_size": "1M",
            "compression_level": 1,
            "log_level": "info",
            "rpc_bind_addr": f"127.0.0.1:{self.rpc_port}",
            "s3_api": {
                "api_bind_addr": f"127.0.0.1:{self.s3_port}",
                "s3_region": REGION,
                "root_domain": ".s3.garage.localhost",
            },
            "admin": {
                "api_bind_addr": f"127.0.0.1:{self.admin_port}",
                "admin_token": self.admin_token,
                "metrics_token": "",
            },
        }
        for k, v in self.config_overrides.items():
            if isinstance(v, dict) and isinstance(cfg.get(k), dict):
                cfg[k] = {**cfg[k], **v}
            else:
                cfg[k] = v
        return cfg

    @staticmethod
    def render_yaml(cfg: dict, indent: int = 0) -> str:
        out = []
        pad = " " * indent
        for k, v in cfg.items():
            if isinstance(v, dict):
                out.append(f"{pad}{k}:")
                out.append(garage_node.render_yaml(v, indent + 2).rstrip("\n"))
            elif isinstance(v, list):
                out.append(f"{pad}{k}:" + ("" if v else " []"))
                out.extend(f"{pad}  - {_yaml_str(str(item))}" for item in v)
            elif isinstance(v, bool):
                out.append(f"{pad}{k}: {'true' if v else 'false'}")
            elif isinstance(v, (int, float)):
                out.append(f"{pad}{k}: {v}")
            else:
                out.append(f"{pad}{k}: {_yaml_str(str(v))}")
        return "\n".join(out) + "\n"

    def write_config(self) -> Path:
        self.config_path.write_text(self.render_yaml(self.config()))
        return self.config_path

    # -- lifecycle --------------------------------------------------------
    def start(self, timeout: float = 30) -> None:
        """Spawns the server and waits for /health. Retries on a port clash."""
        if self.running():
            return
        for attempt in range(3):
            self.write_config()
            self._log = open(self.log_path, "ab")
            self._log.write(f"\n===== start {self.starts} =====\n".encode())
            self._log.flush()
            self.proc = subprocess.Popen(
                [str(self.binary), "server", "-c", str(self.config_path)],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.starts += 1
            try:
                self.wait_ready(timeout)
                return
            except node_error:
                if self.proc.poll() is not None and attempt < 2 and self._port_clash():
                    # Another process took one of our ports: pick new ones.
                    self.s3_port, self.admin_port = free_port(), free_port()
                    self.rpc_port = free_port()
                    continue
                self.kill9()
                raise

    def _port_clash(self) -> bool:
        return "address already in use" in self.log_tail(4000).lower()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                rc = None if self.proc is None else self.proc.returncode
                raise node_error(f"garage exited during start-up (rc={rc}):\n{self.log_tail()}")
            try:
                r = requests.get(self.admin_endpoint + "/health", timeout=2,
                                 headers=self._auth())
                if r.status_code == 200:
                    # The S3 port must accept connections too.
                    with socket.create_connection(("127.0.0.1", self.s3_port), timeout=2):
                        return
                last = f"/health -> {r.status_code} {r.text[:200]}"
            except (requests.RequestException, OSError) as e:
                last = repr(e)
            time.sleep(0.05)
        raise node_error(f"garage not healthy after {timeout}s ({last}):\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise node_error(f"garage ignored SIGTERM for {timeout}s:\n{self.log_tail()}")
        self._close_log()
        return self.proc.returncode

    def kill9(self) -> None:
        """SIGKILL, no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close_log()

    def restart(self, kill: bool = False, timeout: float = 30) -> None:
        """Stops (SIGTERM, or SIGKILL if `kill`) and starts again on the same dir."""
        if kill:
            self.kill9()
        else:
            self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stops the node (SIGTERM, then SIGKILL) and removes its dir if it owns it."""
        try:
            if self.running():
                try:
                    self.stop(timeout=15)
                except node_error:
                    pass
        finally:
            self._close_log()
            if self._own_dir and not os.environ.get("GARAGE_KEEP_TMP"):
                shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, n: int = 3000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no log)"
        return data[-n:].decode("utf-8", "replace")

    def assert_alive(self) -> None:
        """Raises node_error with the log tail if the process has died."""
        if not self.running():
            rc = None if self.proc is None else self.proc.returncode
            raise node_error(f"garage is not running (rc={rc}):\n{self.log_tail()}")

    # -- process stats ----------------------------------------------------
    def proc_status(self) -> dict[str, int]:
        """VmRSS, VmHWM, ... from /proc/PID/status, in KiB."""
        out = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                parts = v.split()
                if parts and parts[-1] == "kB":
                    out[k] = int(parts[0])
        return out

    def data_files(self) -> list[Path]:
        """Regular files under data_dir (block files and whatever else is there)."""
        if not self.data_dir.exists():
            return []
        return [p for p in self.data_dir.rglob("*") if p.is_file()]

    # -- admin API --------------------------------------------------------
    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def admin(self, method: str, path: str, json: Any = None, params: dict | None = None,
              expect: int | None = 200, timeout: float = 30) -> Any:
        """Calls the admin API; returns parsed JSON (or text). Raises on another status."""
        r = requests.request(method, self.admin_endpoint + path, json=json, params=params,
                             headers=self._auth(), timeout=timeout)
        if expect is not None and r.status_code != expect:
            raise node_error(f"admin {method} {path} -> {r.status_code}: {r.text[:500]}")
        if not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            return r.text

    def metrics(self) -> str:
        r = requests.get(self.admin_endpoint + "/metrics", headers=self._auth(), timeout=10)
        r.raise_for_status()
        return r.text

    def metric_values(self, name: str) -> list[tuple[str, float]]:
        """(labels, value) of every sample of metric `name` in /metrics."""
        out = []
        for line in self.metrics().splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            head, _, val = line.rpartition(" ")
            metric = head.split("{", 1)[0]
            if metric != name:
                continue
            labels = head[len(metric):]
            try:
                out.append((labels, float(val)))
            except ValueError:
                pass
        return out

    def create_key(self, name: str = "test-key", allow_create_bucket: bool = True) -> credentials:
        k = self.admin("POST", "/v2/CreateKey", json={"name": name})
        cred = credentials(self, k["accessKeyId"], k["secretAccessKey"], name)
        if allow_create_bucket:
            self.admin("POST", "/v2/UpdateKey", params={"id": cred.access_key_id},
                       json={"allow": {"createBucket": True}})
        return cred

    def create_bucket(self, alias: str) -> str:
        b = self.admin("POST", "/v2/CreateBucket", json={"globalAlias": alias})
        return b["id"]

    def bucket_info(self, alias: str) -> dict:
        return self.admin("GET", "/v2/GetBucketInfo", params={"globalAlias": alias})

    def allow(self, bucket_id: str, key: credentials, read: bool = True, write: bool = True,
              owner: bool = True) -> None:
        self.admin("POST", "/v2/AllowBucketKey", json={
            "bucketId": bucket_id,
            "accessKeyId": key.access_key_id,
            "permissions": {"read": read, "write": write, "owner": owner},
        })

    def key_and_bucket(self, bucket: str, key_name: str | None = None) -> credentials:
        """A new key with read/write/owner on a new bucket `bucket`."""
        cred = self.create_key(key_name or f"key-{bucket}")
        self.allow(self.create_bucket(bucket), cred)
        return cred


# -- small helpers shared by the tests ----------------------------------------

def run(cmd: list[str], *, env: dict | None = None, timeout: float = 300, cwd=None,
        check: bool = True, input: bytes | None = None,
        node: "garage_node | None" = None) -> subprocess.CompletedProcess:
    """Runs a client command; on failure raises AssertionError with its output.

    With `node`, the command is stopped as soon as that node's process dies
    (clients such as restic would otherwise retry for minutes), and the
    error carries the node's log tail.
    """
    shown = " ".join(map(str, cmd))
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE if input else
                         subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    deadline = time.monotonic() + timeout
    pending_input = input
    while True:
        try:
            out, err = p.communicate(pending_input, timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            pending_input = None
            why = None
            if time.monotonic() > deadline:
                why = f"timed out after {timeout}s"
            elif node is not None and node.proc is not None and not node.running():
                why = f"garage died while it ran:\n{node.log_tail()}"
            if why:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                out, err = p.communicate()
                raise AssertionError(
                    f"{why}\ncommand: {shown}\n"
                    f"stdout: {out.decode(errors='replace')[-2000:]}\n"
                    f"stderr: {err.decode(errors='replace')[-2000:]}")
    cp = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    if check and cp.returncode != 0:
        dead = ""
        if node is not None and node.proc is not None and not node.running():
            dead = f"\ngarage died:\n{node.log_tail()}"
        raise AssertionError(
            f"command failed (rc={cp.returncode}): {shown}\n"
            f"stdout: {out.decode(errors='replace')[-3000:]}\n"
            f"stderr: {err.decode(errors='replace')[-3000:]}{dead}")
    return cp


def make_tree(root: Path, files: dict[str, int], seed: int = 0) -> dict[str, bytes]:
    """Creates files (relative path -> size) of random bytes under root; returns contents."""
    import random

    rng = random.Random(seed)
    out = {}
    for rel, size in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size)
        p.write_bytes(data)
        out[rel] = data
    return out


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every regular file under root."""
    import hashlib

    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def http_date(ts: float) -> str:
    """RFC 7231 date of a POSIX timestamp."""
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")


@contextlib.contextmanager
def node(**kw):
    """`with node() as n:` a started node, closed at the end."""
    n = garage_node(**kw)
    try:
        yield n
    finally:
        n.close()
