"""Bucket configuration with real clients: CORS (awscli, curl preflights, CORS
headers on S3 responses), website configuration (s3cmd ws-*, awscli), lifecycle
(awscli, and the worker expiring objects, aborting an upload and the blocks
coming back) and quotas (CLI and admin API, refused PUTs).

Run: /usr/bin/python3 -m pytest tests/integration/test_bucket_config.py
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import harness
from harness import run

# Lifecycle every 2 s, its clock two days ahead (so that "Days: 1" applies
# now); blocks collected a second after they lose their last reference.
NODE_CONFIG = {
    "block_gc_delay_secs": 1,
    "lifecycle_interval_secs": 2,
    "lifecycle_clock_offset_secs": 2 * 86400,
}


def tool(name: str, preferred=()) -> str:
    p = harness.find_tool(name, preferred)
    if p is None:
        pytest.skip(f"{name} is not installed (hack/deps.sh installs it)")
    return p


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def base_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "TMPDIR", "TZ")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(HOME=str(home), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    return env


@pytest.fixture
def aws(node, cred, home):
    """Runs `aws <args>` for `cred`; check=False returns the failed process."""
    binary = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))

    def a(*args, check=True):
        return run([binary, *cred.aws_args(), *args], env=env, timeout=120, node=node,
                   check=check)
    return a


def curl(*args: str) -> tuple[int, dict, str]:
    """Runs curl -i; returns (status, lower-case headers, body)."""
    p = subprocess.run([tool("curl"), "-s", "-i", *args], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def error_code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


# -- CORS ------------------------------------------------------------------------

CORS = {
    "CORSRules": [
        {
            "ID": "app",
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["x-amz-*", "content-type"],
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
    ]
}


def test_cors_awscli_and_preflights(node, cred, bucket, aws, tmp_path, s3):
    out = aws("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert out.returncode != 0 and b"NoSuchCORSConfiguration" in out.stderr, out.stderr

    (tmp_path / "cors.json").write_text(json.dumps(CORS))
    aws("s3api", "put-bucket-cors", "--bucket", bucket,
        "--cors-configuration", f"file://{tmp_path / 'cors.json'}")
    got = json.loads(aws("s3api", "get-bucket-cors", "--bucket", bucket).stdout)
    assert got["CORSRules"][0]["AllowedOrigins"] == ["https://*.example.com"]
    assert sorted(got["CORSRules"][0]["AllowedMethods"]) == ["GET", "PUT"]
    assert got["CORSRules"][0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"]
    assert got["CORSRules"][0]["MaxAgeSeconds"] == 600
    assert got["CORSRules"][0]["ID"] == "app"
    assert got["CORSRules"][1]["AllowedMethods"] == ["HEAD"]

    url = f"{node.s3_endpoint}/{bucket}/some/key.txt"
    # An allowed preflight (no authentication).
    status, h, _ = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.com",
                        "-H", "Access-Control-Request-Method: PUT",
                        "-H", "Access-Control-Request-Headers: x-amz-date, Content-Type", url)
    assert status == 200
    assert h["access-control-allow-origin"] == "https://app.example.com"
    assert "PUT" in h["access-control-allow-methods"]
    assert h["access-control-allow-headers"] == "x-amz-date, content-type"
    assert h["access-control-max-age"] == "600"
    assert "Origin" in h["vary"]
    # On the bucket path too.
    status, h, _ = curl("-X", "OPTIONS", "-H", "Origin: https://x.org",
                        "-H", "Access-Control-Request-Method: HEAD", f"{node.s3_endpoint}/{bucket}")
    assert status == 200 and h["access-control-allow-origin"] == "*"

    # Refused: unknown origin, method not allowed, header not allowed.
    for origin, method, hdrs in [("https://evil.com", "PUT", None),
                                 ("https://app.example.com", "DELETE", None),
                                 ("https://app.example.com", "PUT", "authorization")]:
        args = ["-X", "OPTIONS", "-H", f"Origin: {origin}",
                "-H", f"Access-Control-Request-Method: {method}"]
        if hdrs:
            args += ["-H", f"Access-Control-Request-Headers: {hdrs}"]
        status, h, body = curl(*args, url)
        assert status == 403, (origin, method, body)
        assert "CORSResponse" in body and "AccessForbidden" in body, body
        assert "access-control-allow-origin" not in h

    # CORS headers on real S3 responses to a request with an Origin.
    s3.put_object(Bucket=bucket, Key="some/key.txt", Body=b"hello cors")
    r = cred.request("GET", f"/{bucket}/some/key.txt",
                     headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200 and r.content == b"hello cors"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert "Origin" in r.headers["Vary"]
    # An error response carries them too (the browser must be able to read it).
    r = cred.request("GET", f"/{bucket}/missing", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 404
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    # No matching rule (origin, or method): no CORS headers.
    r = cred.request("GET", f"/{bucket}/some/key.txt", headers={"Origin": "https://evil.com"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    r = cred.request("GET", f"/{bucket}/some/key.txt")
    assert "Access-Control-Allow-Origin" not in r.headers

    aws("s3api", "delete-bucket-cors", "--bucket", bucket)
    out = aws("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert out.returncode != 0 and b"NoSuchCORSConfiguration" in out.stderr
    status, _, body = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.com",
                           "-H", "Access-Control-Request-Method: PUT", url)
    assert status == 403 and "CORSResponse" in body


def test_cors_validation(bucket, s3):
    def put(rules):
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})

    with pytest.raises(ClientError) as e:
        put([{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}])
    assert error_code(e.value) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        put([{"AllowedOrigins": ["https://*.*.com"], "AllowedMethods": ["GET"]}])
    assert error_code(e.value) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        put([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101)
    assert error_code(e.value) == "MalformedXML"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(e.value) == "NoSuchCORSConfiguration"


def test_cors_preflight_errors(node, bucket):
    url = f"{node.s3_endpoint}/{bucket}/k"
    status, _, body = curl("-X", "OPTIONS", "-H", "Access-Control-Request-Method: GET", url)
    assert status == 400 and "InvalidRequest" in body
    status, _, body = curl("-X", "OPTIONS", "-H", "Origin: https://a.com",
                           "-H", "Access-Control-Request-Method: GET",
                           f"{node.s3_endpoint}/no-such-bucket-{uuid.uuid4().hex[:6]}/k")
    assert status == 404 and "NoSuchBucket" in body


# -- website ---------------------------------------------------------------------


def test_website_s3cmd(node, cred, bucket, tmp_path, home):
    s3cmd = tool("s3cmd")
    cfg = cred.s3cmd_config(tmp_path / "s3cfg")

    def s(*args, check=True):
        return run([s3cmd, "-c", str(cfg), *args], env=base_env(home), timeout=120, node=node,
                   check=check)

    assert node.bucket_info(bucket)["websiteAccess"] is False
    s("ws-create", "--ws-index=index.html", "--ws-error=errors/404.html", f"s3://{bucket}")
    info = s("ws-info", f"s3://{bucket}").stdout.decode()
    assert "index.html" in info and "errors/404.html" in info, info
    b = node.bucket_info(bucket)
    assert b["websiteAccess"] is True
    assert b["websiteConfig"] == {"indexDocument": "index.html", "errorDocument": "errors/404.html"}

    s("ws-delete", f"s3://{bucket}")
    out = s("ws-info", f"s3://{bucket}", check=False)
    text = (out.stdout + out.stderr).decode()
    assert "index.html" not in text, text
    assert node.bucket_info(bucket)["websiteAccess"] is False


def test_website_awscli_routing_rules_and_errors(node, bucket, aws, tmp_path, s3):
    conf = {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"},
             "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "302"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "example.com", "Protocol": "https"}},
        ],
    }
    (tmp_path / "web.json").write_text(json.dumps(conf))
    aws("s3api", "put-bucket-website", "--bucket", bucket,
        "--website-configuration", f"file://{tmp_path / 'web.json'}")
    got = json.loads(aws("s3api", "get-bucket-website", "--bucket", bucket).stdout)
    got.pop("ResponseMetadata", None)
    assert got == conf

    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "RedirectAllRequestsTo": {"HostName": "example.org"}})
    assert error_code(e.value) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "a/b.html"}})
    assert error_code(e.value) == "InvalidArgument"
    # A refused document leaves the previous one in place.
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"]["Suffix"] == "index.html"

    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.org", "Protocol": "https"}})
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["RedirectAllRequestsTo"] == {"HostName": "example.org", "Protocol": "https"}

    aws("s3api", "delete-bucket-website", "--bucket", bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket=bucket)
    assert error_code(e.value) == "NoSuchWebsiteConfiguration"


def test_website_access_admin_api(node, bucket, s3):
    bid = node.bucket_info(bucket)["id"]
    b = node.admin("POST", "/v2/UpdateBucket", params={"id": bid}, json={
        "websiteAccess": {"enabled": True, "indexDocument": "home.html",
                          "errorDocument": "oops.html"}})
    assert b["websiteAccess"] is True
    assert b["websiteConfig"] == {"indexDocument": "home.html", "errorDocument": "oops.html"}
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["IndexDocument"]["Suffix"] == "home.html"
    assert got["ErrorDocument"]["Key"] == "oops.html"
    b = node.admin("POST", "/v2/UpdateBucket", params={"id": bid},
                   json={"websiteAccess": {"enabled": False}})
    assert b["websiteAccess"] is False and b["websiteConfig"] is None
    node.admin("POST", "/v2/UpdateBucket", params={"id": bid},
               json={"websiteAccess": {"enabled": True}}, expect=400)


# -- lifecycle -------------------------------------------------------------------


def test_lifecycle_awscli(bucket, aws, tmp_path, s3):
    out = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, check=False)
    assert out.returncode != 0 and b"NoSuchLifecycleConfiguration" in out.stderr, out.stderr
    conf = {"Rules": [
        {"ID": "logs", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 10,
                            "ObjectSizeLessThan": 1000000}},
         "Expiration": {"Days": 30}},
        {"ID": "uploads", "Status": "Disabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "dated", "Status": "Enabled", "Filter": {"Prefix": "old/"},
         "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
    ]}
    (tmp_path / "lc.json").write_text(json.dumps(conf))
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", f"file://{tmp_path / 'lc.json'}")
    got = json.loads(aws("s3api", "get-bucket-lifecycle-configuration",
                         "--bucket", bucket).stdout)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "uploads", "dated"]
    assert got[0]["Filter"]["And"] == {"Prefix": "logs/", "ObjectSizeGreaterThan": 10,
                                       "ObjectSizeLessThan": 1000000}
    assert got[0]["Expiration"] == {"Days": 30}
    assert got[1]["Status"] == "Disabled"
    assert got[1]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert got[2]["Expiration"]["Date"].startswith("2030-01-01T00:00:00")

    # What is not supported is refused, and leaves the configuration as it was.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "t", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]})
    assert error_code(e.value) == "NotImplemented"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "z", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Expiration": {"Days": 0}}]})
    assert error_code(e.value) == "InvalidArgument"
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 3

    aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    out = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, check=False)
    assert out.returncode != 0 and b"NoSuchLifecycleConfiguration" in out.stderr


def wait_for(what: str, cond, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_lifecycle_worker_expires_aborts_and_reclaims(node, bucket, s3, aws, tmp_path):
    """The worker (every 2 s here, its clock 2 days ahead) expires tmp/* after
    Days: 1, aborts the upload under tmp/, keeps the rest; the blocks of what
    it removed are deleted from disk by the block GC."""
    def blocks() -> set[Path]:
        return set(node.data_files())

    before = blocks()
    s3.put_object(Bucket=bucket, Key="keep/data.bin", Body=os.urandom(300_000))
    s3.put_object(Bucket=bucket, Key="tmp/small.txt", Body=b"inline")
    kept = blocks() - before
    assert kept, "a 300 kB object should be stored in blocks"
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"tmp/big-{i}.bin", Body=os.urandom(200_000))
    up = s3.create_multipart_upload(Bucket=bucket, Key="tmp/upload.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="tmp/upload.bin", UploadId=up, PartNumber=1,
                   Body=os.urandom(150_000))
    kept_up = s3.create_multipart_upload(Bucket=bucket, Key="keep/upload.bin")["UploadId"]
    doomed = blocks() - before - kept
    assert len(doomed) >= 4, doomed

    (tmp_path / "lc.json").write_text(json.dumps({"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "Expiration": {"Days": 1},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}))
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", f"file://{tmp_path / 'lc.json'}")

    def keys():
        return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))

    def uploads():
        return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    wait_for("tmp/ objects to expire", lambda: keys() == ["keep/data.bin"])
    wait_for("the tmp/ upload to be aborted", lambda: uploads() == [kept_up])
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="tmp/upload.bin", UploadId=up)
    assert error_code(e.value) == "NoSuchUpload"
    info = node.bucket_info(bucket)
    assert info["objects"] == 1 and info["bytes"] == 300_000

    # Blocks: those of the expired objects and the aborted part are deleted,
    # those of the kept object stay.
    wait_for("expired blocks to be deleted", lambda: not (doomed & blocks()))
    assert kept <= blocks()
    assert s3.get_object(Bucket=bucket, Key="keep/data.bin")["ContentLength"] == 300_000

    # A new object under tmp/ is expired in a later period too.
    s3.put_object(Bucket=bucket, Key="tmp/later.txt", Body=b"x")
    wait_for("tmp/later.txt to expire", lambda: keys() == ["keep/data.bin"])
    s3.abort_multipart_upload(Bucket=bucket, Key="keep/upload.bin", UploadId=kept_up)


# -- quotas ----------------------------------------------------------------------


def garage_cli(node, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(node.binary), "--admin-addr", f"127.0.0.1:{node.admin_port}",
                           "--admin-token", node.admin_token, *args],
                          capture_output=True, text=True, timeout=60)


def test_quota_max_objects_via_cli(node, bucket, s3):
    p = garage_cli(node, "bucket", "set-quotas", bucket, "--max-objects", "2")
    assert p.returncode == 0, p.stderr
    p = garage_cli(node, "bucket", "info", bucket)
    assert "2 objects" in p.stdout, p.stdout
    assert node.bucket_info(bucket)["quotas"] == {"maxSize": None, "maxObjects": 2}

    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"3")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error_code(e.value) == "AccessDenied"
    assert "Object quota is reached" in e.value.response["Error"]["Message"]
    s3.put_object(Bucket=bucket, Key="a", Body=b"overwrite is fine")
    # A multipart upload may start, but not complete into a third object.
    up = s3.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="c", UploadId=up, PartNumber=1, Body=b"x")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert error_code(e.value) == "AccessDenied"
    s3.abort_multipart_upload(Bucket=bucket, Key="c", UploadId=up)

    s3.delete_object(Bucket=bucket, Key="b")
    s3.put_object(Bucket=bucket, Key="c", Body=b"3")
    p = garage_cli(node, "bucket", "set-quotas", bucket, "--max-objects", "none")
    assert p.returncode == 0, p.stderr
    s3.put_object(Bucket=bucket, Key="d", Body=b"4")


def test_quota_max_size_via_admin_api(node, bucket, s3, cred):
    bid = node.bucket_info(bucket)["id"]
    b = node.admin("POST", "/v2/UpdateBucket", params={"id": bid},
                   json={"quotas": {"maxSize": 100_000, "maxObjects": None}})
    assert b["quotas"] == {"maxSize": 100_000, "maxObjects": None}

    s3.put_object(Bucket=bucket, Key="one", Body=os.urandom(60_000))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="two", Body=os.urandom(60_000))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error_code(e.value) == "AccessDenied"
    assert "Bucket size quota is reached" in e.value.response["Error"]["Message"]
    s3.put_object(Bucket=bucket, Key="two", Body=os.urandom(40_000))
    assert node.bucket_info(bucket)["bytes"] == 100_000
    # The bucket is full: no more parts either.
    up = s3.create_multipart_upload(Bucket=bucket, Key="three")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="three", UploadId=up, PartNumber=1, Body=b"x")
    assert error_code(e.value) == "AccessDenied"
    s3.abort_multipart_upload(Bucket=bucket, Key="three", UploadId=up)

    node.admin("POST", "/v2/UpdateBucket", params={"id": bid},
               json={"quotas": {"maxSize": "big"}}, expect=400)
    node.admin("POST", "/v2/UpdateBucket", params={"id": bid},
               json={"quotas": {"maxSize": None, "maxObjects": None}})
    s3.put_object(Bucket=bucket, Key="three", Body=os.urandom(10_000))
