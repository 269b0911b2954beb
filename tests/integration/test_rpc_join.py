"""Three real nodes join over RPC (TLS, shared rpc_secret); a killed node is
seen down and comes back; a node with another secret never gets in.

Joining uses both ways Garage offers: `garage node connect` and
bootstrap_peers; the third node learns the first two from peer exchange.
"""

from __future__ import annotations

import re
import time

import pytest

import harness

SECRET = "5f" * 32
OTHER_SECRET = "a0" * 32
ID_RE = re.compile(r"^([0-9a-f]{64})@127\.0\.0\.1:(\d+)$")


def cli(node, *args, check=True):
    return harness.run([str(node.binary), "-c", str(node.config_path), *args], check=check,
                       timeout=60)


def full_address(node) -> str:
    out = cli(node, "node", "id").stdout.decode().strip()
    m = ID_RE.match(out)
    assert m, out
    assert int(m.group(2)) == node.rpc_port
    return out


def view(node) -> dict[str, bool]:
    """node id -> is up, as `node` sees the cluster (itself included)."""
    st = node.admin("GET", "/v2/GetClusterStatus")
    return {n["id"]: n["isUp"] for n in st["nodes"]}


def wait_for(what, pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


@pytest.fixture(scope="module")
def cluster(garage_binary, tmp_path_factory):
    base = tmp_path_factory.mktemp("rpc-join")
    nodes = [harness.garage_node(base / f"n{i}", config_overrides={"rpc_secret": SECRET},
                                 start=(i < 2)) for i in range(3)]
    yield nodes
    for n in nodes:
        n.close()


def test_node_id_is_the_persisted_public_key(cluster):
    n0 = cluster[0]
    addr = full_address(n0)
    pub = (n0.metadata_dir / "node_key.pub").read_bytes()
    assert addr.split("@")[0] == pub.hex()
    # Stable across a restart.
    n0.restart()
    assert full_address(n0) == addr


def test_three_nodes_join(cluster):
    n0, n1, n2 = cluster
    a0, a1 = full_address(n0), full_address(n1)
    # n1 joins with `garage node connect`.
    r = cli(n1, "node", "connect", a0)
    assert "Connected" in r.stdout.decode()
    # n2 joins with bootstrap_peers pointing at n1 only: it learns n0 from n1.
    n2.config_overrides["bootstrap_peers"] = [a1]
    n2.start()
    a2 = full_address(n2)
    every = {a.split("@")[0] for a in (a0, a1, a2)}
    for n in cluster:
        wait_for(f"{n.dir.name} sees 3 nodes up",
                 lambda n=n: set(view(n)) == every and all(view(n).values()))
    for n in cluster:
        out = cli(n, "status").stdout.decode()
        for a in (a0, a1, a2):
            node_id, addr = a.split("@")
            line = next((l for l in out.splitlines() if l.startswith(node_id[:16])), None)
            assert line is not None, out
            assert addr in line and "connected" in line, out


def test_killed_node_is_down_then_back(cluster):
    n0, n1, n2 = cluster
    id2 = full_address(n2).split("@")[0]
    n2.kill9()
    t0 = time.monotonic()
    for n in (n0, n1):
        wait_for(f"{n.dir.name} sees the killed node down", lambda n=n: view(n).get(id2) is False,
                 timeout=20)
    assert time.monotonic() - t0 < 20
    out = cli(n0, "status").stdout.decode()
    assert any(l.startswith(id2[:16]) and "down" in l for l in out.splitlines()), out
    # Restarted on the same ports: it redials its persisted peers, and they it.
    n2.start()
    for n in cluster:
        wait_for(f"{n.dir.name} sees 3 nodes up again",
                 lambda n=n: len(view(n)) == 3 and all(view(n).values()), timeout=30)


def test_node_with_another_secret_cannot_join(cluster, tmp_path):
    n0 = cluster[0]
    a0 = full_address(n0)
    intruder = harness.garage_node(tmp_path / "intruder",
                                   config_overrides={"rpc_secret": OTHER_SECRET,
                                                     "bootstrap_peers": [a0]})
    try:
        a3 = full_address(intruder)
        id3 = a3.split("@")[0]
        # Its connect fails, clearly, with a non-zero exit.
        r = cli(intruder, "node", "connect", a0, check=False)
        assert r.returncode != 0
        err = r.stderr.decode()
        assert "rpc_secret" in err, err
        # And the other way round.
        r = cli(n0, "node", "connect", a3, check=False)
        assert r.returncode != 0
        assert "rpc_secret" in r.stderr.decode()
        # Its bootstrap dials keep failing; it never shows up in the cluster.
        time.sleep(3)
        for n in cluster:
            assert id3 not in view(n)
            assert id3[:16] not in cli(n, "status").stdout.decode()
        assert not any(up for nid, up in view(intruder).items() if nid != id3)
        assert "does not know this cluster's rpc_secret" in n0.log_tail(200000) or \
            "refused" in n0.log_tail(200000)
    finally:
        intruder.close()
