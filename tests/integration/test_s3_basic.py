"""S3 basics through boto3 against one real node: buckets, objects, ranges,
conditional requests, metadata, DeleteObjects, ListObjects v1/v2 paging and
encodings, and 501 for endpoints the node does not implement."""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import random
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError


S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def err(e: ClientError) -> tuple[str, int]:
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(fn, code: str, status: int, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    got = err(ei.value)
    assert got == (code, status), f"{fn.__name__}{kw}: expected {code} {status}, got {got}"
    return ei.value


def utc(ts: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


# -- buckets -------------------------------------------------------------------


def test_bucket_lifecycle(s3):
    name = f"life-{uuid.uuid4().hex[:10]}"
    r = s3.create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    loc = s3.get_bucket_location(Bucket=name)
    assert loc["LocationConstraint"] in (None, "", "garage")

    s3.put_object(Bucket=name, Key="x", Body=b"x")
    expect_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=name)
    s3.delete_object(Bucket=name, Key="x")
    r = s3.delete_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204

    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    expect_error(s3.list_objects_v2, "NoSuchBucket", 404, Bucket=name)
    expect_error(s3.delete_bucket, "NoSuchBucket", 404, Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_existing_bucket_is_owned(s3, bucket):
    # Garage answers BucketAlreadyOwnedByYou (409) or 200 for a bucket the key owns.
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:
        assert err(e) == ("BucketAlreadyOwnedByYou", 409), err(e)


def test_invalid_bucket_name(s3):
    expect_error(s3.create_bucket, "InvalidBucketName", 400, Bucket="Bad_Name")


# -- objects ---------------------------------------------------------------------

SIZES = [0, 1, 3072, 3073, 1 << 20, (1 << 20) + 1, 10 << 20]


@pytest.mark.parametrize("size", SIZES, ids=[str(s) for s in SIZES])
def test_put_get_head_delete(s3, bucket, size):
    data = random.Random(size).randbytes(size)
    key = f"obj-{size}"
    r = s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert r["ETag"] == md5_etag(data)

    h = s3.head_object(Bucket=bucket, Key=key)
    assert h["ContentLength"] == size
    assert h["ETag"] == md5_etag(data)
    assert "LastModified" in h

    g = s3.get_object(Bucket=bucket, Key=key)
    body = g["Body"].read()
    assert len(body) == size
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest(), "content differs"
    assert g["ETag"] == md5_etag(data)
    assert g["ContentLength"] == size

    # Overwrite with different content, then delete.
    data2 = data[::-1] + b"!"
    s3.put_object(Bucket=bucket, Key=key, Body=data2)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data2
    r = s3.delete_object(Bucket=bucket, Key=key)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key=key)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Deleting a missing key is not an error in S3.
    assert s3.delete_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_empty_put_then_put_on_same_connection(cred, bucket):
    """boto3 sends `Expect: 100-continue` on every PutObject. If the server
    answers an empty one with its final status and no `100 Continue`, botocore
    keeps that status line for the next request on the same connection and
    mis-parses its response (it then waits for its read timeout). AWS sends
    `100 Continue` here; so must we."""
    s3 = cred.boto3_client(read_timeout=10)
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    try:
        s3.put_object(Bucket=bucket, Key="next", Body=b"1234567")
        s3.put_object(Bucket=bucket, Key="empty2", Body=b"")
        s3.put_object(Bucket=bucket, Key="next2", Body=b"7654321")
    except Exception as e:  # ReadTimeoutError: the response was mis-parsed
        pytest.fail(f"PutObject after an empty PutObject on the same connection failed: {e!r}")
    assert s3.get_object(Bucket=bucket, Key="next")["Body"].read() == b"1234567"
    assert s3.get_object(Bucket=bucket, Key="empty2")["ContentLength"] == 0


def test_expect_continue_on_empty_body(cred, bucket):
    """The wire-level form of the test above."""
    import socket

    path = f"/{bucket}/e"
    url = cred.node.s3_endpoint + path
    h = cred.signed_headers("PUT", url, {"Content-Length": "0", "Expect": "100-continue"},
                            hashlib.sha256(b"").hexdigest())
    with socket.create_connection(("127.0.0.1", cred.node.s3_port), timeout=10) as s:
        s.sendall((f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
                   + "\r\n").encode())
        got = b""
        while b"\r\n\r\n" not in got:
            d = s.recv(4096)
            if not d:
                break
            got += d
    assert got.startswith(b"HTTP/1.1 100 Continue\r\n"), (
        f"no 100 Continue before the final answer to an empty PUT with Expect: {got[:200]!r}")


def test_metadata_and_content_type(s3, bucket):
    meta = {"color": "blue", "camelcase": "Value With Spaces", "n": "42"}
    s3.put_object(Bucket=bucket, Key="m", Body=b"hello", ContentType="text/x-test; charset=utf-8",
                  Metadata=meta, CacheControl="max-age=60", ContentDisposition="inline",
                  ContentEncoding="identity")
    for call in (s3.head_object, s3.get_object):
        r = call(Bucket=bucket, Key="m")
        assert r["ContentType"] == "text/x-test; charset=utf-8", call.__name__
        assert r["Metadata"] == meta, call.__name__
        assert r.get("CacheControl") == "max-age=60", call.__name__
        assert r.get("ContentDisposition") == "inline", call.__name__
    # Default content type when none is given.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="plain")["ContentType"] in (
        "binary/octet-stream", "application/octet-stream")


def test_response_content_type_override(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"data", ContentType="text/plain")
    r = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/x-override",
                      ResponseContentDisposition="attachment; filename=\"x.bin\"",
                      ResponseCacheControl="no-store")
    assert r["ContentType"] == "application/x-override"
    assert r["ContentDisposition"] == 'attachment; filename="x.bin"'
    assert r["CacheControl"] == "no-store"
    assert r["Body"].read() == b"data"
    # The stored type is unchanged.
    assert s3.head_object(Bucket=bucket, Key="o")["ContentType"] == "text/plain"


# -- ranges ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [5000, (1 << 20) + 4096], ids=["inline-ish", "multi-block"])
def test_ranges(s3, bucket, size):
    data = random.Random(7).randbytes(size)
    s3.put_object(Bucket=bucket, Key="r", Body=data)

    def get(rng):
        r = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        return r["Body"].read(), r["ContentRange"], r["ContentLength"]

    assert get("bytes=0-0") == (data[:1], f"bytes 0-0/{size}", 1)
    assert get("bytes=10-") == (data[10:], f"bytes 10-{size - 1}/{size}", size - 10)
    assert get("bytes=-100") == (data[-100:], f"bytes {size - 100}-{size - 1}/{size}", 100)
    a, b = size // 4, size * 3 // 4
    assert get(f"bytes={a}-{b}") == (data[a:b + 1], f"bytes {a}-{b}/{size}", b - a + 1)
    # End past the size is clamped.
    assert get(f"bytes={size - 5}-{size + 1000}") == (
        data[-5:], f"bytes {size - 5}-{size - 1}/{size}", 5)
    # Start past the end: 416 with Content-Range bytes */size.
    e = expect_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="r",
                     Range=f"bytes={size}-")
    assert e.response["ResponseMetadata"]["HTTPHeaders"].get("content-range") == f"bytes */{size}"


def test_range_on_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="e", Body=b"")
    e = expect_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="e", Range="bytes=0-0")
    assert e.response["ResponseMetadata"]["HTTPHeaders"].get("content-range") == "bytes */0"


def test_head_with_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="h", Body=b"0123456789")
    r = s3.head_object(Bucket=bucket, Key="h", Range="bytes=2-4")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentLength"] == 3
    # botocore's HeadObject model has no ContentRange member: read the header.
    assert r["ResponseMetadata"]["HTTPHeaders"].get("content-range") == "bytes 2-4/10"


# -- conditional requests --------------------------------------------------------


def _status_of(fn, **kw) -> int:
    try:
        return fn(**kw)["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


def test_conditional_get_and_head(s3, bucket):
    data = b"conditional" * 100
    etag = s3.put_object(Bucket=bucket, Key="c", Body=data)["ETag"]
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"].timestamp()
    before, after = utc(lm - 3600), utc(lm + 3600)

    cases = [
        ({"IfMatch": etag}, 200),
        ({"IfMatch": '"0123456789abcdef0123456789abcdef"'}, 412),
        ({"IfMatch": "*"}, 200),
        ({"IfNoneMatch": etag}, 304),
        ({"IfNoneMatch": '"0123456789abcdef0123456789abcdef"'}, 200),
        ({"IfNoneMatch": "*"}, 304),
        ({"IfModifiedSince": before}, 200),
        ({"IfModifiedSince": after}, 304),
        ({"IfModifiedSince": utc(lm)}, 304),
        ({"IfUnmodifiedSince": after}, 200),
        ({"IfUnmodifiedSince": before}, 412),
        # If-Match true wins over If-Unmodified-Since false (RFC 7232 / S3).
        ({"IfMatch": etag, "IfUnmodifiedSince": before}, 200),
        # If-None-Match false wins over If-Modified-Since true.
        ({"IfNoneMatch": etag, "IfModifiedSince": before}, 304),
    ]
    for call in (s3.get_object, s3.head_object):
        for kw, want in cases:
            got = _status_of(call, Bucket=bucket, Key="c", **kw)
            assert got == want, f"{call.__name__} {kw}: expected {want}, got {got}"

    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"00000000000000000000000000000000"')
    assert err(ei.value) == ("PreconditionFailed", 412)
    r = s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"nope"')
    assert r["Body"].read() == data


# -- DeleteObjects ---------------------------------------------------------------


def test_delete_objects(s3, bucket):
    keys = [f"d/{i}" for i in range(20)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    r = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": k} for k in keys[:10]] + [{"Key": "d/missing"}]})
    assert sorted(d["Key"] for d in r.get("Deleted", [])) == sorted(keys[:10] + ["d/missing"])
    assert not r.get("Errors"), r.get("Errors")
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert sorted(left) == sorted(keys[10:])

    r = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": k} for k in keys[10:]], "Quiet": True})
    assert not r.get("Deleted"), "quiet mode lists no deleted keys"
    assert not r.get("Errors"), r.get("Errors")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# -- listing ---------------------------------------------------------------------


N_LIST = 2500


@pytest.fixture(scope="module")
def listing(node, cred):
    """A bucket with N_LIST keys: top-level files and files under dir0/..dir4/."""
    name = f"list-{uuid.uuid4().hex[:8]}"
    node.allow(node.create_bucket(name), cred)
    keys = []
    for i in range(N_LIST):
        if i % 10 == 0:
            keys.append(f"top{i:05d}")
        else:
            keys.append(f"dir{i % 5}/sub{i % 3}/f{i:05d}")
    clients = [cred.boto3_client() for _ in range(8)]

    def put(i):
        clients[i % 8].put_object(Bucket=name, Key=keys[i], Body=str(i).encode())

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(put, range(N_LIST)))
    return name, sorted(keys)


def test_list_v2_full_paging(s3, listing):
    name, keys = listing
    seen, token, pages = [], None, 0
    while True:
        kw = {"Bucket": name, "MaxKeys": 1000}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        contents = r.get("Contents", [])
        assert r["KeyCount"] == len(contents)
        assert len(contents) <= 1000
        seen += [o["Key"] for o in contents]
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        token = r["NextContinuationToken"]
        assert pages < 10, "paging does not end"
    assert pages == 3
    assert seen == keys, "v2 paging must return every key once, in order"


def test_list_v2_default_max_keys(s3, listing):
    name, keys = listing
    r = s3.list_objects_v2(Bucket=name)
    assert r["IsTruncated"] is True
    assert r["MaxKeys"] == 1000
    assert [o["Key"] for o in r["Contents"]] == keys[:1000]
    o = r["Contents"][0]
    assert o["Size"] == len(str(int(o["Key"][-5:])))
    assert o["ETag"].startswith('"') and len(o["ETag"]) == 34


def test_list_v1_marker_paging(s3, listing):
    name, keys = listing
    seen, marker = [], ""
    for _ in range(50):
        r = s3.list_objects(Bucket=name, MaxKeys=700, Marker=marker)
        page = [o["Key"] for o in r.get("Contents", [])]
        seen += page
        if not r["IsTruncated"]:
            break
        marker = r.get("NextMarker") or page[-1]
    assert seen == keys


def test_list_prefix_delimiter(s3, listing):
    name, keys = listing
    r = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == [f"dir{i}/" for i in range(5)]
    assert [o["Key"] for o in r["Contents"]] == [k for k in keys if "/" not in k]
    assert r["KeyCount"] == 5 + len(r["Contents"])

    r = s3.list_objects_v2(Bucket=name, Prefix="dir1/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == [f"dir1/sub{j}/" for j in range(3)]
    assert "Contents" not in r or r["Contents"] == []

    r = s3.list_objects_v2(Bucket=name, Prefix="dir2/sub1/")
    want = [k for k in keys if k.startswith("dir2/sub1/")]
    assert [o["Key"] for o in r["Contents"]] == want and not r["IsTruncated"]

    r = s3.list_objects_v2(Bucket=name, Prefix="nothing-here/")
    assert r["KeyCount"] == 0 and not r["IsTruncated"]

    # v1 with delimiter.
    r = s3.list_objects(Bucket=name, Delimiter="/", Prefix="dir3/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == [f"dir3/sub{j}/" for j in range(3)]


def test_list_delimiter_paging(s3, listing):
    """Paging with a delimiter: a common prefix counts once and is never repeated."""
    name, keys = listing
    want_prefixes = [f"dir{i}/" for i in range(5)]
    want_keys = [k for k in keys if "/" not in k]
    # v2
    got_p, got_k, token = [], [], None
    for _ in range(1000):
        kw = {"Bucket": name, "Delimiter": "/", "MaxKeys": 7}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        n = len(r.get("Contents", [])) + len(r.get("CommonPrefixes", []))
        assert n <= 7 and r["KeyCount"] == n
        got_p += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        got_k += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert got_p == want_prefixes
    assert got_k == want_keys
    # v1: NextMarker is given when a delimiter is used.
    got_p, got_k, marker = [], [], ""
    for _ in range(1000):
        r = s3.list_objects(Bucket=name, Delimiter="/", MaxKeys=7, Marker=marker)
        got_p += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        got_k += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        assert r.get("NextMarker"), "v1 with a delimiter must return NextMarker when truncated"
        marker = r["NextMarker"]
    assert got_p == want_prefixes
    assert got_k == want_keys


def test_list_start_after(s3, listing):
    name, keys = listing
    r = s3.list_objects_v2(Bucket=name, StartAfter=keys[1234], MaxKeys=10)
    assert [o["Key"] for o in r["Contents"]] == keys[1235:1245]
    r = s3.list_objects_v2(Bucket=name, StartAfter="dir3/", Prefix="dir3/", MaxKeys=3)
    assert [o["Key"] for o in r["Contents"]] == [k for k in keys if k.startswith("dir3/")][:3]
    r = s3.list_objects_v2(Bucket=name, StartAfter="zzz")
    assert r["KeyCount"] == 0
    # v1 Marker between keys.
    r = s3.list_objects(Bucket=name, Marker="dir4/sub2/", MaxKeys=2)
    assert [o["Key"] for o in r["Contents"]] == [k for k in keys if k > "dir4/sub2/"][:2]


ODD_KEYS = ["a b/c+d%é", "plus+sign", "sp ace", "q?x=1&y=2", "tilde~/star*", "ünï/cödé",
            "semi;colon", "hash#tag", "emoji-\U0001F600", "dot/./seg", "trailing/"]


def test_odd_key_names_roundtrip(s3, bucket):
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    for k in ODD_KEYS:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode(), k
    # boto3 asks for encoding-type=url and decodes the answer itself.
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(ODD_KEYS, key=lambda s: s.encode())
    listed = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert listed == sorted(ODD_KEYS, key=lambda s: s.encode())


def _raw_list(cred, bucket, query: dict) -> ET.Element:
    q = urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote, safe="-_.~")
    r = cred.request("GET", f"/{bucket}?{q}")
    assert r.status_code == 200, r.text
    return ET.fromstring(r.content)


def test_list_encoding_type_url_raw(cred, s3, bucket):
    """With encoding-type=url, keys and prefixes are URL-encoded in the XML;
    without it, they are raw UTF-8."""
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    want = sorted(ODD_KEYS, key=lambda s: s.encode())
    for v2 in (True, False):
        q = {"encoding-type": "url"}
        if v2:
            q["list-type"] = "2"
        root = _raw_list(cred, bucket, q)
        assert root.findtext(f"{S3NS}EncodingType") == "url"
        raw = [c.findtext(f"{S3NS}Key") for c in root.iter(f"{S3NS}Contents")]
        for r_ in raw:
            assert r_.isascii() and " " not in r_, f"key not URL-encoded: {r_!r}"
        assert [urllib.parse.unquote_plus(r_) for r_ in raw] == want, raw
        # Common prefixes are encoded too.
        q["delimiter"] = "/"
        root = _raw_list(cred, bucket, q)
        prefixes = [p.findtext(f"{S3NS}Prefix") for p in root.iter(f"{S3NS}CommonPrefixes")]
        assert [urllib.parse.unquote_plus(p) for p in prefixes] == sorted(
            {k.split("/")[0] + "/" for k in ODD_KEYS if "/" in k}, key=lambda s: s.encode())
        assert all(p.isascii() and " " not in p for p in prefixes), prefixes
    root = _raw_list(cred, bucket, {"list-type": "2"})
    raw = [c.findtext(f"{S3NS}Key") for c in root.iter(f"{S3NS}Contents")]
    assert raw == want


def test_list_with_prefix_needing_encoding(s3, bucket):
    for k in ["a b/1", "a b/2", "a c/3", "a+b/4"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a b/")
    assert [o["Key"] for o in r["Contents"]] == ["a b/1", "a b/2"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a+")
    assert [o["Key"] for o in r["Contents"]] == ["a+b/4"]


# -- not implemented -------------------------------------------------------------


def test_unimplemented_endpoints(s3, bucket):
    expect_error(s3.get_bucket_tagging, "NotImplemented", 501, Bucket=bucket)
    # Versioning is never enabled, and says so (clients probe it).
    v = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in v and "MFADelete" not in v, v
    expect_error(s3.put_bucket_versioning, "NotImplemented", 501, Bucket=bucket,
                 VersioningConfiguration={"Status": "Enabled"})
    expect_error(s3.put_bucket_tagging, "NotImplemented", 501, Bucket=bucket,
                 Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
