"""Three cluster nodes in three zones, replication factor 3, serving S3.

- objects written through one node are read (content, listing, HEAD) through
  every other node;
- one node killed (SIGKILL), every object is still readable and writable
  through the other two;
- the node restarted, it catches up by itself: its tables (Merkle roots from
  GetNodeStatistics) and its block files become those of the other nodes,
  with no command run;
- a node started with another rpc_secret cannot join, and sees none of the
  cluster's buckets or objects.

Run: /usr/bin/python3 -m pytest tests/integration/test_cluster_s3.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

import harness
from cluster import cluster, wait_for

BUCKET = "photos"


def client(c: cluster, i: int, cred: harness.credentials):
    return harness.credentials(c.nodes[i], cred.access_key_id,
                               cred.secret_access_key).boto3_client()


def keys_of(s3, bucket: str) -> list[str]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def block_files(node: harness.garage_node) -> set[str]:
    return {p.name for p in node.data_files() if "corrupted" not in p.parts
            and not p.name.startswith(".")}


def table_roots(node: harness.garage_node) -> dict[str, str]:
    st = node.admin("GET", "/v2/GetNodeStatistics", params={"node": "self"})
    (info,) = st["success"].values()
    return {t["name"]: t["merkleRoot"] for t in info["tables"]}


@pytest.fixture(scope="module")
def c3(garage_binary, tmp_path_factory):
    c = cluster(tmp_path_factory.mktemp("cluster-s3"), zones=["a", "b", "c"],
                config_overrides={"replication_factor": 3, "sync_interval_secs": 3,
                                  "block_gc_delay_secs": 3})
    try:
        c.join()
        c.apply_layout()
        c.cred = c.nodes[0].key_and_bucket(BUCKET)
        yield c
    finally:
        c.close()


def test_cluster_status_shows_the_layout(c3):
    st = c3.nodes[1].admin("GET", "/v2/GetClusterStatus")
    assert st["layoutVersion"] == c3.layout_version(1) >= 1
    zones = {n["id"]: (n["role"] or {}).get("zone") for n in st["nodes"]}
    assert zones == dict(zip(c3.ids, c3.zones))


def test_objects_written_through_one_node_are_read_through_every_other(c3):
    s0 = client(c3, 0, c3.cred)
    objects = {
        "small.txt": b"hello from zone a",
        "empty": b"",
        "dir/one-block.bin": os.urandom(700_000),
        "dir/three-blocks.bin": os.urandom(2_500_000),
    }
    for k, v in objects.items():
        s0.put_object(Bucket=BUCKET, Key=k, Body=v)
    for i in (1, 2):
        s = client(c3, i, c3.cred)
        assert sorted(keys_of(s, BUCKET)) == sorted(objects)
        for k, v in objects.items():
            assert s.get_object(Bucket=BUCKET, Key=k)["Body"].read() == v, (i, k)
            assert s.head_object(Bucket=BUCKET, Key=k)["ContentLength"] == len(v)
        assert BUCKET in [b["Name"] for b in s.list_buckets()["Buckets"]]
    # A delete through node 1 is seen through node 2.
    client(c3, 1, c3.cred).delete_object(Bucket=BUCKET, Key="empty")
    s2 = client(c3, 2, c3.cred)
    with pytest.raises(s2.exceptions.ClientError) as e:
        s2.head_object(Bucket=BUCKET, Key="empty")
    assert e.value.response["Error"]["Code"] in ("404", "NoSuchKey")


def test_one_node_down_then_back_catches_up_by_itself(c3):
    s0 = client(c3, 0, c3.cred)
    before = {f"before/{i}": os.urandom(1000 * (i + 1)) for i in range(5)}
    before["before/big"] = os.urandom(3_000_000)
    for k, v in before.items():
        s0.put_object(Bucket=BUCKET, Key=k, Body=v)

    c3.kill(2)
    # Everything readable and writable through the other two.
    s1 = client(c3, 1, c3.cred)
    for k, v in before.items():
        assert s1.get_object(Bucket=BUCKET, Key=k)["Body"].read() == v
    during = {f"during/{i}": os.urandom(2000 + i) for i in range(5)}
    during["during/big"] = os.urandom(2_200_000)
    for k, v in during.items():
        s1.put_object(Bucket=BUCKET, Key=k, Body=v)
    s1.delete_object(Bucket=BUCKET, Key="before/0")
    del before["before/0"]
    s1.create_bucket(Bucket="made-while-down")
    for k, v in during.items():
        assert s0.get_object(Bucket=BUCKET, Key=k)["Body"].read() == v

    c3.restart(2)
    # No command: the node's table sync and block resync bring it up to date.
    wait_for("node 2's tables have the Merkle roots of nodes 0 and 1",
             lambda: table_roots(c3.nodes[2]) == table_roots(c3.nodes[0])
             == table_roots(c3.nodes[1]), timeout=90, every=1)
    wait_for("node 2 holds the block files of nodes 0 and 1",
             lambda: block_files(c3.nodes[2]) == block_files(c3.nodes[0])
             == block_files(c3.nodes[1]), timeout=90, every=1)
    # And serves everything itself.
    s2 = client(c3, 2, c3.cred)
    everything = {**before, **during}
    for k, v in everything.items():
        got = s2.get_object(Bucket=BUCKET, Key=k)["Body"].read()
        assert hashlib.sha256(got).digest() == hashlib.sha256(v).digest(), k
    assert "before/0" not in keys_of(s2, BUCKET)
    assert "made-while-down" in [b["Name"] for b in s2.list_buckets()["Buckets"]]


def test_a_node_with_another_rpc_secret_cannot_join_read_or_write(c3, tmp_path):
    outsider = harness.garage_node(tmp_path / "outsider", config_overrides={
        "rpc_secret": "99" * 32, "replication_factor": 3})
    try:
        r = subprocess.run(
            [str(outsider.binary), "--admin-addr", f"127.0.0.1:{outsider.admin_port}",
             "--admin-token", outsider.admin_token, "node", "connect", c3.address(0)],
            capture_output=True, text=True, timeout=60)
        assert r.returncode != 0, r.stdout
        st = outsider.admin("GET", "/v2/GetClusterStatus")
        assert {n["id"] for n in st["nodes"]} == {outsider_id(outsider)}
        # The cluster does not list it either.
        assert outsider_id(outsider) not in c3.view(0)
        # It holds no layout, so it stores nothing and serves nothing of the
        # cluster's: the cluster's key is unknown there.
        s = harness.credentials(outsider, c3.cred.access_key_id,
                                c3.cred.secret_access_key).boto3_client()
        with pytest.raises(s.exceptions.ClientError) as e:
            s.list_objects_v2(Bucket=BUCKET)
        assert e.value.response["Error"]["Code"] in ("InvalidAccessKeyId", "AccessDenied")
        with pytest.raises(s.exceptions.ClientError):
            s.put_object(Bucket=BUCKET, Key="intruder", Body=b"x")
        assert "intruder" not in keys_of(client(c3, 0, c3.cred), BUCKET)
        assert not any(b.startswith("intruder") for b in block_files(outsider))
    finally:
        outsider.close()


def outsider_id(n: harness.garage_node) -> str:
    st = n.admin("GET", "/v2/GetNodeInfo", params={"node": "self"})
    (nid,) = st["success"].keys()
    return nid
