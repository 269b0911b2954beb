"""Error paths of the S3 API against a real node: authentication, permissions,
missing resources, malformed bodies, digests, ranges, clients that vanish in
the middle of an upload, and a config file the server must refuse."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import socket
import struct
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.exceptions import ClientError

import harness

# A short GC delay and upload timeout so that abandoned uploads are reclaimed quickly.
NODE_CONFIG = {"block_gc_delay_secs": 1, "upload_timeout_secs": 5}


def err(e: ClientError) -> tuple[str, int]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(fn, code: str, status: int, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    got = err(ei.value)
    assert got == (code, status), f"{fn.__name__}: expected {code} {status}, got {got}"
    return ei.value


def xml_code(body: bytes) -> str | None:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    return root.findtext("Code") or root.findtext("{*}Code")


# -- authentication --------------------------------------------------------------


def test_wrong_secret(node, cred, bucket):
    bad = harness.credentials(node, cred.access_key_id, cred.secret_access_key[::-1])
    c = bad.boto3_client()
    expect_error(c.list_objects_v2, "SignatureDoesNotMatch", 403, Bucket=bucket)
    expect_error(c.put_object, "SignatureDoesNotMatch", 403, Bucket=bucket, Key="k", Body=b"x")


def test_unknown_access_key(node, bucket):
    ghost = harness.credentials(node, "GK" + "0" * 24, "f" * 64)
    expect_error(ghost.boto3_client().list_objects_v2, "InvalidAccessKeyId", 403, Bucket=bucket)


def test_anonymous_request_denied(node, s3, bucket):
    s3.put_object(Bucket=bucket, Key="public?", Body=b"x")
    r = requests.get(f"{node.s3_endpoint}/{bucket}/public%3F", timeout=10)
    assert r.status_code == 403 and xml_code(r.content) == "AccessDenied", (r.status_code, r.text)
    r = requests.get(f"{node.s3_endpoint}/{bucket}", timeout=10)
    assert r.status_code == 403 and xml_code(r.content) == "AccessDenied", (r.status_code, r.text)


def test_presigned_urls(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"},
                                    ExpiresIn=300)
    r = requests.put(url, data=b"presigned body", timeout=10)
    assert r.status_code == 200, r.text
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"},
                                    ExpiresIn=300)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == b"presigned body"
    # A tampered signature is refused.
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")[:-1]
    r = requests.get(bad, timeout=10)
    assert r.status_code == 403 and xml_code(r.content) == "SignatureDoesNotMatch", r.text


def test_presigned_url_expired(s3, bucket):
    s3.put_object(Bucket=bucket, Key="e", Body=b"soon gone")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e"},
                                    ExpiresIn=1)
    time.sleep(2.2)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403, (r.status_code, r.text)
    assert xml_code(r.content) == "AccessDenied", r.text


# -- permissions -----------------------------------------------------------------


def test_key_without_permission(node, s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    outsider = node.create_key("outsider", allow_create_bucket=False).boto3_client()
    expect_error(outsider.get_object, "AccessDenied", 403, Bucket=bucket, Key="secret")
    expect_error(outsider.put_object, "AccessDenied", 403, Bucket=bucket, Key="x", Body=b"x")
    expect_error(outsider.list_objects_v2, "AccessDenied", 403, Bucket=bucket)
    expect_error(outsider.delete_object, "AccessDenied", 403, Bucket=bucket, Key="secret")
    assert bucket not in [b["Name"] for b in outsider.list_buckets()["Buckets"]]
    # Without the createBucket flag, CreateBucket is refused.
    expect_error(outsider.create_bucket, "AccessDenied", 403, Bucket="outsider-bucket")
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"s"


def test_read_only_and_write_only_keys(node, s3, bucket):
    info = node.bucket_info(bucket)
    s3.put_object(Bucket=bucket, Key="r", Body=b"r")
    ro = node.create_key("reader", allow_create_bucket=False)
    node.allow(info["id"], ro, read=True, write=False, owner=False)
    c = ro.boto3_client()
    assert c.get_object(Bucket=bucket, Key="r")["Body"].read() == b"r"
    c.list_objects_v2(Bucket=bucket)
    expect_error(c.put_object, "AccessDenied", 403, Bucket=bucket, Key="w", Body=b"w")
    expect_error(c.delete_object, "AccessDenied", 403, Bucket=bucket, Key="r")
    expect_error(c.delete_bucket, "AccessDenied", 403, Bucket=bucket)

    wo = node.create_key("writer", allow_create_bucket=False)
    node.allow(info["id"], wo, read=False, write=True, owner=False)
    c = wo.boto3_client()
    c.put_object(Bucket=bucket, Key="w", Body=b"w")
    expect_error(c.get_object, "AccessDenied", 403, Bucket=bucket, Key="w")
    expect_error(c.delete_bucket, "AccessDenied", 403, Bucket=bucket)


# -- missing resources -----------------------------------------------------------


def test_missing_bucket_and_key(s3, bucket):
    expect_error(s3.get_object, "NoSuchBucket", 404, Bucket="no-such-bucket-here", Key="k")
    expect_error(s3.put_object, "NoSuchBucket", 404, Bucket="no-such-bucket-here", Key="k",
                 Body=b"x")
    expect_error(s3.list_objects_v2, "NoSuchBucket", 404, Bucket="no-such-bucket-here")
    e = expect_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="missing/key")
    assert e.response["Error"].get("Key") in (None, "missing/key")


# -- malformed requests ----------------------------------------------------------


def test_delete_objects_malformed_xml(cred, bucket):
    for body in [b"<Delete><Object><Key>a</Key></Object>",  # truncated
                 b"not xml at all",
                 b"<Delete><Object><Key>a</Key></Object></Delete>trailing<",
                 b""]:
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = cred.request("POST", f"/{bucket}?delete=", body=body,
                         headers={"Content-MD5": md5, "Content-Type": "application/xml",
                                  "Content-Length": str(len(body))})
        assert (r.status_code, xml_code(r.content)) == (400, "MalformedXML"), (body, r.text)


def test_content_md5_mismatch(s3, bucket):
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="md5", Body=b"payload",
                 ContentMD5=wrong)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="md5")
    # Larger than the inline threshold and than a block: the check is at the end.
    data = random.Random(1).randbytes((1 << 20) + 12345)
    expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="md5big", Body=data,
                 ContentMD5=wrong)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="md5big")
    # A correct one is accepted.
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5big", Body=data, ContentMD5=good)


def test_content_md5_invalid(cred, bucket):
    r = cred.request("PUT", f"/{bucket}/bad-md5", body=b"abc",
                     headers={"Content-MD5": "not-base64!!"})
    assert (r.status_code, xml_code(r.content)) == (400, "InvalidDigest"), r.text


def test_payload_sha256_mismatch(cred, s3, bucket):
    url = f"{cred.node.s3_endpoint}/{bucket}/sha"
    body = b"the real body"
    h = cred.signed_headers("PUT", url, {"Content-Length": str(len(body))},
                            hashlib.sha256(b"another body").hexdigest())
    r = requests.put(url, data=body, headers=h, timeout=10)
    assert (r.status_code, xml_code(r.content)) == (400, "XAmzContentSHA256Mismatch"), r.text
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="sha")


def test_unsatisfiable_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ten", Body=b"0123456789")
    e = expect_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="ten",
                     Range="bytes=100-200")
    assert e.response["ResponseMetadata"]["HTTPHeaders"].get("content-range") == "bytes */10"


# -- clients that vanish ---------------------------------------------------------


def _partial_put(cred, bucket: str, key: str, total: int, sent: int, rst: bool) -> None:
    """Sends a signed PUT head announcing `total` bytes, then `sent` bytes, then closes."""
    path = f"/{bucket}/{urllib.parse.quote(key)}"
    url = cred.node.s3_endpoint + path
    h = cred.signed_headers("PUT", url, {"Content-Length": str(total)})
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    data = random.Random(key).randbytes(sent)
    s = socket.create_connection(("127.0.0.1", cred.node.s3_port), timeout=10)
    try:
        s.sendall(head.encode())
        for i in range(0, sent, 64 << 10):
            s.sendall(data[i:i + (64 << 10)])
        time.sleep(0.3)  # let the server consume (and store) what was sent
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def _count_data_files(n: harness.garage_node) -> int:
    return len(n.data_files())


def test_client_disconnect_mid_put_reclaims_blocks(garage_binary):
    with harness.node(config_overrides=NODE_CONFIG) as n:
        cred = n.key_and_bucket("disconnect")
        s3 = cred.boto3_client()
        s3.put_object(Bucket="disconnect", Key="kept", Body=b"old content")
        time.sleep(0.5)
        baseline = _count_data_files(n)

        peak = baseline
        for i, rst in enumerate([False, True]):
            _partial_put(cred, "disconnect", f"half-{i}", 5 << 20, (5 << 20) // 2, rst)
            peak = max(peak, _count_data_files(n))
        _partial_put(cred, "disconnect", "kept", 5 << 20, 3 << 20, False)
        peak = max(peak, _count_data_files(n))

        n.assert_alive()
        for i in range(2):
            expect_error(s3.head_object, "404", 404, Bucket="disconnect", Key=f"half-{i}")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="disconnect").get("Contents", [])]
        assert keys == ["kept"], keys
        assert s3.get_object(Bucket="disconnect", Key="kept")["Body"].read() == b"old content"

        # The PUT handler releases the blocks of a failed upload; the upload
        # sweep (upload_timeout_secs) catches any it missed; block GC then
        # deletes them after block_gc_delay_secs, on its next maintenance pass
        # (the node runs one a minute): allow two passes.
        deadline = time.monotonic() + 150
        count = _count_data_files(n)
        while count > baseline and time.monotonic() < deadline:
            time.sleep(0.5)
            count = _count_data_files(n)
        assert count <= baseline, (
            f"blocks of abandoned uploads not reclaimed after 150 s: {count} files in data_dir, "
            f"{baseline} before the uploads (peak seen {peak})")
        # The node still works after all this.
        s3.put_object(Bucket="disconnect", Key="after", Body=b"fine")
        assert s3.get_object(Bucket="disconnect", Key="after")["Body"].read() == b"fine"
        n.assert_alive()


def test_client_disconnect_mid_get(node, cred, s3, bucket):
    data = random.Random(3).randbytes(8 << 20)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    path = f"/{bucket}/big"
    url = node.s3_endpoint + path
    for _ in range(3):
        h = cred.signed_headers("GET", url, {}, hashlib.sha256(b"").hexdigest())
        s = socket.create_connection(("127.0.0.1", node.s3_port), timeout=10)
        s.sendall((f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
                   + "\r\n").encode())
        got = s.recv(256 << 10)
        assert got.startswith(b"HTTP/1.1 200"), got[:200]
        s.close()
    node.assert_alive()
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == data


# -- configuration ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["top", "s3_api"])
def test_unknown_config_key_refused(garage_binary, tmp_path, where):
    n = harness.garage_node(tmp_path / "n", start=False)
    cfg = n.config()
    if where == "top":
        cfg["bogus_setting_xyz"] = 1
    else:
        cfg["s3_api"]["bogus_setting_xyz"] = "1"
    n.config_path.write_text(harness.garage_node.render_yaml(cfg))
    try:
        p = subprocess.run([str(garage_binary), "server", "-c", str(n.config_path)],
                           capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("garage kept running with an unknown config key")
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode != 0, f"garage accepted an unknown key: {out}"
    assert "bogus_setting_xyz" in out, f"error does not name the key: {out}"


def test_missing_config_file_refused(garage_binary, tmp_path):
    p = subprocess.run([str(garage_binary), "server", "-c", str(tmp_path / "nope.yaml")],
                       capture_output=True, timeout=30)
    assert p.returncode != 0
    assert "nope.yaml" in (p.stdout + p.stderr).decode(errors="replace")


def test_invalid_config_value_refused(garage_binary, tmp_path):
    n = harness.garage_node(tmp_path / "n", start=False)
    cfg = n.config()
    cfg["compression_level"] = 99
    n.config_path.write_text(harness.garage_node.render_yaml(cfg))
    p = subprocess.run([str(garage_binary), "server", "-c", str(n.config_path)],
                       capture_output=True, timeout=30)
    assert p.returncode != 0
    assert "compression_level" in (p.stdout + p.stderr).decode(errors="replace")


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
