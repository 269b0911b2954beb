"""Replacing a dead node: `garage layout skip-dead-nodes` (issue 4).

Three nodes in zones a, b, c (replication factor 3) hold data; node 2 (zone c)
is killed with SIGKILL and never comes back. Node 3, started in zone c but
without a role so far, replaces it: assign node 3, remove node 2, apply.

While node 2 is gone, layout version 1 cannot retire (it never acknowledges
nor syncs version 2): two live versions, for as long as we wait. After
`garage layout skip-dead-nodes --version 2`, version 1 retires, every object
is read back through every live node, and node 3 holds the partitions the
layout gives it: the same table contents (Merkle roots, partitions) and the
same block files as the other live nodes.

Bad input: a wrong version is refused with a clear message by the CLI
(non-zero exit) and by the admin API (400).

Run: /usr/bin/python3 -m pytest tests/integration/test_cluster_replace_node.py
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from cluster import cluster, wait_for
from test_cluster_s3 import block_files, client

BUCKET = "replaced"
SHARDED = ("object", "version", "block_ref", "bucket_counter")


def history(c: cluster, i: int) -> dict:
    return c.nodes[i].admin("GET", "/v2/GetClusterLayoutHistory")


def stats(c: cluster, i: int) -> dict:
    st = c.nodes[i].admin("GET", "/v2/GetNodeStatistics",
                          params={"node": "self", "partitions": "true"})
    (info,) = st["success"].values()
    return info


def live_versions(c: cluster, i: int) -> list[int]:
    return [v["version"] for v in history(c, i)["versions"]]


def run_garage(c: cluster, i: int, *args) -> subprocess.CompletedProcess:
    n = c.nodes[i]
    return subprocess.run([str(n.binary), "--admin-addr", f"127.0.0.1:{n.admin_port}",
                           "--admin-token", n.admin_token, *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def c4(garage_binary, tmp_path_factory):
    # Node 3 (zone c) runs from the start but has no role until it replaces node 2.
    c = cluster(tmp_path_factory.mktemp("replace"), zones=["a", "b", "c", "c"],
                config_overrides={"replication_factor": 3, "sync_interval_secs": 2,
                                  "block_gc_delay_secs": 2})
    try:
        c.join()
        for i, z in enumerate(["a", "b", "c"]):
            c.garage(0, "layout", "assign", c.ids[i][:16], "-z", z, "-c", "1G")
        c.garage(0, "layout", "apply", "--version", "1")
        for i in range(4):
            wait_for(f"node {i} has layout 1", lambda i=i: c.layout_version(i) >= 1)
        c.cred = c.nodes[0].key_and_bucket(BUCKET)
        yield c
    finally:
        c.close()


def test_dead_node_replaced_then_skipped_lets_the_old_version_retire(c4):
    c = c4
    live = [0, 1, 3]
    s0 = client(c, 0, c.cred)
    objects = {f"obj/{i}": os.urandom(size) for i, size in
               enumerate([100, 3_000, 200_000, 1_300_000, 2_500_000, 50_000, 700_000])}
    for k, v in objects.items():
        s0.put_object(Bucket=BUCKET, Key=k, Body=v)
    # Node 2 holds its copy before it dies (not needed for the quorum
    # argument, but then the check below is about the replacement alone).
    wait_for("node 2 holds every block",
             lambda: block_files(c.nodes[2]) == block_files(c.nodes[0]) != set(), timeout=60)

    c.kill(2)  # its disk is gone: never restarted
    wait_for("node 0 sees node 2 down", lambda: not c.view(0).get(c.ids[2], True))
    c.garage(0, "layout", "assign", c.ids[3][:16], "-z", "c", "-c", "1G")
    c.garage(0, "layout", "remove", c.ids[2][:16])
    c.garage(0, "layout", "apply", "--version", "2")
    for i in live:
        wait_for(f"node {i} has layout 2", lambda i=i: c.layout_version(i) >= 2)

    # Writes during the transition go to both versions' live nodes.
    s1 = client(c, 1, c.cred)
    objects["during/transition"] = os.urandom(1_100_000)
    s1.put_object(Bucket=BUCKET, Key="during/transition", Body=objects["during/transition"])

    # With node 2 gone, version 1 cannot retire: several sync rounds later
    # both versions are still live everywhere.
    time.sleep(10)
    for i in live:
        assert live_versions(c, i) == [2, 1], (i, history(c, i))
    h = history(c, 0)
    assert h["updateTrackers"][c.ids[2]]["ack"] == 1, h
    out = c.garage(0, "layout", "history")
    assert "Draining" in out and "skip-dead-nodes --version 2" in out, out

    # Bad input: refused with a clear message, nothing changes.
    for bad in ("1", "3"):
        p = run_garage(c, 0, "layout", "skip-dead-nodes", "--version", bad)
        assert p.returncode != 0, p
        assert "not the current layout version 2: pass --version 2" in p.stderr, p.stderr
    p = run_garage(c, 0, "layout", "skip-dead-nodes")
    assert p.returncode != 0 and "give --version N" in p.stderr, p
    r = c.nodes[0].admin("POST", "/v2/ClusterLayoutSkipDeadNodes", json={"version": 1},
                         expect=400)
    assert "not the current layout version 2" in r["message"], r
    r = c.nodes[0].admin("POST", "/v2/ClusterLayoutSkipDeadNodes", json={}, expect=400)
    assert "version" in r["message"], r
    r = c.nodes[0].admin("POST", "/v2/ClusterLayoutSkipDeadNodes",
                         json={"version": 2, "allowMissingData": "yes"}, expect=400)
    assert "allowMissingData" in r["message"], r
    assert history(c, 0)["updateTrackers"][c.ids[2]]["ack"] == 1

    skipped_at = time.monotonic()
    out = c.garage(0, "layout", "skip-dead-nodes", "--version", "2")
    assert f"Increased the ack tracker of node {c.ids[2][:16]}" in out, out
    assert f"Increased the sync tracker of node {c.ids[2][:16]}" in out, out

    # Version 1 retires on every live node.
    for i in live:
        wait_for(f"node {i}: version 1 retired", lambda i=i: live_versions(c, i) == [2],
                 timeout=60, every=1)
    print(f"version 1 retired on every live node {time.monotonic() - skipped_at:.1f} s "
          "after skip-dead-nodes")
    out = c.garage(1, "layout", "history")
    assert "Draining" not in out, out

    # Every object, through every live node.
    for i in live:
        s = client(c, i, c.cred)
        for k, v in objects.items():
            assert s.get_object(Bucket=BUCKET, Key=k)["Body"].read() == v, (i, k)

    # Node 3 holds what the layout gives it: with three nodes and rf 3, every
    # partition, with the same contents as the other live nodes.
    def same_as_node_0() -> bool:
        ref = {t["name"]: t for t in stats(c, 0)["tables"]}
        info = stats(c, 3)
        if info["layoutVersions"] != 1 or len(info["partitionsAssigned"]) != 256:
            return False
        for t in info["tables"]:
            if t["merkleRoot"] != ref[t["name"]]["merkleRoot"]:
                return False
            if t["name"] in SHARDED and t["partitions"] != ref[t["name"]]["partitions"]:
                return False
        return block_files(c.nodes[3]) == block_files(c.nodes[0])

    wait_for("node 3 holds the same tables and blocks as node 0", same_as_node_0, timeout=60,
             every=1)
    held = {t["name"]: t["partitions"] for t in stats(c, 3)["tables"]}
    assert held["object"], held  # it does hold data, not just an empty match
    assert len(block_files(c.nodes[3])) >= 5


def test_skip_dead_nodes_with_a_single_live_version_is_refused(c4):
    # After the replacement (or on its own): one live version, nothing to skip.
    wait_for("a single live version", lambda: len(live_versions(c4, 0)) == 1, timeout=60)
    v = c4.layout_version(0)
    p = run_garage(c4, 0, "layout", "skip-dead-nodes", "--version", str(v))
    assert p.returncode != 0, p
    assert "only one layout version" in p.stderr, p.stderr
    r = c4.nodes[0].admin("POST", "/v2/ClusterLayoutSkipDeadNodes", json={"version": v},
                          expect=400)
    assert "only one layout version" in r["message"], r
