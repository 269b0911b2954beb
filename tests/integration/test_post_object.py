"""PostObject: browser form uploads with a signed policy (SigV4 form), built
by boto3's generate_presigned_post and sent as a real multipart/form-data POST
with python requests."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import urllib.parse

import pytest
import requests
from botocore.exceptions import ClientError


def post(s3, presigned: dict, data: bytes, filename: str = "hello.txt",
         extra_fields: dict | None = None):
    fields = dict(presigned["fields"])
    fields.update(extra_fields or {})
    files = {"file": (filename, data, "text/plain")}
    return requests.post(presigned["url"], data=fields, files=files, allow_redirects=False,
                         timeout=60)


def test_default_upload_is_204_and_readable(s3, bucket):
    p = s3.generate_presigned_post(bucket, "form/plain.txt", ExpiresIn=300)
    r = post(s3, p, b"hello from a form")
    assert r.status_code == 204, r.text
    etag = r.headers["ETag"]
    assert etag == '"' + hashlib.md5(b"hello from a form").hexdigest() + '"'
    got = s3.get_object(Bucket=bucket, Key="form/plain.txt")
    assert got["Body"].read() == b"hello from a form"
    assert got["ContentType"] == "text/plain"  # the file part's type


def test_status_201_xml_and_filename_substitution(s3, bucket):
    p = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"success_action_status": "201", "Content-Type": "image/png",
                "x-amz-meta-owner": "alice"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$Content-Type", "image/"],
                    {"x-amz-meta-owner": "alice"}],
        ExpiresIn=300)
    r = post(s3, p, b"\x89PNG fake", filename="cat.png")
    assert r.status_code == 201, r.text
    assert "<Key>uploads/cat.png</Key>" in r.text
    assert f"<Bucket>{bucket}</Bucket>" in r.text
    head = s3.head_object(Bucket=bucket, Key="uploads/cat.png")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == {"owner": "alice"}


def test_status_200_and_redirect(s3, bucket):
    p = s3.generate_presigned_post(bucket, "r200", Fields={"success_action_status": "200"},
                                   Conditions=[{"success_action_status": "200"}], ExpiresIn=300)
    r = post(s3, p, b"x")
    assert r.status_code == 200 and r.content == b""
    target = "https://app.example.com/done?from=form"
    p = s3.generate_presigned_post(bucket, "redirected",
                                   Fields={"success_action_redirect": target},
                                   Conditions=[{"success_action_redirect": target}],
                                   ExpiresIn=300)
    r = post(s3, p, b"redirect me")
    assert r.status_code == 303, r.text
    loc = urllib.parse.urlparse(r.headers["Location"])
    q = urllib.parse.parse_qs(loc.query)
    assert loc.netloc == "app.example.com" and q["from"] == ["form"]
    assert q["bucket"] == [bucket] and q["key"] == ["redirected"]
    assert q["etag"] == ['"' + hashlib.md5(b"redirect me").hexdigest() + '"']


def test_large_file_streams_into_blocks(s3, bucket):
    data = os.urandom(3 * 1024 * 1024 + 17)
    p = s3.generate_presigned_post(bucket, "big.bin",
                                   Conditions=[["content-length-range", 0, 10 * 1024 * 1024]],
                                   ExpiresIn=300)
    r = post(s3, p, data, filename="big.bin")
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data


def _code(r) -> str:
    import re
    m = re.search(r"<Code>([^<]*)</Code>", r.text)
    return m.group(1) if m else ""


def test_expired_policy_is_403(s3, bucket, cred):
    # A policy that expired a minute ago, signed by hand as boto3 would.
    now = datetime.datetime.now(datetime.timezone.utc)
    date = now.strftime("%Y%m%d")
    credential = f"{cred.access_key_id}/{date}/garage/s3/aws4_request"
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    policy = {
        "expiration": (now - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conditions": [{"bucket": bucket}, {"key": "expired"},
                       {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                       {"x-amz-credential": credential}, {"x-amz-date": amz_date}],
    }
    b64 = base64.b64encode(json.dumps(policy).encode()).decode()

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = h(h(h(h(("AWS4" + cred.secret_access_key).encode(), date), "garage"), "s3"),
          "aws4_request")
    sig = hmac.new(k, b64.encode(), hashlib.sha256).hexdigest()
    presigned = {"url": f"{cred.node.s3_endpoint}/{bucket}",
                 "fields": {"key": "expired", "x-amz-algorithm": "AWS4-HMAC-SHA256",
                            "x-amz-credential": credential, "x-amz-date": amz_date,
                            "policy": b64, "x-amz-signature": sig}}
    r = post(s3, presigned, b"too late")
    assert r.status_code == 403, r.text
    assert _code(r) == "AccessDenied" and "Policy expired" in r.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="expired")
    # The same form with a tampered signature is refused as such.
    presigned["fields"]["x-amz-signature"] = "0" * 64
    r = post(s3, presigned, b"x")
    assert r.status_code == 403 and _code(r) == "SignatureDoesNotMatch"


def test_key_condition_failing_is_403(s3, bucket):
    p = s3.generate_presigned_post(bucket, "uploads/${filename}", ExpiresIn=300)
    # The policy says key starts with "uploads/"; the form asks for another key.
    r = post(s3, p, b"sneaky", extra_fields={"key": "elsewhere/x.txt"})
    assert r.status_code == 403, r.text
    assert _code(r) == "AccessDenied"
    assert "Invalid according to Policy" in r.text
    # A field the policy does not mention is refused too.
    r = post(s3, p, b"x", extra_fields={"x-amz-meta-extra": "1"})
    assert r.status_code == 403 and "Extra input fields" in r.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="elsewhere/x.txt")


def test_content_length_range(s3, bucket, node):
    p = s3.generate_presigned_post(bucket, "sized",
                                   Conditions=[["content-length-range", 5, 1000]], ExpiresIn=300)
    r = post(s3, p, b"a" * 1001)
    assert r.status_code == 400 and _code(r) == "EntityTooLarge", r.text
    # Oversize past the inline threshold: aborted mid-stream, nothing kept.
    r = post(s3, p, os.urandom(2 * 1024 * 1024))
    assert r.status_code == 400 and _code(r) == "EntityTooLarge", r.text
    r = post(s3, p, b"abc")
    assert r.status_code == 400 and _code(r) == "EntityTooSmall", r.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="sized")
    assert post(s3, p, b"a" * 1000).status_code == 204


def test_malformed_and_unsigned_forms(s3, bucket, node):
    url = f"{node.s3_endpoint}/{bucket}"
    # No policy at all: anonymous uploads are refused.
    r = requests.post(url, data={"key": "anon"}, files={"file": ("a", b"x")}, timeout=30)
    assert r.status_code == 403 and _code(r) == "AccessDenied"
    # Broken multipart framing.
    r = requests.post(url, data=b"--zz\r\nno headers end",
                      headers={"Content-Type": "multipart/form-data; boundary=zz"}, timeout=30)
    assert r.status_code == 400 and _code(r) == "MalformedPOSTRequest"
    # No file part.
    p = s3.generate_presigned_post(bucket, "nofile", ExpiresIn=300)
    r = requests.post(p["url"], files={k: (None, v) for k, v in p["fields"].items()}, timeout=30)
    assert r.status_code == 400 and _code(r) == "InvalidArgument"
    # The node still serves S3 afterwards.
    s3.put_object(Bucket=bucket, Key="after", Body=b"ok")
