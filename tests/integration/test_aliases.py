"""Bucket aliases: several global aliases per bucket, and aliases local to an
access key (two keys each with their own `photos`), managed through the admin
API and `garage bucket alias --local`, used by S3 clients (boto3)."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError


def garage(node, *args) -> subprocess.CompletedProcess:
    cmd = [str(node.binary), "--admin-addr", f"127.0.0.1:{node.admin_port}",
           "--admin-token", node.admin_token, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def ok(node, *args) -> str:
    p = garage(node, *args)
    assert p.returncode == 0, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def fails(node, *args) -> str:
    p = garage(node, *args)
    assert p.returncode != 0, f"garage {' '.join(args)} should fail\n{p.stdout}"
    assert p.stderr.strip(), "a failing command says why"
    return p.stderr


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_several_global_aliases_reach_one_bucket(node, cred, s3):
    first, second = uniq("ga"), uniq("gb")
    bid = node.create_bucket(first)
    node.allow(bid, cred)
    ok(node, "bucket", "alias", first, second)
    s3.put_object(Bucket=first, Key="k", Body=b"same bucket")
    assert s3.get_object(Bucket=second, Key="k")["Body"].read() == b"same bucket"
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {first, second} <= names
    info = node.admin("GET", "/v2/GetBucketInfo", params={"id": bid})
    assert sorted(info["globalAliases"]) == sorted([first, second])
    ok(node, "bucket", "unalias", first)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=first)
    assert e.value.response["Error"]["Code"] in ("404", "NoSuchBucket")
    # The last alias stays.
    assert "last alias" in fails(node, "bucket", "unalias", second)


def test_two_keys_each_with_their_own_photos(node):
    alice = node.create_key(uniq("alice"))
    bob = node.create_key(uniq("bob"))
    # Alice's through the admin API (a bucket created with a local alias).
    a = node.admin("POST", "/v2/CreateBucket", json={"localAlias": {
        "accessKeyId": alice.access_key_id, "alias": "photos",
        "allow": {"read": True, "write": True, "owner": True}}})
    assert a["globalAliases"] == []
    assert a["keys"][0]["accessKeyId"] == alice.access_key_id
    assert a["keys"][0]["bucketLocalAliases"] == ["photos"]
    # Bob's through the CLI: a bucket with a global name, then his local one.
    bobs_global = uniq("bob-photos")
    ok(node, "bucket", "create", bobs_global)
    ok(node, "bucket", "allow", "--read", "--write", bobs_global, "--key", bob.access_key_id)
    out = ok(node, "bucket", "alias", "--local", bob.access_key_id, bobs_global, "photos")
    assert "photos" in out
    info = ok(node, "bucket", "info", bobs_global)
    assert f"photos (key {bob.access_key_id})" in info

    sa, sb = alice.boto3_client(), bob.boto3_client()
    sa.put_object(Bucket="photos", Key="who", Body=b"alice")
    sb.put_object(Bucket="photos", Key="who", Body=b"bob")
    assert sa.get_object(Bucket="photos", Key="who")["Body"].read() == b"alice"
    assert sb.get_object(Bucket="photos", Key="who")["Body"].read() == b"bob"
    assert sb.get_object(Bucket=bobs_global, Key="who")["Body"].read() == b"bob"
    assert "photos" in {b["Name"] for b in sa.list_buckets()["Buckets"]}
    assert {"photos", bobs_global} <= {b["Name"] for b in sb.list_buckets()["Buckets"]}
    # A third key without a local alias has no `photos` (no global one exists).
    carol = node.create_key(uniq("carol"))
    with pytest.raises(ClientError) as e:
        carol.boto3_client().head_bucket(Bucket="photos")
    assert e.value.response["Error"]["Code"] in ("404", "NoSuchBucket")

    # Admin views: ListBuckets and GetKeyInfo.
    listed = node.admin("GET", "/v2/ListBuckets")
    locals_ = [la for b in listed for la in b["localAliases"]]
    assert {"accessKeyId": alice.access_key_id, "alias": "photos"} in locals_
    assert {"accessKeyId": bob.access_key_id, "alias": "photos"} in locals_
    kinfo = node.admin("GET", "/v2/GetKeyInfo", params={"id": bob.access_key_id})
    assert any(b["localAliases"] == ["photos"] for b in kinfo["buckets"])

    # Errors: the name is taken in Bob's namespace; invalid name; unknown key.
    other = uniq("other")
    ok(node, "bucket", "create", other)
    assert "already" in fails(node, "bucket", "alias", "--local", bob.access_key_id, other,
                              "photos")
    r = node.admin("POST", "/v2/AddBucketAlias", expect=409, json={
        "bucketId": a["id"], "accessKeyId": bob.access_key_id, "localAlias": "photos"})
    assert r["code"] == "BucketAlreadyExists"
    fails(node, "bucket", "alias", "--local", bob.access_key_id, other, "Not_Valid")
    r = node.admin("POST", "/v2/AddBucketAlias", expect=400, json={
        "bucketId": a["id"], "accessKeyId": bob.access_key_id, "localAlias": "Not_Valid"})
    assert r["code"] == "InvalidRequest"
    assert "NoSuchAccessKey" in fails(node, "bucket", "alias", "--local", "GKnosuchkey", other,
                                      "x1")
    r = node.admin("POST", "/v2/AddBucketAlias", expect=404, json={
        "bucketId": a["id"], "accessKeyId": "GK000000000000000000000000", "localAlias": "abc"})
    assert r["code"] == "NoSuchAccessKey"
    # Alice's bucket has only its local alias: it cannot go.
    r = node.admin("POST", "/v2/RemoveBucketAlias", expect=409, json={
        "bucketId": a["id"], "accessKeyId": alice.access_key_id, "localAlias": "photos"})
    assert "last alias" in r["message"]

    # Bob drops his local alias (by name only): `photos` is gone for him.
    ok(node, "bucket", "unalias", "--local", bob.access_key_id, "photos")
    with pytest.raises(ClientError):
        sb.head_bucket(Bucket="photos")
    assert sa.get_object(Bucket="photos", Key="who")["Body"].read() == b"alice"
    assert "no local alias" in fails(node, "bucket", "unalias", "--local", bob.access_key_id,
                                     "photos")


def test_local_alias_wins_over_a_global_one_and_s3_create_makes_a_global_alias(node):
    key = node.create_key(uniq("dave"))
    s3 = key.boto3_client()
    name = uniq("shared")
    # CreateBucket through S3 makes a global alias (as Garage).
    s3.create_bucket(Bucket=name)
    info = node.bucket_info(name)
    assert info["globalAliases"] == [name]
    s3.put_object(Bucket=name, Key="k", Body=b"global")
    # The key's local alias of the same name hides the global one for it only.
    mine = node.admin("POST", "/v2/CreateBucket", json={"localAlias": {
        "accessKeyId": key.access_key_id, "alias": name,
        "allow": {"read": True, "write": True}}})
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names.count(name) == 1
    node.admin("POST", "/v2/RemoveBucketAlias", json={
        "bucketId": mine["id"], "accessKeyId": key.access_key_id, "localAlias": name},
        expect=409)  # its last alias
    node.admin("POST", "/v2/AddBucketAlias", json={"bucketId": mine["id"],
                                                   "globalAlias": uniq("mine")})
    node.admin("POST", "/v2/RemoveBucketAlias", json={
        "bucketId": mine["id"], "accessKeyId": key.access_key_id, "localAlias": name})
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"global"
