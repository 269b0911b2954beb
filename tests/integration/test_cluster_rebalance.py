"""Layout changes with data in place: replication factor 3.

Five node processes are joined; the layout first uses three of them (zones
a, b, c). Then, while a client keeps writing and checking read-after-write
through every node of the layout:

1. nodes 3 and 4 (zones d, e) are added: 3 -> 5 nodes;
2. node 2 changes zone;
3. nodes 3 and 4 are removed: back to 3 nodes.

Throughout, a read that starts after a PUT was acknowledged returns that PUT
(through any node, including while partitions move), and every object
written before stays readable. After each change, once the old layout version
is retired, each node holds exactly the partitions (table entries) and the
blocks the layout gives it.

Run: /usr/bin/python3 -m pytest tests/integration/test_cluster_rebalance.py
"""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from cluster import cluster, wait_for
from test_cluster_s3 import block_files, client

BUCKET = "moving"
BLOCK = 1 << 20


def stats(node) -> dict:
    st = node.admin("GET", "/v2/GetNodeStatistics",
                    params={"node": "self", "partitions": "true"})
    (info,) = st["success"].values()
    return info


def block_partition(block_hex: str) -> int:
    # block_net: the partition of a block is that of its block_ref entries.
    return hashlib.blake2b(bytes.fromhex(block_hex[:64]), digest_size=32).digest()[0]


last_mismatch: list[str] = []


def placement_matches(c: cluster, members: list[int]) -> bool:
    """Every node holds exactly what the (single live) layout version gives it."""
    def no(why: str) -> bool:
        last_mismatch[:] = [why]
        return False
    for i in range(len(c.nodes)):
        info = stats(c.nodes[i])
        if info.get("layoutVersions") != 1:
            return no(f"node {i}: {info.get('layoutVersions')} live layout versions")
        assigned = set(info["partitionsAssigned"])
        if i not in members and assigned:
            return no(f"node {i}: assigned {len(assigned)} partitions")
        for t in info["tables"]:
            if t["name"] in ("bucket", "bucket_alias", "key"):
                continue  # fully replicated: every node of the layout has them
            extra = set(t["partitions"]) - assigned
            if extra:
                return no(f"node {i}: table {t['name']} holds {len(extra)} partitions "
                          f"not assigned, e.g. {sorted(extra)[:3]}")
        stray = [b for b in block_files(c.nodes[i]) if block_partition(b) not in assigned]
        if stray:
            return no(f"node {i}: {len(stray)} block files of partitions not assigned")
    return True


def wait_placement(c: cluster, members: list[int], what: str, timeout: float = 180):
    try:
        wait_for(what, lambda: placement_matches(c, members), timeout=timeout, every=2)
    except AssertionError as e:
        raise AssertionError(f"{e}: {last_mismatch}") from None


class traffic:
    """Writes and read-after-write checks through the layout's nodes."""

    def __init__(self, c: cluster, cred):
        self.c = c
        self.cred = cred
        self.members = [0, 1, 2]
        self.written: dict[str, bytes] = {}
        self.failures: list[str] = []
        self.checked = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        clients = {i: client(self.c, i, self.cred) for i in range(len(self.c.nodes))}
        n = 0
        while not self.stop.is_set():
            members = list(self.members)
            w = members[n % len(members)]
            r = members[(n + 1) % len(members)]
            key = f"obj/{n:05d}"
            size = 200_000 if n % 3 else 1_300_000  # one or two blocks
            value = os.urandom(size)
            try:
                clients[w].put_object(Bucket=BUCKET, Key=key, Body=value)
            except Exception as e:
                self.failures.append(f"put {key} via {w}: {e}")
                n += 1
                continue
            self.written[key] = value
            try:
                got = clients[r].get_object(Bucket=BUCKET, Key=key)["Body"].read()
                if got != value:
                    self.failures.append(f"read-after-write {key}: via {r} got {len(got)} bytes")
                # An older object, through yet another node.
                old = f"obj/{(n * 7919) % (n + 1):05d}"
                if old in self.written:
                    o = members[(n + 2) % len(members)]
                    got = clients[o].get_object(Bucket=BUCKET, Key=old)["Body"].read()
                    if got != self.written[old]:
                        self.failures.append(f"older {old} via {o}: wrong content")
                self.checked += 1
            except Exception as e:
                self.failures.append(f"read {key} via {r}: {e}")
            n += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=120)


@pytest.fixture(scope="module")
def c5(garage_binary, tmp_path_factory):
    c = cluster(tmp_path_factory.mktemp("rebalance"), zones=["a", "b", "c", "d", "e"],
                config_overrides={"replication_factor": 3, "sync_interval_secs": 2,
                                  "block_gc_delay_secs": 2})
    try:
        c.join()
        for i, z in enumerate(["a", "b", "c"]):
            c.garage(0, "layout", "assign", c.ids[i][:16], "-z", z, "-c", "1G")
        c.garage(0, "layout", "apply", "--version", "1")
        for i in range(5):
            wait_for(f"node {i} has layout 1", lambda i=i: c.layout_version(i) >= 1)
        c.cred = c.nodes[0].key_and_bucket(BUCKET)
        yield c
    finally:
        c.close()


def apply_next(c: cluster) -> int:
    v = c.layout_version(0) + 1
    c.garage(0, "layout", "apply", "--version", str(v))
    for i in range(len(c.nodes)):
        wait_for(f"node {i} has layout {v}", lambda i=i: c.layout_version(i) >= v)
    return v


def test_three_to_five_and_back_keeps_every_object_and_read_after_write(c5):
    s0 = client(c5, 0, c5.cred)
    seed = {f"seed/{i}": os.urandom(150_000 * (i + 1)) for i in range(6)}
    for k, v in seed.items():
        s0.put_object(Bucket=BUCKET, Key=k, Body=v)
    wait_placement(c5, [0, 1, 2], "placement of layout 1", timeout=60)

    with traffic(c5, c5.cred) as t:
        time.sleep(2)
        # 1. Add two nodes in two new zones.
        for i, z in ((3, "d"), (4, "e")):
            c5.garage(0, "layout", "assign", c5.ids[i][:16], "-z", z, "-c", "1G")
        apply_next(c5)
        t.members = [0, 1, 2, 3, 4]
        wait_placement(c5, [0, 1, 2, 3, 4], "placement after adding nodes 3 and 4")
        # Each of the five nodes now holds a share, not everything.
        held = [set(stats(c5.nodes[i])["partitionsAssigned"]) for i in range(5)]
        assert all(0 < len(h) < 256 for h in held), [len(h) for h in held]
        # 2. Node 2 moves to zone e.
        c5.garage(0, "layout", "assign", c5.ids[2][:16], "-z", "e", "-c", "1G")
        apply_next(c5)
        wait_placement(c5, [0, 1, 2, 3, 4], "placement after the zone change")
        # 3. Remove nodes 3 and 4: back to three.
        t.members = [0, 1, 2]
        time.sleep(1)  # requests in flight through 3 and 4 finish
        c5.garage(0, "layout", "remove", c5.ids[3][:16])
        c5.garage(0, "layout", "remove", c5.ids[4][:16])
        apply_next(c5)
        wait_placement(c5, [0, 1, 2], "placement after removing nodes 3 and 4")
        time.sleep(2)

    assert not t.failures, t.failures[:10]
    assert t.checked >= 10, t.checked
    # Everything ever written, through each remaining node; nodes 3 and 4 hold nothing.
    everything = {**seed, **t.written}
    for i in (0, 1, 2):
        s = client(c5, i, c5.cred)
        for k, v in everything.items():
            assert s.get_object(Bucket=BUCKET, Key=k)["Body"].read() == v, (i, k)
    for i in (3, 4):
        assert block_files(c5.nodes[i]) == set()
        for tb in stats(c5.nodes[i])["tables"]:
            if tb["name"] not in ("bucket", "bucket_alias", "key"):
                assert tb["partitions"] == [], (i, tb["name"])
