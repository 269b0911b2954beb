"""Multipart uploads: awscli switching to multipart by itself, rclone with a
small upload cutoff, and boto3 for the protocol's rules and error cases
(InvalidPart, InvalidPartOrder, EntityTooSmall, NoSuchUpload), part re-upload,
abort releasing blocks."""

from __future__ import annotations

import filecmp
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


def err(e: ClientError) -> tuple[str, int]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def multipart_etag(parts: list[bytes]) -> str:
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(md5s).hexdigest()}-{len(parts)}"'


def test_awscli_cp_switches_to_multipart(node, cred, bucket, tmp_path, home):  # noqa: F811
    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(21 * MIB))  # > 8 MiB: awscli uploads 3 parts
    run([aws, *cred.aws_args(), "s3", "cp", str(src), f"s3://{bucket}/big.bin"], env=env,
        timeout=300, node=node)
    head = run([aws, *cred.aws_args(), "s3api", "head-object", "--bucket", bucket, "--key",
                "big.bin"], env=env, node=node).stdout.decode()
    assert "-3" in head, head  # a multipart ETag
    down = tmp_path / "down.bin"
    run([aws, *cred.aws_args(), "s3", "cp", f"s3://{bucket}/big.bin", str(down)], env=env,
        timeout=300, node=node)
    assert filecmp.cmp(src, down, shallow=False)


def test_rclone_forced_multipart_and_check(node, cred, bucket, tmp_path, home):  # noqa: F811
    rclone = tool("rclone", ["/usr/bin/rclone"])
    env = cred.rclone_env("garage", base_env(home))
    src = tmp_path / "src"
    harness.make_tree(src, {"a.bin": 12 * MIB + 5, "b/c.bin": 6 * MIB, "d.txt": 10}, seed=7)
    remote = f"garage:{bucket}/tree"
    flags = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
    run([rclone, "copy", *flags, str(src), remote], env=env, timeout=300, node=node)
    run([rclone, "check", str(src), remote], env=env, timeout=300, node=node)
    back = tmp_path / "back"
    run([rclone, "copy", remote, str(back)], env=env, timeout=300, node=node)
    assert harness.tree_digest(src) == harness.tree_digest(back)


def test_protocol_rules(s3, bucket):
    key = "mp/object"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="text/x-test",
                                    Metadata={"origin": "mp"})["UploadId"]
    p1 = os.urandom(5 * MIB)
    p2 = os.urandom(5 * MIB + 17)
    p3 = os.urandom(1234)
    e1 = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=p1)["ETag"]
    # Part 2 first uploaded with other bytes, then again: the latest attempt counts.
    s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=2, Body=os.urandom(5 * MIB))
    e2 = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=2, Body=p2)["ETag"]
    e3 = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=3, Body=p3)["ETag"]
    assert e1 == f'"{hashlib.md5(p1).hexdigest()}"'

    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, len(p1)), (2, len(p2)), (3, len(p3))]
    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=up, MaxParts=2)
    assert page["IsTruncated"] and page["NextPartNumberMarker"] == 2
    rest = s3.list_parts(Bucket=bucket, Key=key, UploadId=up, PartNumberMarker=2)["Parts"]
    assert [p["PartNumber"] for p in rest] == [3]

    # Not visible before completion.
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert err(ei.value)[1] == 404

    def complete(parts):
        return s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]})

    for parts, code in [
        ([(2, e2), (1, e1)], "InvalidPartOrder"),
        ([(1, e1), (2, e1)], "InvalidPart"),           # wrong ETag for part 2
        ([(1, e1), (4, e3)], "InvalidPart"),           # never uploaded
        ([(3, e3), (4, e3)], "InvalidPart"),
    ]:
        with pytest.raises(ClientError) as ei:
            complete(parts)
        assert err(ei.value)[0] == code, (parts, err(ei.value))
    r = complete([(1, e1), (2, e2), (3, e3)])
    assert r["ETag"] == multipart_etag([p1, p2, p3])
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == p1 + p2 + p3
    assert got["ETag"] == multipart_etag([p1, p2, p3])
    assert got["ContentType"] == "text/x-test"
    assert got["Metadata"] == {"origin": "mp"}
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="mp/")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [(key, len(p1) + len(p2) + len(p3))]


def test_entity_too_small_and_abort(node, s3, bucket):
    key = "mp/small"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    a = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=b"x" * 1000)["ETag"]
    b = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=2, Body=b"y" * 1000)["ETag"]
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": a}, {"PartNumber": 2, "ETag": b}]})
    assert err(ei.value) == ("EntityTooSmall", 400)
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)
    for call in (
        lambda: s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=3, Body=b"z"),
        lambda: s3.list_parts(Bucket=bucket, Key=key, UploadId=up),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up),
        lambda: s3.upload_part(Bucket=bucket, Key=key, UploadId="0" * 32, PartNumber=1, Body=b"z"),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert err(ei.value) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert err(ei.value)[1] == 404


def test_single_part_upload_and_overwrite(s3, bucket):
    key = "mp/one"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    body = os.urandom(3 * MIB + 3)
    e = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=body)["ETag"]
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert r["ETag"] == multipart_etag([body])
    assert s3.get_object(Bucket=bucket, Key=key, Range="bytes=1048570-1048580")["Body"].read() \
        == body[1048570:1048581]
    # Completing twice: the upload is gone.
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert err(ei.value) == ("NoSuchUpload", 404)
    s3.put_object(Bucket=bucket, Key=key, Body=b"plain")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"plain"


def test_list_multipart_uploads_pages_and_forgets_finished_ones(s3, bucket):
    ups = []
    for key in ["lm/a", "lm/a", "lm/b", "other/c"]:
        ups.append((key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]))
        time.sleep(0.01)  # distinct initiation times keep the expected order obvious

    def listed(**kw):
        r = s3.list_multipart_uploads(Bucket=bucket, **kw)
        return [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])], r

    got, r = listed()
    assert got == ups and not r["IsTruncated"]
    got, _ = listed(Prefix="lm/")
    assert got == ups[:3]
    # Paging two at a time with the markers the server returns.
    seen, kw = [], {}
    while True:
        page, r = listed(MaxUploads=2, **kw)
        seen += page
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
    assert seen == ups
    got, _ = listed(KeyMarker="lm/a")
    assert got == ups[2:]
    # Aborted and completed uploads are no longer listed.
    s3.abort_multipart_upload(Bucket=bucket, Key=ups[0][0], UploadId=ups[0][1])
    e = s3.upload_part(Bucket=bucket, Key="lm/b", UploadId=ups[2][1], PartNumber=1, Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="lm/b", UploadId=ups[2][1],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    got, _ = listed()
    assert got == [ups[1], ups[3]]


# ------------------------------------------------- UploadPartCopy, partNumber, delimiter


def test_awscli_upload_part_copy_and_get_part_number(node, cred, bucket, tmp_path,
                                                     home):  # noqa: F811
    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))
    s3 = cred.boto3_client()
    src = os.urandom(12 * MIB + 321)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    key = "assembled"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    # Part 1: a block-aligned range (shares blocks); part 2: unaligned edges (re-cut).
    ranges = [(0, 5 * MIB - 1), (5 * MIB + 7, 11 * MIB + 99)]
    etags = []
    for n, (a, b) in enumerate(ranges, start=1):
        out = run([aws, *cred.aws_args(), "s3api", "upload-part-copy", "--bucket", bucket,
                   "--key", key, "--upload-id", up, "--part-number", str(n), "--copy-source",
                   f"{bucket}/src", "--copy-source-range", f"bytes={a}-{b}"], env=env,
                  node=node).stdout
        etag = json.loads(out)["CopyPartResult"]["ETag"]
        assert etag == f'"{hashlib.md5(src[a:b + 1]).hexdigest()}"'
        etags.append(etag)
    # Part 3: the whole of a small object.
    s3.put_object(Bucket=bucket, Key="tail", Body=b"the tail")
    etags.append(s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=up, PartNumber=3,
                                     CopySource={"Bucket": bucket, "Key": "tail"})
                 ["CopyPartResult"]["ETag"])
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=up)["Parts"]
    assert [p["Size"] for p in listed] == [5 * MIB, 6 * MIB + 93, 8]
    parts = [src[a:b + 1] for a, b in ranges] + [b"the tail"]
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    assert r["ETag"] == multipart_etag(parts)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(parts)

    # GET / HEAD ?partNumber=N: that part, 206, its Content-Range, the parts count.
    out_file = tmp_path / "part2"
    meta = json.loads(run([aws, *cred.aws_args(), "s3api", "get-object", "--bucket", bucket,
                           "--key", key, "--part-number", "2", str(out_file)], env=env,
                          node=node).stdout)
    assert out_file.read_bytes() == parts[1]
    assert meta["PartsCount"] == 3
    assert meta["ContentRange"] == f"bytes {5 * MIB}-{11 * MIB + 92}/{sum(map(len, parts))}"
    h = s3.head_object(Bucket=bucket, Key=key, PartNumber=3)
    assert h["ContentLength"] == 8 and h["PartsCount"] == 3
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 206
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, PartNumber=4)
    assert err(ei.value) == ("InvalidPartNumber", 416)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key, PartNumber=1, Range="bytes=0-1")
    assert err(ei.value) == ("InvalidRequest", 400)
    # A single-part object is its own part 1, and has no part 2.
    one = s3.get_object(Bucket=bucket, Key="src", PartNumber=1)
    assert one["ContentLength"] == len(src) and "PartsCount" not in one
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="src", PartNumber=2)
    assert err(ei.value)[1] == 416


def test_upload_part_copy_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=os.urandom(2 * MIB))
    key = "mp/copy-errors"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    base = {"Bucket": bucket, "Key": key, "UploadId": up}
    for rng in ["bytes=0-", "0-10", "bytes=10-5", f"bytes=0-{2 * MIB}"]:
        with pytest.raises(ClientError) as ei:
            s3.upload_part_copy(**base, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
                                CopySourceRange=rng)
        assert err(ei.value) == ("InvalidArgument", 400), rng
    with pytest.raises(ClientError) as ei:
        s3.upload_part_copy(**base, PartNumber=1, CopySource={"Bucket": bucket, "Key": "nope"})
    assert err(ei.value) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as ei:
        s3.upload_part_copy(Bucket=bucket, Key=key, UploadId="0" * 32, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "src"})
    assert err(ei.value) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as ei:
        s3.upload_part_copy(**base, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
                            CopySourceIfMatch='"not-it"')
    assert err(ei.value) == ("PreconditionFailed", 412)
    # A copied part under 5 MiB that is not the last: EntityTooSmall at completion.
    e1 = s3.upload_part_copy(**base, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange="bytes=0-999")["CopyPartResult"]["ETag"]
    e2 = s3.upload_part(**base, PartNumber=2, Body=b"last")["ETag"]
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(**base, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert err(ei.value) == ("EntityTooSmall", 400)
    s3.abort_multipart_upload(**base)


def test_awscli_list_multipart_uploads_with_delimiter(node, cred, bucket, home):  # noqa: F811
    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))
    s3 = cred.boto3_client()
    ids = {}
    for key in ["d/a/1", "d/a/2", "d/b", "d/c/x/y", "d/c/z", "e/f"]:
        ids[key] = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]

    def aws_list(*extra):
        out = run([aws, *cred.aws_args(), "s3api", "list-multipart-uploads", "--bucket", bucket,
                   "--no-paginate", *extra], env=env, node=node).stdout
        return json.loads(out) if out.strip() else {}

    r = aws_list("--prefix", "d/", "--delimiter", "/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/a/", "d/c/"]
    assert [u["Key"] for u in r["Uploads"]] == ["d/b"]
    assert r["Delimiter"] == "/"
    r = aws_list("--delimiter", "/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/", "e/"]
    assert "Uploads" not in r
    # Pages of two: prefixes and uploads together count, markers resume.
    seen, kw = [], {}
    while True:
        page = s3.list_multipart_uploads(Bucket=bucket, Prefix="d/", Delimiter="/",
                                         MaxUploads=2, **kw)
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        seen += [u["Key"] for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"]}
        if "NextUploadIdMarker" in page:
            kw["UploadIdMarker"] = page["NextUploadIdMarker"]
    assert sorted(seen) == ["d/a/", "d/b", "d/c/"]
    for key, uid in ids.items():
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
