"""Three joined nodes (`garage node connect`, shared rpc_secret): a layout
staged and applied on one node reaches the other two, which show the same
version and roles within seconds; applying the same version again on another
node is refused.

Run: /usr/bin/python3 -m pytest tests/integration/test_layout_cluster.py
"""

from __future__ import annotations

import pytest

import harness
from test_layout_cli import fails, ok, ok_json, self_id, wait_for

SECRET = "6e" * 32


@pytest.fixture(scope="module")
def three(garage_binary, tmp_path_factory):
    base = tmp_path_factory.mktemp("layout-3")
    # Replication factor 1: the configuration accepts no other yet; the layout
    # still places the 256 partitions over the three zones.
    cfg = {"rpc_secret": SECRET}
    nodes = [harness.garage_node(base / f"n{i}", config_overrides=dict(cfg)) for i in range(3)]
    yield nodes
    for n in nodes:
        n.close()


def test_three_nodes_see_a_layout_applied_on_one(three):
    n0, n1, n2 = three
    addr0 = ok(n0, "node", "id").strip()
    for n in (n1, n2):
        out = ok(n, "node", "connect", addr0)
        assert "onnected" in out
    ids = [self_id(n) for n in three]
    wait_for("n0 knows both peers",
             lambda: {x["id"] for x in n0.admin("GET", "/v2/GetClusterStatus")["nodes"]}
             >= set(ids))
    for i, (nid, zone) in enumerate(zip(ids, ["dc1", "dc2", "dc3"])):
        ok(n0, "layout", "assign", "-z", zone, "-c", "1G", nid[:10])
    # The staged changes spread before the apply.
    wait_for("staging on n2",
             lambda: len(ok_json(n2, "layout", "show")["stagedRoleChanges"]) == 3)
    ok(n0, "layout", "apply", "--version", "1")
    want = ok_json(n0, "layout", "show")
    assert want["version"] == 1 and len(want["roles"]) == 3
    for n in (n1, n2):
        wait_for("layout version 1 everywhere",
                 lambda n=n: ok_json(n, "layout", "show")["version"] == 1, timeout=10)
        got = ok_json(n, "layout", "show")
        assert got["roles"] == want["roles"]
        assert "Current cluster layout version: 1" in ok(n, "layout", "show")
    # Applying the same version on another node is refused there.
    fails(n1, "layout", "apply", "--version", "1")
