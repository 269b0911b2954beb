"""Durability under faults: three zones, replication factor 3.

A writer streams PUTs (inline and multi-block) and DELETEs through node 0
while, at the same time, node 2 is SIGKILLed and restarted in a loop and
node 1 is cut off from the others and reconnected (for a while both are out,
so node 0 has no quorum and writes fail: failed writes may land partially). Afterwards, once the
cluster is quiet:

- every acknowledged PUT is visible, with its content, through every node
  (unless a later attempt on the same key, acknowledged or not, replaced it:
  a failed write may or may not take effect);
- every acknowledged DELETE stays deleted (same proviso);
- every node holds exactly the block files of the objects that exist: none
  lost, none orphaned.

Run: /usr/bin/python3 -m pytest tests/integration/test_cluster_faults.py
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time

import pytest

import harness
from cluster import cluster, wait_for
from test_cluster_s3 import block_files, client, keys_of, table_roots

BUCKET = "faults"
BLOCK = 1 << 20
INLINE = 3072


def blocks_of(data: bytes) -> set[str]:
    if len(data) <= INLINE:
        return set()
    return {hashlib.blake2b(data[i:i + BLOCK], digest_size=32).hexdigest()
            for i in range(0, len(data), BLOCK)}


class history:
    """Per key: the last acknowledged state and the attempts made after it."""

    def __init__(self):
        self.acked: dict[str, bytes | None] = {}       # None: deleted
        self.after: dict[str, list[bytes | None]] = {}  # failed attempts since

    def attempt_failed(self, key, value):
        self.after.setdefault(key, []).append(value)

    def acknowledged(self, key, value):
        self.acked[key] = value
        self.after[key] = []

    def allowed(self, key) -> list[bytes | None]:
        return [self.acked.get(key)] + self.after.get(key, [])


@pytest.fixture(scope="module")
def c3(garage_binary, tmp_path_factory):
    c = cluster(tmp_path_factory.mktemp("cluster-faults"), zones=["a", "b", "c"],
                config_overrides={"replication_factor": 3, "sync_interval_secs": 2,
                                  "block_gc_delay_secs": 2, "upload_timeout_secs": 8})
    try:
        c.join()
        c.apply_layout()
        c.cred = c.nodes[0].key_and_bucket(BUCKET)
        yield c
    finally:
        c.close()


def test_acknowledged_writes_survive_kills_and_partitions(c3):
    rng = random.Random(4)
    h = history()
    stop = threading.Event()
    errors: list[str] = []

    def writer():
        from botocore.config import Config  # noqa: F401 (boto3 imported by client)
        s3 = client(c3, 0, c3.cred)
        keys = [f"k{i:02d}" for i in range(24)]
        while not stop.is_set():
            key = rng.choice(keys)
            if rng.random() < 0.25:
                value = None
            else:
                size = rng.choice([10, 1000, 200_000, 1_500_000, 2_300_000])
                value = os.urandom(size)
            try:
                if value is None:
                    s3.delete_object(Bucket=BUCKET, Key=key)
                else:
                    s3.put_object(Bucket=BUCKET, Key=key, Body=value)
            except Exception as e:  # a failed (unacknowledged) write
                h.attempt_failed(key, value)
                errors.append(type(e).__name__)
                time.sleep(0.2)
            else:
                h.acknowledged(key, value)

    def chaos():
        rounds = 0
        while not stop.is_set():
            c3.kill(2)
            time.sleep(2.5)
            c3.isolate(1)  # both out for a while: node 0 alone has no quorum
            time.sleep(1.5)
            c3.restart(2)
            time.sleep(2)
            c3.heal(1)
            time.sleep(1.5)
            c3.isolate(1)
            time.sleep(2)
            c3.heal(1)
            time.sleep(1)
            rounds += 1
        chaos.rounds = rounds

    threads = [threading.Thread(target=writer), threading.Thread(target=chaos)]
    for t in threads:
        t.start()
    time.sleep(40)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert chaos.rounds >= 3
    acked_puts = sum(1 for v in h.acked.values() if v is not None)
    acked_deletes = sum(1 for v in h.acked.values() if v is None)
    print(f"chaos rounds {chaos.rounds}, keys with an acknowledged put {acked_puts}, "
          f"with an acknowledged delete {acked_deletes}, failed attempts {len(errors)}")
    assert acked_puts >= 5, f"too few acknowledged writes ({len(errors)} failures)"

    # Quiet: every node up and connected, the replicas converge.
    c3.heal(1)
    if not c3.nodes[2].running():
        c3.restart(2)
    wait_for("every node sees the others", lambda: all(all(c3.view(i).values())
                                                        for i in range(3)), timeout=60)
    wait_for("the tables of the three nodes converge",
             lambda: table_roots(c3.nodes[0]) == table_roots(c3.nodes[1])
             == table_roots(c3.nodes[2]), timeout=120, every=1)

    # Every acknowledged write (or a later attempt) through every node.
    final: dict[str, bytes | None] = {}
    for i in range(3):
        s3 = client(c3, i, c3.cred)
        listed = set(keys_of(s3, BUCKET))
        for key in set(h.acked) | set(h.after):
            try:
                got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                got = None
            assert (got in h.allowed(key)), (
                f"node {i} key {key}: {None if got is None else len(got)} bytes; "
                f"acknowledged {h.acked.get(key) is not None}")
            assert (key in listed) == (got is not None), (i, key)
            if i == 0:
                final[key] = got
            else:
                assert got == final[key], f"nodes disagree on {key}"

    # Blocks: exactly those of the objects that exist, on every node (orphans
    # from failed uploads are collected after block_gc_delay_secs, aborted
    # uploads after upload_timeout_secs).
    want = set()
    for v in final.values():
        if v is not None:
            want |= blocks_of(v)
    for i in range(3):
        wait_for(f"node {i} holds exactly the live objects' blocks",
                 lambda i=i: block_files(c3.nodes[i]) == want, timeout=120, every=1)
