"""The multi-node harness (cluster.py) on real processes: three nodes in
three zones join through the WAN proxies, a layout applied on one node
reaches the others, inter-zone round trips show the emulated latency, an
isolated node is seen down and comes back when healed, a killed node comes
back after a restart.

This file tests the harness and the membership it relies on; the replication
of S3 data is tested in test_cluster_s3.py, test_cluster_faults.py and
test_cluster_rebalance.py.
"""
from __future__ import annotations

import time

import pytest

from cluster import cluster, wait_for

DELAY_MS = 50  # one way, between zones: 100 ms round trips


@pytest.fixture(scope="module")
def c(garage_binary, tmp_path_factory):
    cl = cluster(tmp_path_factory.mktemp("cluster"), zones=["a", "b", "c"], delay_ms=DELAY_MS)
    try:
        cl.join()
        yield cl
    finally:
        cl.close()


def test_layout_applied_on_one_node_reaches_every_node(c):
    version = c.apply_layout()
    for i in range(3):
        assert c.layout_version(i) == version
    roles = c.nodes[2].admin("GET", "/v2/GetClusterLayout")["roles"]
    assert sorted(r["zone"] for r in roles) == ["a", "b", "c"]


def test_rpc_between_zones_crosses_the_delaying_proxy(c):
    # Each connection crosses the proxy of the node that was dialed.
    assert sum(p.bytes_forwarded > 0 for p in c.proxies) >= 2
    # The nodes' own ping round trips show the emulated latency.
    def rtts():
        st = c.nodes[0].admin("GET", "/v2/GetClusterStatus")
        return [n.get("rttMs") for n in st["nodes"] if n["id"] != c.ids[0]]
    wait_for("node 0 measured its peers' round trips", lambda: all(r is not None for r in rtts()))
    assert all(r >= 2 * DELAY_MS * 0.9 for r in rtts()), rtts()
    # A layout change applied through node 0 needs at least one inter-zone
    # round trip before node 2 has it.
    c.garage(0, "layout", "assign", c.ids[1][:16], "-t", "slow-link")
    t0 = time.monotonic()
    version = c.layout_version(0) + 1
    c.garage(0, "layout", "apply", "--version", str(version))
    wait_for("node 2 has the new version", lambda: c.layout_version(2) >= version, every=0.02)
    assert time.monotonic() - t0 >= DELAY_MS / 1000


def test_isolated_node_is_down_for_the_others_then_back(c):
    c.isolate(2)
    for i in (0, 1):
        wait_for(f"node {i} sees node 2 down", lambda i=i: c.view(i).get(c.ids[2]) is False,
                 timeout=40)
    c.heal(2)
    for i in (0, 1):
        wait_for(f"node {i} sees node 2 up", lambda i=i: c.view(i).get(c.ids[2]) is True,
                 timeout=90)


def test_killed_node_restarts_and_rejoins(c):
    c.kill(1)
    wait_for("node 0 sees node 1 down", lambda: c.view(0).get(c.ids[1]) is False, timeout=40)
    c.restart(1)
    wait_for("node 0 sees node 1 up", lambda: c.view(0).get(c.ids[1]) is True, timeout=90)
    assert c.layout_version(1) == c.layout_version(0)
