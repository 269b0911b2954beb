"""CopyObject (awscli s3api copy-object, boto3 for directives, conditions and
errors), block sharing of copies and their reclaiming (block files counted in
data_dir), and SSE-C with boto3: put/get/head with the right, a wrong or no
key, copies between plain and SSE-C objects and between keys, multipart
uploads and UploadPartCopy under SSE-C."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import time

import pytest
from botocore.exceptions import ClientError

import harness
from harness import run
from test_clients import base_env, home, tool  # noqa: F401  (fixtures and helpers)

MIB = 1 << 20
NODE_CONFIG = {"block_gc_delay_secs": 1}

KEY_A = b"A" * 32
KEY_B = bytes(range(32))


def err(e: ClientError) -> tuple[str, int]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def expect(code, status, call, *args, **kw):
    with pytest.raises(ClientError) as ei:
        call(*args, **kw)
    assert err(ei.value) == (code, status), err(ei.value)


def sse(key: bytes) -> dict:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_sse(key: bytes) -> dict:
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


# ------------------------------------------------------------------ CopyObject


def test_awscli_copy_object_within_and_across_buckets(node, cred, bucket, tmp_path,
                                                      home):  # noqa: F811
    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))
    other = f"{bucket}-dst"
    node.allow(node.create_bucket(other), cred)
    s3 = cred.boto3_client()
    body = os.urandom(3 * MIB + 11)  # block-backed
    s3.put_object(Bucket=bucket, Key="src", Body=body, ContentType="text/x-src",
                  Metadata={"who": "source"})
    small = b"tiny inline object"
    s3.put_object(Bucket=bucket, Key="small", Body=small, Metadata={"who": "small"})

    for src, dst_bucket, dst_key, data in [("src", bucket, "copy", body),
                                           ("src", other, "dir/copy", body),
                                           ("small", other, "small-copy", small)]:
        out = run([aws, *cred.aws_args(), "s3api", "copy-object", "--bucket", dst_bucket, "--key",
                   dst_key, "--copy-source", f"{bucket}/{src}"], env=env, node=node).stdout
        result = json.loads(out)["CopyObjectResult"]
        assert result["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        got = s3.get_object(Bucket=dst_bucket, Key=dst_key)
        assert got["Body"].read() == data
        assert got["Metadata"]["who"] == ("source" if src == "src" else "small")
    assert s3.head_object(Bucket=other, Key="dir/copy")["ContentType"] == "text/x-src"

    # REPLACE takes the request's metadata; COPY (the default) the source's.
    run([aws, *cred.aws_args(), "s3api", "copy-object", "--bucket", bucket, "--key", "replaced",
         "--copy-source", f"{bucket}/src", "--metadata-directive", "REPLACE", "--content-type",
         "text/x-new", "--metadata", "who=replaced"], env=env, node=node)
    h = s3.head_object(Bucket=bucket, Key="replaced")
    assert h["ContentType"] == "text/x-new" and h["Metadata"] == {"who": "replaced"}
    assert s3.get_object(Bucket=bucket, Key="replaced")["Body"].read() == body
    s3.copy_object(Bucket=bucket, Key="copied-meta", CopySource={"Bucket": bucket, "Key": "src"},
                   Metadata={"ignored": "yes"})
    assert s3.head_object(Bucket=bucket, Key="copied-meta")["Metadata"] == {"who": "source"}


def test_copy_object_errors_and_conditions(node, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", Metadata={"a": "1"})
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    src = {"Bucket": bucket, "Key": "src"}
    expect("NoSuchKey", 404, s3.copy_object, Bucket=bucket, Key="dst",
           CopySource={"Bucket": bucket, "Key": "missing"})
    expect("NoSuchBucket", 404, s3.copy_object, Bucket=bucket, Key="dst",
           CopySource={"Bucket": "no-such-bucket-here", "Key": "src"})
    # Onto itself without a change: refused; with REPLACE: new metadata.
    expect("InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="src", CopySource=src)
    s3.copy_object(Bucket=bucket, Key="src", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"a": "2"})
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"a": "2"}
    expect("InvalidArgument", 400, s3.copy_object, Bucket=bucket, Key="dst", CopySource=src,
           MetadataDirective="MERGE")

    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    for kw in [{"CopySourceIfMatch": '"0123"'}, {"CopySourceIfNoneMatch": etag},
               {"CopySourceIfModifiedSince": future}, {"CopySourceIfUnmodifiedSince": past}]:
        expect("PreconditionFailed", 412, s3.copy_object, Bucket=bucket, Key="dst",
               CopySource=src, **kw)
    for kw in [{"CopySourceIfMatch": etag}, {"CopySourceIfNoneMatch": '"0123"'},
               {"CopySourceIfModifiedSince": past}, {"CopySourceIfUnmodifiedSince": future},
               {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": past}]:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **kw)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"data"


def test_copy_needs_read_on_source_and_write_on_destination(node, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"secret")
    other = f"{bucket}-w"
    other_id = node.create_bucket(other)
    writer = node.create_key(f"writer-{bucket}")
    node.allow(other_id, writer, read=False, write=True, owner=False)
    w = writer.boto3_client()
    expect("AccessDenied", 403, w.copy_object, Bucket=other, Key="x",
           CopySource={"Bucket": bucket, "Key": "src"})
    # Read on the source but no write on the destination.
    reader = node.create_key(f"reader-{bucket}")
    node.allow(node.bucket_info(bucket)["id"], reader, read=True, write=False, owner=False)
    expect("AccessDenied", 403, reader.boto3_client().copy_object, Bucket=bucket, Key="y",
           CopySource={"Bucket": bucket, "Key": "src"})


def test_copy_shares_blocks_and_both_deleted_reclaims_them(garage_binary):
    with harness.node(config_overrides=NODE_CONFIG) as n:
        cred = n.key_and_bucket("blocks")
        s3 = cred.boto3_client()
        empty = len(n.data_files())
        body = os.urandom(4 * MIB + 100)  # five 1 MiB blocks
        s3.put_object(Bucket="blocks", Key="original", Body=body)
        with_original = len(n.data_files())
        assert with_original - empty == 5, (empty, with_original)
        s3.copy_object(Bucket="blocks", Key="copy", CopySource={"Bucket": "blocks",
                                                                 "Key": "original"})
        assert len(n.data_files()) == with_original  # new references, no new bytes
        s3.delete_object(Bucket="blocks", Key="original")
        time.sleep(3)  # past block_gc_delay_secs and a maintenance pass
        assert len(n.data_files()) == with_original  # still referenced by the copy
        assert s3.get_object(Bucket="blocks", Key="copy")["Body"].read() == body
        s3.delete_object(Bucket="blocks", Key="copy")
        deadline = time.monotonic() + 60
        while len(n.data_files()) > empty and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(n.data_files()) == empty, "blocks of deleted copies were not reclaimed"


# ------------------------------------------------------------------ SSE-C


@pytest.mark.parametrize("size", [100, 2 * MIB + 5])  # inline, and block-backed
def test_sse_c_put_get_head(node, s3, bucket, size):
    body = os.urandom(size)
    r = s3.put_object(Bucket=bucket, Key="enc", Body=body, **sse(KEY_A))
    assert r["SSECustomerAlgorithm"] == "AES256"
    assert r["SSECustomerKeyMD5"]
    got = s3.get_object(Bucket=bucket, Key="enc", **sse(KEY_A))
    assert got["Body"].read() == body
    assert got["SSECustomerAlgorithm"] == "AES256"
    assert got["ETag"] == r["ETag"]
    h = s3.head_object(Bucket=bucket, Key="enc", **sse(KEY_A))
    assert h["ContentLength"] == size and h["SSECustomerKeyMD5"] == r["SSECustomerKeyMD5"]
    part = s3.get_object(Bucket=bucket, Key="enc", Range="bytes=50-60", **sse(KEY_A))
    assert part["Body"].read() == body[50:61]
    # No key: 400 InvalidRequest; a wrong key: 403 AccessDenied (HEAD: no body, status only).
    expect("InvalidRequest", 400, s3.get_object, Bucket=bucket, Key="enc")
    expect("AccessDenied", 403, s3.get_object, Bucket=bucket, Key="enc", **sse(KEY_B))
    expect("400", 400, s3.head_object, Bucket=bucket, Key="enc")
    expect("403", 403, s3.head_object, Bucket=bucket, Key="enc", **sse(KEY_B))
    # A key for a plain object is refused too.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    expect("InvalidRequest", 400, s3.get_object, Bucket=bucket, Key="plain", **sse(KEY_A))


def test_sse_c_bad_headers(node, cred, bucket):
    import base64
    good_key = base64.b64encode(KEY_A).decode()
    good_md5 = base64.b64encode(hashlib.md5(KEY_A).digest()).decode()
    prefix = "x-amz-server-side-encryption-customer-"
    cases = [
        ({"algorithm": "AES128", "key": good_key, "key-MD5": good_md5},
         "InvalidEncryptionAlgorithmError"),
        ({"algorithm": "AES256", "key": good_key,
          "key-MD5": base64.b64encode(hashlib.md5(b"x").digest()).decode()}, "InvalidArgument"),
        ({"algorithm": "AES256", "key": base64.b64encode(b"short").decode(),
          "key-MD5": base64.b64encode(hashlib.md5(b"short").digest()).decode()},
         "InvalidArgument"),
        ({"algorithm": "AES256", "key": good_key}, "InvalidArgument"),
    ]
    for hs, code in cases:
        r = cred.request("PUT", f"/{bucket}/bad", body=b"data",
                         headers={prefix + k: v for k, v in hs.items()})
        assert r.status_code == 400, (hs, r.status_code, r.text)
        assert f"<Code>{code}</Code>" in r.text, (hs, r.text)


def test_sse_c_blocks_are_ciphertext_and_not_deduplicated(garage_binary):
    with harness.node(config_overrides=NODE_CONFIG) as n:
        cred = n.key_and_bucket("ssec")
        s3 = cred.boto3_client()
        body = os.urandom(2 * MIB)  # two blocks
        s3.put_object(Bucket="ssec", Key="plain", Body=body)
        before = len(n.data_files())
        s3.put_object(Bucket="ssec", Key="enc", Body=body, **sse(KEY_A))
        files = n.data_files()
        assert len(files) == before + 2  # sealed blocks never match the plain ones
        probe = body[1000:1064]
        with_plain = [p for p in files if probe in p.read_bytes()]
        assert len(with_plain) == 1  # only the plain object's block holds the bytes
        assert s3.get_object(Bucket="ssec", Key="enc", **sse(KEY_A))["Body"].read() == body


def test_sse_c_copies(node, s3, bucket):
    body = os.urandom(MIB + MIB // 2)
    s3.put_object(Bucket=bucket, Key="enc", Body=body, **sse(KEY_A))
    s3.put_object(Bucket=bucket, Key="plain", Body=body)
    src_enc = {"Bucket": bucket, "Key": "enc"}
    # The source key is required, and must be the right one.
    expect("InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="x", CopySource=src_enc)
    expect("AccessDenied", 403, s3.copy_object, Bucket=bucket, Key="x", CopySource=src_enc,
           **copy_sse(KEY_B))
    # SSE-C → plain.
    s3.copy_object(Bucket=bucket, Key="to-plain", CopySource=src_enc, **copy_sse(KEY_A))
    got = s3.get_object(Bucket=bucket, Key="to-plain")
    assert got["Body"].read() == body and got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    # plain → SSE-C.
    r = s3.copy_object(Bucket=bucket, Key="to-enc", CopySource={"Bucket": bucket, "Key": "plain"},
                       **sse(KEY_B))
    assert r["SSECustomerAlgorithm"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="to-enc", **sse(KEY_B))["Body"].read() == body
    expect("InvalidRequest", 400, s3.get_object, Bucket=bucket, Key="to-enc")
    # SSE-C → another key, and onto itself with a new key (a change, so allowed).
    s3.copy_object(Bucket=bucket, Key="rekeyed", CopySource=src_enc, **copy_sse(KEY_A),
                   **sse(KEY_B))
    assert s3.get_object(Bucket=bucket, Key="rekeyed", **sse(KEY_B))["Body"].read() == body
    expect("AccessDenied", 403, s3.get_object, Bucket=bucket, Key="rekeyed", **sse(KEY_A))
    s3.copy_object(Bucket=bucket, Key="enc", CopySource=src_enc, **copy_sse(KEY_A), **sse(KEY_B))
    assert s3.get_object(Bucket=bucket, Key="enc", **sse(KEY_B))["Body"].read() == body
    # Same key on both sides: shared blocks, still readable with that key.
    s3.copy_object(Bucket=bucket, Key="same", CopySource=src_enc, **copy_sse(KEY_B),
                   **sse(KEY_B))
    assert s3.get_object(Bucket=bucket, Key="same", **sse(KEY_B))["Body"].read() == body


def test_sse_c_multipart_and_upload_part_copy(node, s3, bucket):
    key = "mp-enc"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **sse(KEY_A))
    assert up["SSECustomerAlgorithm"] == "AES256"
    uid = up["UploadId"]
    p1 = os.urandom(5 * MIB)
    # Every part carries the upload's key.
    expect("InvalidRequest", 400, s3.upload_part, Bucket=bucket, Key=key, UploadId=uid,
           PartNumber=1, Body=p1)
    expect("AccessDenied", 403, s3.upload_part, Bucket=bucket, Key=key, UploadId=uid,
           PartNumber=1, Body=p1, **sse(KEY_B))
    e1 = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=p1,
                        **sse(KEY_A))["ETag"]
    # Part 2 copied from an object encrypted under another key.
    src = os.urandom(3 * MIB)
    s3.put_object(Bucket=bucket, Key="src-b", Body=src, **sse(KEY_B))
    e2 = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src-b"},
                             CopySourceRange="bytes=100-2097251", **copy_sse(KEY_B),
                             **sse(KEY_A))["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    want = p1 + src[100:2097252]
    got = s3.get_object(Bucket=bucket, Key=key, **sse(KEY_A))
    assert got["Body"].read() == want
    expect("InvalidRequest", 400, s3.get_object, Bucket=bucket, Key=key)
    expect("AccessDenied", 403, s3.get_object, Bucket=bucket, Key=key, **sse(KEY_B))
    part2 = s3.get_object(Bucket=bucket, Key=key, PartNumber=2, **sse(KEY_A))
    assert part2["Body"].read() == src[100:2097252] and part2["PartsCount"] == 2
