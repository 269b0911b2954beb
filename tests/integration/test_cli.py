"""The `garage` binary end to end: the admin API over HTTP (auth, errors,
every endpoint built), every command of the admin command line, the server's
start-up (config errors, bind errors, the built-in configuration and its
token file) and hack/run.sh run twice.

Run: /usr/bin/python3 -m pytest tests/integration/test_cli.py
(GARAGE_BIN points at the binary; default build/node/src/garage/garage).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

import harness

REPO = harness.REPO


# -- helpers -------------------------------------------------------------------


def garage(node, *args, env=None, cwd=None, timeout=60) -> subprocess.CompletedProcess:
    """Runs the CLI against `node` (address and token given as options)."""
    cmd = [str(node.binary), "--admin-addr", f"127.0.0.1:{node.admin_port}",
           "--admin-token", node.admin_token, *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def ok(node, *args, **kw) -> str:
    p = garage(node, *args, **kw)
    assert p.returncode == 0, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stderr == ""
    return p.stdout


def ok_json(node, *args, **kw):
    return json.loads(ok(node, "--json", *args, **kw))


def fails(node, *args, code=1, **kw) -> str:
    """Runs a command expected to fail; returns its one-line stderr."""
    p = garage(node, *args, **kw)
    assert p.returncode == code, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert "Traceback" not in p.stderr and "terminate called" not in p.stderr
    if code == 1:
        assert p.stderr.startswith("garage: ") and p.stderr.count("\n") == 1, p.stderr
    return p.stderr


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def admin_raw(node, method, path, token="default", **kw) -> requests.Response:
    headers = kw.pop("headers", {})
    if token == "default":
        token = node.admin_token
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, node.admin_endpoint + path, headers=headers, timeout=30, **kw)


def start_server(args, cwd, timeout=30, health_port=None):
    """Starts `garage server ARGS` in cwd; waits for /health when health_port is given."""
    log = open(Path(cwd) / "server.out", "ab")
    p = subprocess.Popen([str(harness.garage_bin()), "server", *args], cwd=cwd, stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    log.close()
    if health_port is not None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert p.poll() is None, (Path(cwd) / "server.out").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{health_port}/health", timeout=1).ok:
                    return p
            except requests.RequestException:
                pass
            time.sleep(0.05)
        p.kill()
        raise AssertionError("server not healthy:\n" + (Path(cwd) / "server.out").read_text())
    return p


def stop_server(p: subprocess.Popen) -> int:
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
            raise AssertionError("server ignored SIGTERM")
    return p.returncode


# -- admin API over HTTP -----------------------------------------------------------


def test_health_needs_no_token(node):
    r = requests.get(node.admin_endpoint + "/health", timeout=10)
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_metrics_expose_build_info_and_request_counters(node):
    admin_raw(node, "GET", "/v2/ListKeys")
    r = requests.get(node.admin_endpoint + "/metrics", timeout=10)  # no metrics_token set
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'garage_build_info{version="' in r.text
    assert 'garage_local_disk_avail{volume="data"}' in r.text
    assert "garage_http_requests_total" in r.text


def test_admin_endpoints_need_the_token(node):
    for token in (None, "wrong-token", node.admin_token + "x", node.admin_token[:-1]):
        r = admin_raw(node, "GET", "/v2/ListKeys", token=token)
        assert r.status_code == 401, token
        body = r.json()
        assert body["code"] == "AccessDenied"
        assert body["path"] == "/v2/ListKeys"
        assert body["region"] == "garage"
    r = admin_raw(node, "GET", "/v2/ListKeys", token=None,
                  headers={"Authorization": f"Basic {node.admin_token}"})
    assert r.status_code == 401
    assert admin_raw(node, "GET", "/v2/ListKeys").status_code == 200


def test_error_documents_and_statuses(node):
    r = admin_raw(node, "POST", "/v2/CreateKey", data=b'{"name": ')
    assert r.status_code == 400 and r.json()["code"] == "InvalidRequest"
    r = admin_raw(node, "POST", "/v2/CreateKey", json={"name": 12})
    assert r.status_code == 400
    r = admin_raw(node, "GET", "/v2/GetKeyInfo", params={"id": "GK" + "0" * 24})
    assert r.status_code == 404 and r.json()["code"] == "NoSuchAccessKey"
    r = admin_raw(node, "GET", "/v2/GetBucketInfo", params={"globalAlias": uniq("none")})
    assert r.status_code == 404 and r.json()["code"] == "NoSuchBucket"
    r = admin_raw(node, "GET", "/v2/NoSuchEndpoint")
    assert r.status_code == 404 and r.json()["code"] == "NoSuchEndpoint"
    r = admin_raw(node, "GET", "/v2/CreateKey")
    assert r.status_code == 405
    r = admin_raw(node, "GET", "/v2/CreateMetadataSnapshot")
    assert r.status_code == 501 and r.json()["code"] == "NotImplemented"
    bid = node.create_bucket(uniq("upd"))
    r = admin_raw(node, "POST", "/v2/UpdateBucket", params={"id": bid},
                  json={"quotas": {"maxSize": 1000, "maxObjects": None}})
    assert r.status_code == 200
    assert r.json()["quotas"] == {"maxSize": 1000, "maxObjects": None}
    r = admin_raw(node, "POST", "/v2/UpdateBucket", params={"id": bid}, json={})
    assert r.status_code == 200 and r.json()["id"] == bid


def test_cluster_endpoints(node):
    h = node.admin("GET", "/v2/GetClusterHealth")
    assert h["status"] == "healthy"
    assert h["partitions"] == h["partitionsAllOk"] == 256
    s = node.admin("GET", "/v2/GetClusterStatus")
    assert len(s["nodes"]) == 1
    n = s["nodes"][0]
    assert n["isUp"] is True
    assert n["addr"] == f"127.0.0.1:{node.rpc_port}"  # the RPC address, as in Garage
    assert n["garageVersion"]
    info = node.admin("GET", "/v2/GetNodeInfo", params={"node": "self"})
    assert list(info["success"]) == [n["id"]]


def test_key_endpoints_round_trip(node):
    k = node.admin("POST", "/v2/CreateKey", json={"name": "api-key"})
    kid, secret = k["accessKeyId"], k["secretAccessKey"]
    assert kid.startswith("GK") and len(secret) == 64
    assert node.admin("GET", "/v2/GetKeyInfo", params={"id": kid})["secretAccessKey"] is None
    shown = node.admin("GET", "/v2/GetKeyInfo", params={"search": "api-key", "showSecretKey": "true"})
    assert shown["accessKeyId"] == kid and shown["secretAccessKey"] == secret
    assert {"id": kid, "name": "api-key"}.items() <= next(
        x for x in node.admin("GET", "/v2/ListKeys") if x["id"] == kid).items()
    u = node.admin("POST", "/v2/UpdateKey", params={"id": kid},
                   json={"name": "renamed", "allow": {"createBucket": True}})
    assert u["name"] == "renamed" and u["permissions"]["createBucket"] is True
    imported_id = "GK" + uuid.uuid4().hex[:24]
    imp = node.admin("POST", "/v2/ImportKey", json={
        "accessKeyId": imported_id, "secretAccessKey": "ab" * 32, "name": "imported"})
    assert imp["accessKeyId"] == imported_id
    r = admin_raw(node, "POST", "/v2/ImportKey", json={
        "accessKeyId": imported_id, "secretAccessKey": "ab" * 32})
    assert r.status_code == 409
    node.admin("POST", "/v2/DeleteKey", params={"id": kid})
    assert admin_raw(node, "GET", "/v2/GetKeyInfo", params={"id": kid}).status_code == 404


def test_bucket_endpoints_round_trip(node):
    cred = node.create_key(uniq("bk"))
    name = uniq("apib")
    b = node.admin("POST", "/v2/CreateBucket", json={"globalAlias": name})
    bid = b["id"]
    assert b["globalAliases"] == [name] and b["objects"] == 0 and b["keys"] == []
    assert admin_raw(node, "POST", "/v2/CreateBucket", json={"globalAlias": name}).status_code == 409
    after = node.admin("POST", "/v2/AllowBucketKey", json={
        "bucketId": bid, "accessKeyId": cred.access_key_id,
        "permissions": {"read": True, "write": True, "owner": False}})
    assert after["keys"][0]["permissions"] == {"read": True, "write": True, "owner": False}
    after = node.admin("POST", "/v2/DenyBucketKey", json={
        "bucketId": bid, "accessKeyId": cred.access_key_id, "permissions": {"write": True}})
    assert after["keys"][0]["permissions"] == {"read": True, "write": False, "owner": False}
    alias = uniq("alias")
    after = node.admin("POST", "/v2/AddBucketAlias", json={"bucketId": bid, "globalAlias": alias})
    assert sorted(after["globalAliases"]) == sorted([name, alias])
    after = node.admin("POST", "/v2/RemoveBucketAlias", json={"bucketId": bid, "globalAlias": name})
    assert after["globalAliases"] == [alias]
    assert node.admin("GET", "/v2/GetBucketInfo", params={"search": bid[:12]})["id"] == bid
    assert bid in [x["id"] for x in node.admin("GET", "/v2/ListBuckets")]
    node.admin("POST", "/v2/DeleteBucket", params={"id": bid})
    assert admin_raw(node, "GET", "/v2/GetBucketInfo", params={"id": bid}).status_code == 404


def test_non_empty_bucket_is_409_and_counts_show_in_info(node):
    cred = node.create_key(uniq("full"))
    name = uniq("full")
    bid = node.create_bucket(name)
    node.allow(bid, cred)
    s3 = cred.boto3_client()
    s3.put_object(Bucket=name, Key="a.txt", Body=b"hello world")
    info = node.admin("GET", "/v2/GetBucketInfo", params={"id": bid})
    assert info["objects"] == 1 and info["bytes"] == 11
    r = admin_raw(node, "POST", "/v2/DeleteBucket", params={"id": bid})
    assert r.status_code == 409
    assert r.json()["code"] == "BucketNotEmpty"
    err = fails(node, "bucket", "delete", name, "--yes")
    assert "not empty" in err
    out = ok(node, "bucket", "info", name)
    assert "Objects:             1" in out
    s3.delete_object(Bucket=name, Key="a.txt")
    ok(node, "bucket", "delete", name, "--yes")


# -- the command line --------------------------------------------------------------


def test_status(node):
    out = ok(node, "status")
    assert "Cluster health: healthy" in out
    assert f"127.0.0.1:{node.rpc_port}" in out  # the node's RPC address, as in Garage
    assert "connected" in out
    st = ok_json(node, "status")
    assert st["nodes"][0]["isUp"] is True


def test_key_commands(node):
    name = uniq("alice")
    out = ok(node, "key", "create", name)
    assert f"Key name:            {name}" in out
    created = ok_json(node, "key", "info", name, "--show-secret")
    kid, secret = created["accessKeyId"], created["secretAccessKey"]
    assert f"Secret key:          {secret}" in out  # shown once at creation

    listing = ok(node, "key", "list")
    assert listing.splitlines()[0].split() == ["ID", "Name"]
    assert any(line.split() == [kid, name] for line in listing.splitlines())
    assert kid in [k["id"] for k in ok_json(node, "key", "list")]

    info = ok(node, "key", "info", kid[:10])
    assert "Secret key:          (redacted)" in info
    assert "Can create buckets:  no" in info
    assert ok_json(node, "key", "info", kid)["secretAccessKey"] is None

    ok(node, "key", "allow", "--create-bucket", name)
    assert node.admin("GET", "/v2/GetKeyInfo", params={"id": kid})["permissions"]["createBucket"]
    ok(node, "key", "deny", "--create-bucket", kid)
    assert not node.admin("GET", "/v2/GetKeyInfo", params={"id": kid})["permissions"]["createBucket"]

    new_name = uniq("bob")
    assert ok(node, "key", "rename", kid, new_name) == f"Key {kid} renamed to '{new_name}'.\n"
    assert node.admin("GET", "/v2/GetKeyInfo", params={"id": kid})["name"] == new_name

    imported = "GK" + uuid.uuid4().hex[:24]
    ok(node, "key", "import", imported, "cd" * 32, "-n", "migrated")
    got = node.admin("GET", "/v2/GetKeyInfo", params={"id": imported, "showSecretKey": "true"})
    assert got["secretAccessKey"] == "cd" * 32 and got["name"] == "migrated"
    assert "KeyAlreadyExists" in fails(node, "key", "import", imported, "cd" * 32)
    assert "invalid" in fails(node, "key", "import", "nonsense", "cd" * 32)

    fails(node, "key", "delete", kid, code=2)  # without --yes
    assert ok(node, "key", "delete", kid, "--yes") == f"Key {kid} deleted.\n"
    err = fails(node, "key", "info", kid)
    assert "NoSuchAccessKey" in err
    ok(node, "key", "delete", imported, "--yes")


def test_bucket_commands(node):
    key_name = uniq("owner")
    ok(node, "key", "create", key_name)
    kid = ok_json(node, "key", "info", key_name)["accessKeyId"]
    name = uniq("photos")
    out = ok(node, "bucket", "create", name)
    assert out.startswith(f"Bucket {name} created (id ")
    bid = ok_json(node, "bucket", "info", name)["id"]
    assert "BucketAlreadyExists" in fails(node, "bucket", "create", name)
    assert "InvalidRequest" in fails(node, "bucket", "create", "Not_A_Valid_Name")

    listing = ok(node, "bucket", "list")
    assert listing.splitlines()[0].split() == ["ID", "Created", "Global", "aliases"]
    assert any(line.startswith(bid[:16]) and line.endswith(name) for line in listing.splitlines())
    assert bid in [b["id"] for b in ok_json(node, "bucket", "list")]

    out = ok(node, "bucket", "allow", "--read", "--write", name, "--key", key_name)
    assert out == f"Key {kid} on bucket {name}: RW-\n"
    out = ok(node, "bucket", "allow", "--owner", bid[:12], "--key", kid)
    assert out.endswith(": RWO\n")
    out = ok(node, "bucket", "deny", "--write", name, "--key", kid)
    assert out.endswith(": R-O\n")
    info = ok(node, "bucket", "info", name)
    assert f"Bucket:              {bid}" in info
    assert any(line.split() == ["R-O", kid, key_name] for line in info.splitlines())
    key_info = ok(node, "key", "info", kid)
    assert any(line.split() == ["R-O", bid[:16], name] for line in key_info.splitlines())

    alias = uniq("pics")
    assert ok(node, "bucket", "alias", name, alias) == \
        f"Alias {alias} now points to bucket {bid[:16]}.\n"
    assert ok_json(node, "bucket", "info", alias)["id"] == bid
    ok(node, "bucket", "unalias", bid[:16], name)
    assert sorted(ok_json(node, "bucket", "info", alias)["globalAliases"]) == [alias]
    assert "Conflict" in fails(node, "bucket", "unalias", alias)  # the last one stays

    fails(node, "bucket", "delete", alias, code=2)  # without --yes
    assert ok(node, "bucket", "delete", alias, "--yes") == f"Bucket {alias} deleted.\n"
    assert "NoSuchBucket" in fails(node, "bucket", "info", alias)
    assert "NoSuchBucket" in fails(node, "bucket", "allow", "--read", alias, "--key", kid)


def test_permissions_granted_by_the_cli_work_over_s3(node):
    key_name = uniq("s3user")
    created = ok_json(node, "key", "create", key_name)
    cred = harness.credentials(node, created["accessKeyId"], created["secretAccessKey"])
    name = uniq("granted")
    ok(node, "bucket", "create", name)
    s3 = cred.boto3_client()
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError):
        s3.put_object(Bucket=name, Key="k", Body=b"v")
    ok(node, "bucket", "allow", "--read", "--write", name, "--key", key_name)
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    ok(node, "bucket", "deny", "--write", name, "--key", key_name)
    with pytest.raises(ClientError):
        s3.put_object(Bucket=name, Key="k2", Body=b"v")


def test_usage_errors_exit_2_with_usage(node):
    for args in ([], ["frobnicate"], ["key"], ["key", "info"], ["key", "list", "--bogus"],
                 ["bucket", "allow", "b", "--key", "k"]):
        p = garage(node, *args)
        assert p.returncode == 2, args
        assert p.stderr.startswith("garage: "), p.stderr
        assert "usage" in p.stderr.lower()
    p = garage(node, "--help")
    assert p.returncode == 0 and "garage bucket allow" in p.stdout
    p = garage(node, "help")
    assert p.returncode == 0 and "garage key create" in p.stdout
    p = subprocess.run([str(node.binary), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("garage ")


def test_unreachable_admin_api_says_where(node):
    port = harness.free_port()
    p = subprocess.run([str(node.binary), "--admin-addr", f"127.0.0.1:{port}",
                        "--admin-token", "x", "key", "list"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1
    assert p.stderr.startswith(f"garage: cannot reach the admin API at 127.0.0.1:{port}")
    assert p.stderr.count("\n") == 1


def test_wrong_token_is_reported(node):
    p = subprocess.run([str(node.binary), "--admin-addr", f"127.0.0.1:{node.admin_port}",
                        "--admin-token", "wrong", "key", "list"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1
    assert "AccessDenied" in p.stderr


def test_address_and_token_from_environment_and_config(node, tmp_path):
    env = dict(os.environ, GARAGE_ADMIN_ADDR=f"127.0.0.1:{node.admin_port}",
               GARAGE_ADMIN_TOKEN=node.admin_token)
    env.pop("GARAGE_CONFIG", None)
    p = subprocess.run([str(node.binary), "key", "list"], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=30)
    assert p.returncode == 0, p.stderr
    env = dict(os.environ)
    for k in ("GARAGE_ADMIN_ADDR", "GARAGE_ADMIN_TOKEN", "GARAGE_CONFIG"):
        env.pop(k, None)
    p = subprocess.run([str(node.binary), "-c", str(node.config_path), "bucket", "list"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([str(node.binary), "status"], capture_output=True, text=True,
                       env=dict(env, GARAGE_CONFIG=str(node.config_path)), cwd=tmp_path,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    # No config, no token file under ./garage-data: a clear error.
    p = subprocess.run([str(node.binary), "key", "list"], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=30)
    assert p.returncode == 1
    assert "admin token" in p.stderr and p.stderr.count("\n") == 1


# -- the server's start-up -------------------------------------------------------------


def test_config_with_an_unknown_key_exits_1_naming_it(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"metadata_dir: {tmp_path}/m\ndata_dir: {tmp_path}/d\n"
                   "admin:\n  admin_token: t\nnot_an_option: 3\n")
    p = subprocess.run([str(harness.garage_bin()), "server", "-c", str(cfg)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "not_an_option" in p.stderr
    p = subprocess.run([str(harness.garage_bin()), "-c", str(cfg), "key", "list"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "not_an_option" in p.stderr
    p = subprocess.run([str(harness.garage_bin()), "server", "-c", str(tmp_path / "none.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "none.yaml" in p.stderr


def test_a_busy_port_exits_1_with_a_clear_message(node, tmp_path):
    p = subprocess.run([str(harness.garage_bin()), "server", "--default-config", str(tmp_path / "d"),
                        "--s3-api-bind-addr", f"127.0.0.1:{node.s3_port}",
                        "--admin-api-bind-addr", f"127.0.0.1:{harness.free_port()}"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert f"127.0.0.1:{node.s3_port}" in p.stderr
    assert "in use" in p.stderr.lower()


def test_built_in_config_creates_a_private_token_and_stops_cleanly(tmp_path):
    s3_port, admin_port = harness.free_port(), harness.free_port()
    srv = start_server(["--s3-api-bind-addr", f"127.0.0.1:{s3_port}",
                        "--admin-api-bind-addr", f"127.0.0.1:{admin_port}"],
                       cwd=tmp_path, health_port=admin_port)
    try:
        token_file = tmp_path / "garage-data" / "admin_token"
        assert token_file.exists()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32
        log = (tmp_path / "server.out").read_text()
        assert f"S3 API listening on http://127.0.0.1:{s3_port}" in log
        # The CLI finds the token under ./garage-data by itself.
        env = {k: v for k, v in os.environ.items() if not k.startswith("GARAGE_")}
        p = subprocess.run([str(harness.garage_bin()), "--admin-addr", f"127.0.0.1:{admin_port}",
                            "key", "create", "k1"], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=30)
        assert p.returncode == 0, p.stderr
    finally:
        rc = stop_server(srv)
    assert rc == 0
    # A restart keeps the token and the data.
    srv = start_server(["--s3-api-bind-addr", f"127.0.0.1:{s3_port}",
                        "--admin-api-bind-addr", f"127.0.0.1:{admin_port}"],
                       cwd=tmp_path, health_port=admin_port)
    try:
        assert (tmp_path / "garage-data" / "admin_token").read_text().strip() == token
        r = requests.get(f"http://127.0.0.1:{admin_port}/v2/ListKeys",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert [k["name"] for k in r.json()] == ["k1"]
    finally:
        assert stop_server(srv) == 0


# -- hack/run.sh ------------------------------------------------------------------------


def _run_sh(env, *args):
    return subprocess.run(["bash", str(REPO / "hack" / "run.sh"), *args], capture_output=True,
                          text=True, env=env, timeout=120)


def _printed(out: str, label: str) -> str:
    for line in out.splitlines():
        if line.strip().startswith(label + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{label} not printed:\n{out}")


def test_run_sh_twice_keeps_the_same_key(tmp_path):
    env = dict(os.environ, GARAGE_BIN=str(harness.garage_bin()),
               GARAGE_RUN_DIR=str(tmp_path / "run"),
               GARAGE_S3_PORT=str(harness.free_port()),
               GARAGE_ADMIN_PORT=str(harness.free_port()))
    for k in ("GARAGE_ADMIN_ADDR", "GARAGE_ADMIN_TOKEN", "GARAGE_CONFIG"):
        env.pop(k, None)
    try:
        first = _run_sh(env)
        assert first.returncode == 0, first.stdout + first.stderr
        key_id = _printed(first.stdout, "Access key id")
        secret = _printed(first.stdout, "Secret access key")
        endpoint = _printed(first.stdout, "S3 endpoint")
        assert endpoint == f"http://127.0.0.1:{env['GARAGE_S3_PORT']}"
        assert "AWS_DEFAULT_REGION=garage aws --endpoint-url" in first.stdout
        assert "s3 ls s3://default" in first.stdout

        import boto3
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id,
                          aws_secret_access_key=secret, region_name="garage",
                          config=Config(s3={"addressing_style": "path"}))
        s3.put_object(Bucket="default", Key="hello.txt", Body=b"hi")

        second = _run_sh(env)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout
        assert _printed(second.stdout, "Access key id") == key_id
        assert _printed(second.stdout, "Secret access key") == secret
        assert s3.get_object(Bucket="default", Key="hello.txt")["Body"].read() == b"hi"

        stopped = _run_sh(env, "stop")
        assert stopped.returncode == 0 and "stopped" in stopped.stdout

        # Started again on the same directory: same key, data kept.
        third = _run_sh(env)
        assert third.returncode == 0, third.stdout + third.stderr
        assert "garage started" in third.stdout
        assert _printed(third.stdout, "Access key id") == key_id
        assert s3.get_object(Bucket="default", Key="hello.txt")["Body"].read() == b"hi"
    finally:
        _run_sh(env, "stop")
