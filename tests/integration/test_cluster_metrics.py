"""Replication metrics on /metrics of a three-node cluster (replication factor 3).

- after a PutObject through node 0: the table series (quorum writes, reads,
  anti-entropy rounds), the block resync series, the worker series and the
  cluster health series exist and move: 3 nodes connected, 256 partitions
  with every replica up and with a write quorum, GetClusterHealth agrees;
- one node killed: node 0 sees 2 nodes connected, no partition keeps every
  replica up (each node holds every partition), all 256 keep a write
  quorum; the cluster is "degraded" (available, not healthy).

Run: /usr/bin/python3 -m pytest tests/integration/test_cluster_metrics.py
"""

from __future__ import annotations

import pytest

import harness
from cluster import cluster, wait_for

BUCKET = "metrics"


@pytest.fixture(scope="module")
def c3(garage_binary, tmp_path_factory):
    c = cluster(tmp_path_factory.mktemp("cluster-metrics"), zones=["a", "b", "c"],
                config_overrides={"replication_factor": 3, "sync_interval_secs": 3})
    try:
        c.join()
        c.apply_layout()
        c.cred = c.nodes[0].key_and_bucket(BUCKET)
        yield c
    finally:
        c.close()


def series(node: harness.garage_node) -> dict[str, dict[str, float]]:
    """metric name -> {labels: value}, from one scrape."""
    out: dict[str, dict[str, float]] = {}
    for line in node.metrics().splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, val = line.rpartition(" ")
        name, _, labels = head.partition("{")
        out.setdefault(name, {})["{" + labels if labels else ""] = float(val)
    return out


def one(s: dict, name: str) -> float:
    (v,) = s[name].values()
    return v


def maybe(s: dict, name: str, **labels: str) -> float:
    """The value of the one matching sample, -1 when absent (not refreshed yet)."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    hits = [v for lab, v in s.get(name, {}).items() if all(w in lab for w in want)]
    return hits[0] if len(hits) == 1 else -1.0


def labelled(s: dict, name: str, **labels: str) -> float:
    want = [f'{k}="{v}"' for k, v in labels.items()]
    hits = [v for lab, v in s.get(name, {}).items() if all(w in lab for w in want)]
    assert len(hits) == 1, (name, labels, s.get(name))
    return hits[0]


def test_series_exist_and_move_after_a_put(c3):
    node = c3.nodes[0]
    before = series(node)
    s3 = harness.credentials(node, c3.cred.access_key_id,
                             c3.cred.secret_access_key).boto3_client()
    s3.put_object(Bucket=BUCKET, Key="a.bin", Body=b"x" * 200_000)
    assert s3.get_object(Bucket=BUCKET, Key="a.bin")["Body"].read() == b"x" * 200_000
    puts0 = before.get("garage_table_puts", {}).get('{table="object"}', 0.0)

    def moved():
        s = series(node)
        return (maybe(s, "garage_table_puts", table="object") > puts0
                and maybe(s, "garage_table_sync_rounds", table="object") > 0
                and maybe(s, "garage_cluster_connected_nodes") == 3)
    wait_for("object puts and sync rounds counted", moved, timeout=30, every=1)

    s = series(node)
    got = {lab.split('"')[1] for lab in s["garage_table_puts"]}
    assert got >= {"object", "version", "block_ref"}, got
    assert len(got) == 7, got
    assert labelled(s, "garage_table_gets", table="object") > 0  # the GetObject
    for name in ("garage_table_get_errors", "garage_table_put_errors",
                 "garage_table_read_repairs", "garage_table_sync_items_pushed",
                 "garage_table_sync_items_offloaded", "garage_table_sync_errors",
                 "garage_table_merkle_pending", "garage_table_entries"):
        assert len(s[name]) == len(got), name
    assert labelled(s, "garage_table_entries", table="object") >= 1
    assert labelled(s, "garage_table_put_errors", table="object") == 0
    for name in ("garage_table_insert_queue_length", "garage_block_resync_queue_length",
                 "garage_block_resync_fetched", "garage_block_resync_offloaded",
                 "garage_block_resync_errors", "garage_block_scrub_checked",
                 "garage_block_scrub_corrupted", "garage_block_scrub_missing"):
        assert one(s, name) >= 0, name
    assert one(s, "garage_block_scrub_corrupted") == 0
    # Workers: one state set to 1 per worker, queue lengths for those with a queue.
    assert labelled(s, "garage_worker_state", worker="table sync", state="idle") + \
        labelled(s, "garage_worker_state", worker="table sync", state="busy") == 1
    assert labelled(s, "garage_worker_errors", worker="block resync") >= 0
    assert 'worker="block resync"' in "".join(s["garage_worker_queue_length"])
    # Cluster health: everyone up.
    assert one(s, "garage_cluster_known_nodes") == 3
    assert one(s, "garage_cluster_storage_nodes") == 3
    assert one(s, "garage_cluster_storage_nodes_ok") == 3
    assert one(s, "garage_cluster_partitions") == 256
    assert one(s, "garage_cluster_partitions_quorum") == 256
    assert one(s, "garage_cluster_partitions_all_ok") == 256
    assert one(s, "garage_cluster_healthy") == 1
    assert one(s, "garage_cluster_available") == 1
    assert one(s, "garage_cluster_layout_version") >= 1
    # RPC per peer: the other two nodes, with calls and latency.
    assert len(s["garage_rpc_peer_calls"]) >= 2
    assert sum(s["garage_rpc_peer_latency_seconds_sum"].values()) > 0
    h = node.admin("GET", "/v2/GetClusterHealth")
    assert h["status"] == "healthy"
    assert (h["storageNodes"], h["storageNodesOk"]) == (3, 3)
    assert h["partitions"] == h["partitionsQuorum"] == h["partitionsAllOk"] == 256


def test_a_killed_node_degrades_health_but_keeps_the_quorum(c3):
    node = c3.nodes[0]
    c3.kill(2)

    def degraded():
        s = series(node)
        return (maybe(s, "garage_cluster_connected_nodes") == 2
                and maybe(s, "garage_cluster_partitions_all_ok") == 0)
    wait_for("node 0 sees node 2 down in its metrics", degraded, timeout=45, every=1)
    s = series(node)
    assert one(s, "garage_cluster_known_nodes") == 3
    assert one(s, "garage_cluster_storage_nodes_ok") == 2
    assert one(s, "garage_cluster_partitions_quorum") == 256
    assert one(s, "garage_cluster_healthy") == 0
    assert one(s, "garage_cluster_available") == 1
    h = node.admin("GET", "/v2/GetClusterHealth")
    assert h["status"] == "degraded"
    assert h["connectedNodes"] == 2 and h["storageNodesOk"] == 2
    assert h["partitionsQuorum"] == 256 and h["partitionsAllOk"] == 0
    # Writes still go through, and the anti-entropy counts its failures
    # towards the dead node.
    s3 = harness.credentials(node, c3.cred.access_key_id,
                             c3.cred.secret_access_key).boto3_client()
    s3.put_object(Bucket=BUCKET, Key="b.txt", Body=b"still writable")
    wait_for("sync errors counted for the dead node",
             lambda: maybe(series(node), "garage_table_sync_errors", table="object") > 0,
             timeout=30, every=1)
