"""Additional checksums (x-amz-checksum-*, headers and aws-chunked trailers),
conditional writes (If-None-Match / If-Match on PUT and
CompleteMultipartUpload), object tagging and GetObjectAttributes, driven with
boto3, awscli and hand-signed requests where the installed clients are too old
to send what is tested (boto3 1.26 has no IfNoneMatch and no trailers over
plain HTTP)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import threading
import zlib

import pytest
from botocore.exceptions import ClientError

from harness import REGION, run
from test_clients import base_env, home, tool  # noqa: F401  (fixtures and helpers)

MIB = 1 << 20


def err(e: ClientError) -> tuple[str, int]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def _crc_reflected(poly: int, width: int, data: bytes) -> int:
    mask = (1 << width) - 1
    reg = mask
    for b in data:
        reg ^= b
        for _ in range(8):
            reg = (reg >> 1) ^ poly if reg & 1 else reg >> 1
    return reg ^ mask


def checksum_b64(alg: str, data: bytes) -> str:
    """The S3 wire value of a checksum, computed independently of the node."""
    if alg == "CRC32":
        raw = zlib.crc32(data).to_bytes(4, "big")
    elif alg == "CRC32C":
        raw = _crc_reflected(0x82F63B78, 32, data).to_bytes(4, "big")
    elif alg == "CRC64NVME":
        raw = _crc_reflected(0x9A6C9329AC4BC9B5, 64, data).to_bytes(8, "big")
    elif alg == "SHA1":
        raw = hashlib.sha1(data).digest()
    else:
        raw = hashlib.sha256(data).digest()
    return base64.b64encode(raw).decode()


def error_code(resp) -> str:
    text = resp.text
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else ""


# -- checksums on PutObject ------------------------------------------------

@pytest.mark.parametrize("alg", ["CRC32", "SHA1", "SHA256"])
def test_put_with_checksum_algorithm_returned_with_checksum_mode(s3, bucket, alg):
    # boto3 computes the checksum and sends it as a header (plain HTTP).
    for key, body in (("small", b"hello checksums"), ("large", os.urandom(2 * MIB + 7))):
        put = s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm=alg)
        assert put[f"Checksum{alg}"] == checksum_b64(alg, body)
        got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert got["Body"].read() == body
        assert got[f"Checksum{alg}"] == checksum_b64(alg, body)
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head[f"Checksum{alg}"] == checksum_b64(alg, body)
        # Without the mode, no checksum.
        plain = s3.head_object(Bucket=bucket, Key=key)
        assert f"Checksum{alg}" not in plain


@pytest.mark.parametrize("alg", ["CRC32C", "CRC64NVME"])
def test_put_crc32c_crc64nvme_header(cred, bucket, alg):
    # boto3 1.26 needs awscrt for these: the header is sent by hand.
    body = b"123456789" * 1000
    name = f"x-amz-checksum-{alg.lower()}"
    r = cred.request("PUT", f"/{bucket}/k", body, headers={name: checksum_b64(alg, body)})
    assert r.status_code == 200, r.text
    assert r.headers[name] == checksum_b64(alg, body)
    g = cred.request("GET", f"/{bucket}/k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.content == body
    assert g.headers[name] == checksum_b64(alg, body)
    assert g.headers["x-amz-checksum-type"] == "FULL_OBJECT"


def test_wrong_checksum_is_bad_digest(cred, s3, bucket):
    body = b"the real data"
    for alg in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
        name = f"x-amz-checksum-{alg.lower()}"
        r = cred.request("PUT", f"/{bucket}/bad", body,
                         headers={name: checksum_b64(alg, b"other data")})
        assert r.status_code == 400, r.text
        assert error_code(r) == "BadDigest", r.text
    # Malformed values are InvalidRequest, as AWS.
    r = cred.request("PUT", f"/{bucket}/bad", body, headers={"x-amz-checksum-crc32": "AAAA"})
    assert (r.status_code, error_code(r)) == (400, "InvalidRequest"), r.text
    r = cred.request("PUT", f"/{bucket}/bad", body, headers={
        "x-amz-checksum-crc32": checksum_b64("CRC32", body),
        "x-amz-checksum-sha1": checksum_b64("SHA1", body)})
    assert (r.status_code, error_code(r)) == (400, "InvalidRequest"), r.text
    # A large body (block-backed) too, and nothing was stored.
    big = os.urandom(3 * MIB)
    r = cred.request("PUT", f"/{bucket}/bad", big,
                     headers={"x-amz-checksum-sha256": checksum_b64("SHA256", big[:-1])})
    assert (r.status_code, error_code(r)) == (400, "BadDigest"), r.text
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert err(e.value)[1] == 404


# -- trailing checksums ----------------------------------------------------

def _chunked(data: bytes, chunk: int = 64 * 1024) -> list[bytes]:
    return [data[i:i + chunk] for i in range(0, len(data), chunk)]


def _trailer_put(cred, bucket: str, key: str, data: bytes, alg: str, value: str,
                 signed: bool, break_trailer_signature: bool = False):
    """A PUT with an aws-chunked body whose checksum comes in the trailer,
    signed per chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) or not
    (STREAMING-UNSIGNED-PAYLOAD-TRAILER), built as the SDKs build it."""
    import requests

    trailer_name = f"x-amz-checksum-{alg.lower()}"
    mode = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" if signed
            else "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    url = f"{cred.node.s3_endpoint}/{bucket}/{key}"
    chunks = _chunked(data)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-trailer": trailer_name,
               "x-amz-decoded-content-length": str(len(data))}
    if not signed:
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
        body += b"0\r\n" + f"{trailer_name}:{value}\r\n\r\n".encode()
        headers["Content-Length"] = str(len(body))
        h = cred.signed_headers("PUT", url, headers, mode)
        return requests.put(url, data=body, headers=h, timeout=60)

    # Signed: the body length depends only on sizes, so sign the head first
    # with a placeholder-free Content-Length, then chain the chunk signatures.
    sig_len = 64
    framing = sum(len(b"%x;chunk-signature=" % len(c)) + sig_len + 4 + len(c) for c in chunks)
    framing += len(b"0;chunk-signature=") + sig_len + 2
    trailer_line = f"{trailer_name}:{value}\r\n".encode()
    framing += len(trailer_line) + len(b"x-amz-trailer-signature:") + sig_len + 4
    headers["Content-Length"] = str(framing)
    h = cred.signed_headers("PUT", url, headers, mode)
    auth = h["Authorization"]
    seed = auth.split("Signature=")[1].strip()
    amz_date = h["X-Amz-Date"]
    date = amz_date[:8]
    scope = f"{date}/{REGION}/s3/aws4_request"

    def hm(k: bytes, m: str) -> bytes:
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    key_ = hm(hm(hm(hm(("AWS4" + cred.secret_access_key).encode(), date), REGION), "s3"),
              "aws4_request")
    empty = hashlib.sha256(b"").hexdigest()
    prev = seed
    out = b""
    for c in chunks + [b""]:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty,
                         hashlib.sha256(c).hexdigest()])
        prev = hmac.new(key_, sts.encode(), hashlib.sha256).hexdigest()
        out += b"%x;chunk-signature=%s\r\n" % (len(c), prev.encode())
        out += (c + b"\r\n") if c else b""
    canonical = f"{trailer_name}:{value}\n"
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    tsig = hmac.new(key_, sts.encode(), hashlib.sha256).hexdigest()
    if break_trailer_signature:
        tsig = ("1" if tsig[0] == "0" else "0") + tsig[1:]
    out += trailer_line + f"x-amz-trailer-signature:{tsig}\r\n\r\n".encode()
    assert len(out) == framing
    return requests.put(url, data=out, headers=h, timeout=60)


@pytest.mark.parametrize("signed", [False, True])
def test_trailing_checksum_hand_built(cred, s3, bucket, signed):
    data = os.urandom(200 * 1024 + 3)
    for alg in ("CRC32", "CRC64NVME", "SHA256"):
        r = _trailer_put(cred, bucket, "t", data, alg, checksum_b64(alg, data), signed)
        assert r.status_code == 200, r.text
        got = s3.get_object(Bucket=bucket, Key="t")
        assert got["Body"].read() == data
        g = cred.request("HEAD", f"/{bucket}/t", headers={"x-amz-checksum-mode": "ENABLED"})
        assert g.headers[f"x-amz-checksum-{alg.lower()}"] == checksum_b64(alg, data)
    bad = _trailer_put(cred, bucket, "t2", data, "CRC32", checksum_b64("CRC32", b"x"), signed)
    assert (bad.status_code, error_code(bad)) == (400, "BadDigest"), bad.text
    if signed:
        forged = _trailer_put(cred, bucket, "t2", data, "CRC32", checksum_b64("CRC32", data),
                              True, break_trailer_signature=True)
        assert (forged.status_code, error_code(forged)) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="t2")


CURRENT_BOTO = "/root/.pyenv/versions/3.11.7/bin/python3"

_CURRENT_SCRIPT = r"""
import sys, boto3, botocore
from botocore.config import Config
endpoint, ak, sk, bucket = sys.argv[1:5]
seen = {}
def grab(request, **kw):
    seen["sha"] = request.headers.get("x-amz-content-sha256")
    seen["trailer"] = request.headers.get("x-amz-trailer")
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
                  region_name="garage", config=Config(s3={"addressing_style": "path"},
                  retries={"total_max_attempts": 1}))
s3.meta.events.register("before-send.s3.PutObject", grab)
body = b"current sdk body " * 5000
s3.put_object(Bucket=bucket, Key="current", Body=body)
if isinstance(seen.get("sha"), bytes): seen["sha"] = seen["sha"].decode()
if isinstance(seen.get("trailer"), bytes): seen["trailer"] = seen["trailer"].decode()
got = s3.get_object(Bucket=bucket, Key="current", ChecksumMode="ENABLED")
assert got["Body"].read() == body
print(botocore.__version__, seen.get("sha"), seen.get("trailer"), got.get("ChecksumCRC32"))
"""


def test_current_botocore_default_checksums(cred, bucket):
    """A current botocore (>= 1.36) sends a CRC32 by default, in a trailer
    when it streams: what AWS SDKs do now. Skipped when none is installed."""
    if not os.access(CURRENT_BOTO, os.X_OK):
        pytest.skip("no current botocore installed")
    probe = subprocess.run([CURRENT_BOTO, "-c", "import boto3, botocore; "
                            "print(tuple(map(int, botocore.__version__.split('.')[:2])) "
                            ">= (1, 36))"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != "True":
        pytest.skip("the other python has no botocore >= 1.36")
    r = subprocess.run([CURRENT_BOTO, "-c", _CURRENT_SCRIPT, cred.node.s3_endpoint,
                        cred.access_key_id, cred.secret_access_key, bucket],
                       capture_output=True, text=True, timeout=120,
                       env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert r.returncode == 0, r.stderr
    version, sha, trailer, crc = r.stdout.split()
    body = b"current sdk body " * 5000
    assert crc == checksum_b64("CRC32", body), r.stdout
    print("botocore", version, "sent", sha, trailer)


# -- multipart ---------------------------------------------------------------

@pytest.mark.parametrize("alg", ["SHA256", "CRC32"])
def test_multipart_composite_checksum(s3, bucket, alg):
    parts = [os.urandom(5 * MIB), b"last part"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm=alg)
    uid = up["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=i, Body=p,
                           ChecksumAlgorithm=alg)
        assert r[f"Checksum{alg}"] == checksum_b64(alg, p)
        done.append({"PartNumber": i, "ETag": r["ETag"], f"Checksum{alg}": r[f"Checksum{alg}"]})
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert [p[f"Checksum{alg}"] for p in listed["Parts"]] == [checksum_b64(alg, p) for p in parts]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    raw = b"".join(base64.b64decode(checksum_b64(alg, p)) for p in parts)
    expected = checksum_b64(alg, raw) + "-2"
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head[f"Checksum{alg}"] == expected
    attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=[
        "ETag", "Checksum", "ObjectParts", "ObjectSize", "StorageClass"])
    assert attrs["ObjectSize"] == sum(map(len, parts))
    assert attrs["StorageClass"] == "STANDARD"
    assert attrs["ETag"].endswith("-2")
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2
    assert [p["Size"] for p in attrs["ObjectParts"]["Parts"]] == [len(p) for p in parts]
    assert [p[f"Checksum{alg}"] for p in attrs["ObjectParts"]["Parts"]] == \
        [checksum_b64(alg, p) for p in parts]


def test_multipart_full_object_crc_and_wrong_part_checksum(cred, s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(1000)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32")
    uid = up["UploadId"]
    # A part whose checksum does not match its data: BadDigest, nothing stored.
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=1, Body=parts[0],
                       ChecksumCRC32=checksum_b64("CRC32", b"nope"))
    assert err(e.value) == ("BadDigest", 400)
    # A part with another algorithm than the upload's.
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=1, Body=parts[0],
                       ChecksumAlgorithm="SHA1")
    assert err(e.value) == ("InvalidRequest", 400)
    etags = [s3.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=i, Body=p,
                            ChecksumAlgorithm="CRC32")["ETag"] for i, p in enumerate(parts, 1)]
    # The completion naming a wrong part checksum: InvalidPart.
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": etags[0], "ChecksumCRC32": "AAAAAA=="},
                      {"PartNumber": 2, "ETag": etags[1]}]})
    assert err(e.value) == ("InvalidPart", 400)
    s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i, "ETag": t} for i, t in enumerate(etags, 1)]})
    head = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"].endswith("-2")

    # FULL_OBJECT (not a boto3 1.26 parameter: sent by hand): the CRC of the
    # whole object, combined from the parts' CRCs.
    r = cred.request("POST", f"/{bucket}/whole?uploads", headers={
        "x-amz-checksum-algorithm": "CRC64NVME"})
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    uid = r.text.split("<UploadId>")[1].split("</UploadId>")[0]
    etags = []
    for i, p in enumerate(parts, 1):
        pr = cred.request("PUT", f"/{bucket}/whole?partNumber={i}&uploadId={uid}", p, headers={
            "x-amz-checksum-crc64nvme": checksum_b64("CRC64NVME", p)})
        assert pr.status_code == 200, pr.text
        etags.append(pr.headers["ETag"])
    whole = b"".join(parts)
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i}</PartNumber><ETag>{t}</ETag></Part>"
        for i, t in enumerate(etags, 1)) + "</CompleteMultipartUpload>"
    bad = cred.request("POST", f"/{bucket}/whole?uploadId={uid}", xml.encode(), headers={
        "x-amz-checksum-crc64nvme": checksum_b64("CRC64NVME", b"not it")})
    assert (bad.status_code, error_code(bad)) == (400, "BadDigest"), bad.text
    c = cred.request("POST", f"/{bucket}/whole?uploadId={uid}", xml.encode(), headers={
        "x-amz-checksum-crc64nvme": checksum_b64("CRC64NVME", whole)})
    assert c.status_code == 200, c.text
    g = cred.request("HEAD", f"/{bucket}/whole", headers={"x-amz-checksum-mode": "ENABLED"})
    assert g.headers["x-amz-checksum-crc64nvme"] == checksum_b64("CRC64NVME", whole)


# -- conditional writes ------------------------------------------------------

def _with_headers(s3, event: str, extra: dict):
    def add(request, **kw):
        for k, v in extra.items():
            request.headers[k] = v
    s3.meta.events.register(event, add)
    return add


def test_conditional_put_boto3(cred, bucket):
    s3 = cred.boto3_client()
    # boto3 1.26 has no IfNoneMatch / IfMatch parameters: add the headers
    # before signing.
    hook = _with_headers(s3, "before-sign.s3.PutObject", {"If-None-Match": "*"})
    s3.put_object(Bucket=bucket, Key="once", Body=b"first")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second")
    assert err(e.value) == ("PreconditionFailed", 412)
    # Also for a block-backed body.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=os.urandom(2 * MIB))
    assert err(e.value) == ("PreconditionFailed", 412)
    s3.meta.events.unregister("before-sign.s3.PutObject", hook)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"

    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    hook = _with_headers(s3, "before-sign.s3.PutObject", {"If-Match": '"0123"'})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"third")
    assert err(e.value) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="missing", Body=b"x")
    assert err(e.value) == ("NoSuchKey", 404)
    s3.meta.events.unregister("before-sign.s3.PutObject", hook)
    hook = _with_headers(s3, "before-sign.s3.PutObject", {"If-Match": etag})
    s3.put_object(Bucket=bucket, Key="once", Body=b"fourth")
    s3.meta.events.unregister("before-sign.s3.PutObject", hook)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"fourth"


def test_conditional_complete_multipart(cred, s3, bucket):
    s3.put_object(Bucket=bucket, Key="exists", Body=b"x")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="exists")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="exists", UploadId=uid, PartNumber=1,
                          Body=b"part")["ETag"]
    xml = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag>"
           "</Part></CompleteMultipartUpload>").encode()
    r = cred.request("POST", f"/{bucket}/exists?uploadId={uid}", xml,
                     headers={"If-None-Match": "*"})
    assert (r.status_code, error_code(r)) == (412, "PreconditionFailed"), r.text
    # The upload is still there and completes without the condition.
    r = cred.request("POST", f"/{bucket}/exists?uploadId={uid}", xml)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"part"


def test_concurrent_conditional_creates_one_wins(cred, bucket):
    statuses = []
    lock = threading.Lock()

    def put(i):
        r = cred.request("PUT", f"/{bucket}/race", f"writer {i}".encode(),
                         headers={"If-None-Match": "*"})
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [412] * 7, statuses


# -- tagging -----------------------------------------------------------------

def test_tagging_boto3(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"a": "1", "b": "two words"}
    head = s3.head_object(Bucket=bucket, Key="t")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    got = s3.get_object(Bucket=bucket, Key="t")
    assert got["TagCount"] == 2

    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [
        {"Key": "project", "Value": "garage"}]})
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert tags == [{"Key": "project", "Value": "garage"}]
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == b"x"  # data untouched

    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert "x-amz-tagging-count" not in s3.head_object(
        Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"]

    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    for bad in (too_many, [{"Key": "k" * 129, "Value": "v"}],
                [{"Key": "k", "Value": "v" * 257}],
                [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]):
        with pytest.raises(ClientError) as e:
            s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": bad})
        assert err(e.value) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="t2", Body=b"x",
                      Tagging="&".join(f"k{i}=v" for i in range(11)))
    assert err(e.value) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert err(e.value) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging={"TagSet": []})
    assert err(e.value) == ("NoSuchKey", 404)


def test_tagging_on_multipart_and_attributes(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mpt", Tagging="x=y")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mpt", UploadId=uid, PartNumber=1,
                          Body=b"data")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mpt", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="mpt")["TagSet"] == [
        {"Key": "x", "Value": "y"}]
    s3.put_object(Bucket=bucket, Key="plain", Body=b"hello", ChecksumAlgorithm="SHA1")
    attrs = s3.get_object_attributes(Bucket=bucket, Key="plain",
                                     ObjectAttributes=["ETag", "Checksum", "ObjectSize"])
    assert attrs["ObjectSize"] == 5
    assert attrs["ETag"] == hashlib.md5(b"hello").hexdigest()
    assert attrs["Checksum"]["ChecksumSHA1"] == checksum_b64("SHA1", b"hello")
    assert "ObjectParts" not in attrs


def test_awscli_object_tagging(node, cred, bucket, home):  # noqa: F811
    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))
    s3 = cred.boto3_client()
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x")
    run([aws, *cred.aws_args(), "s3api", "put-object-tagging", "--bucket", bucket, "--key",
         "cli", "--tagging", "TagSet=[{Key=team,Value=storage},{Key=tier,Value=gold}]"],
        env=env, node=node)
    out = run([aws, *cred.aws_args(), "s3api", "get-object-tagging", "--bucket", bucket,
               "--key", "cli"], env=env, node=node).stdout.decode()
    assert '"team"' in out and '"storage"' in out and '"gold"' in out, out
    run([aws, *cred.aws_args(), "s3api", "delete-object-tagging", "--bucket", bucket, "--key",
         "cli"], env=env, node=node)
    assert s3.get_object_tagging(Bucket=bucket, Key="cli")["TagSet"] == []
    # awscli 2.9's put-object with --tagging and --checksum-algorithm.
    src = home / "f.txt"
    src.write_bytes(b"from awscli")
    run([aws, *cred.aws_args(), "s3api", "put-object", "--bucket", bucket, "--key", "cli2",
         "--body", str(src), "--tagging", "k=v", "--checksum-algorithm", "SHA256"],
        env=env, node=node)
    head = s3.head_object(Bucket=bucket, Key="cli2", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == checksum_b64("SHA256", b"from awscli")
    assert s3.get_object_tagging(Bucket=bucket, Key="cli2")["TagSet"] == [
        {"Key": "k", "Value": "v"}]
    assert shutil.which(aws)
