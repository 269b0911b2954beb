"""The cluster layout through `garage layout ...` on one real node: show,
assign, apply, history, wrong versions, revert, zone redundancy, remove, a
restart keeps it; bad input exits 1, malformed command lines exit 2.
(Three nodes: test_layout_cluster.py.)

Run: /usr/bin/python3 -m pytest tests/integration/test_layout_cli.py
"""

from __future__ import annotations

import json
import subprocess
import time



def garage(node, *args, timeout=60) -> subprocess.CompletedProcess:
    cmd = [str(node.binary), "--admin-addr", f"127.0.0.1:{node.admin_port}",
           "--admin-token", node.admin_token, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ok(node, *args) -> str:
    p = garage(node, *args)
    assert p.returncode == 0, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stderr == ""
    return p.stdout


def ok_json(node, *args):
    return json.loads(ok(node, "--json", *args))


def fails(node, *args) -> str:
    p = garage(node, *args)
    assert p.returncode == 1, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stderr.startswith("garage: ") and p.stderr.count("\n") == 1, p.stderr
    return p.stderr


def self_id(node) -> str:
    st = node.admin("GET", "/v2/GetNodeInfo", params={"node": "self"})
    (nid,) = st["success"].keys()
    return nid


def wait_for(what, pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_single_node_layout_lifecycle(node):
    nid = self_id(node)
    out = ok(node, "layout", "show")
    assert "No nodes have a role" in out
    assert "Current cluster layout version: 0" in out
    assert ok_json(node, "layout", "show")["version"] == 0

    # Assign by a unique prefix of the node's own id.
    out = ok(node, "layout", "assign", "-z", "dc1", "-c", "10G", "-t", "fast", nid[:8])
    assert "staged" in out
    out = ok(node, "layout", "show")
    assert "STAGED ROLE CHANGES" in out
    assert nid[:16] in out and "dc1" in out and "10.0 GB" in out
    assert "garage layout apply --version 1" in out
    staged = ok_json(node, "layout", "show")["stagedRoleChanges"]
    assert staged == [{"id": nid, "zone": "dc1", "capacity": 10_000_000_000, "tags": ["fast"]}]

    # A wrong version is refused and changes nothing.
    err = fails(node, "layout", "apply", "--version", "2")
    assert "version" in err
    assert ok_json(node, "layout", "show")["version"] == 0

    out = ok(node, "layout", "apply", "--version", "1")
    assert "has been applied" in out
    lay = ok_json(node, "layout", "show")
    assert lay["version"] == 1 and lay["stagedRoleChanges"] == []
    assert [r["id"] for r in lay["roles"]] == [nid]
    assert lay["roles"][0]["storedPartitions"] == 256
    assert "dc1" in ok(node, "layout", "show")

    hist = ok_json(node, "layout", "history")
    assert hist["currentVersion"] == 1
    assert [v["version"] for v in hist["versions"]] == [1]
    out = ok(node, "layout", "history")
    assert "Current" in out and "LAYOUT HISTORY" in out

    # The same version again, and a version that skips one, fail with exit 1.
    fails(node, "layout", "apply", "--version", "1")
    fails(node, "layout", "apply", "--version", "3")

    # Stage a change, revert it.
    ok(node, "layout", "assign", "-z", "dc2", nid[:10])
    assert ok_json(node, "layout", "show")["stagedRoleChanges"][0]["zone"] == "dc2"
    assert "canceled" in ok(node, "layout", "revert")
    assert ok_json(node, "layout", "show")["stagedRoleChanges"] == []

    # Zone redundancy (RF 1: at most 1 zone).
    ok(node, "layout", "config", "-r", "1")
    assert ok_json(node, "layout", "show")["stagedParameters"] == {
        "zoneRedundancy": {"atLeast": 1}}
    fails(node, "layout", "config", "-r", "2")
    ok(node, "layout", "revert")

    # Remove: staged; applying it is refused (no storage node would be left).
    ok(node, "layout", "remove", nid[:12])
    assert ok_json(node, "layout", "show")["stagedRoleChanges"] == [{"id": nid, "remove": True}]
    assert "REMOVED" in ok(node, "layout", "show")
    fails(node, "layout", "apply", "--version", "2")
    ok(node, "layout", "revert")

    # The layout survives a restart.
    node.restart()
    lay = ok_json(node, "layout", "show")
    assert lay["version"] == 1 and lay["roles"][0]["zone"] == "dc1"


def test_bad_input_exits_1(node):
    fails(node, "layout", "assign", "-z", "dc1", "-c", "10G", "zz-not-hex")
    fails(node, "layout", "assign", "-z", "dc1", "-c", "10G", "ab" * 33)
    fails(node, "layout", "assign", "-z", "dc1", "-c", "lots", self_id(node)[:8])
    fails(node, "layout", "apply", "--version", "x")
    fails(node, "layout", "remove", "ffff" * 16)  # a node without a role
    fails(node, "layout", "config", "-r", "none")


def test_malformed_command_lines_exit_2_with_usage(node):
    for args in (["layout", "assign", "-c", "1G", "-g", "abcd"],  # capacity and gateway
                 ["layout", "assign", "abcd"],  # nothing to assign
                 ["layout", "apply"],  # no --version
                 ["layout", "config"],
                 ["layout"],
                 ["layout", "frobnicate"]):
        p = garage(node, *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("garage: ") and "sage: garage" in p.stderr, p.stderr
