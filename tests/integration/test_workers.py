"""Background workers end to end: `garage worker list | info | get | set` and the
admin API worker endpoints against a real node, which runs its maintenance and
lifecycle passes as workers.

Run: /usr/bin/python3 -m pytest tests/integration/test_workers.py
(GARAGE_BIN points at the binary; default build/node/src/garage/garage).
"""

from __future__ import annotations

import json
import subprocess
import time

import requests

# Maintenance every second (the GC delay), lifecycle checks every second.
NODE_CONFIG = {"block_gc_delay_secs": 1, "lifecycle_interval_secs": 2}


def garage(node, *args, timeout=60) -> subprocess.CompletedProcess:
    cmd = [str(node.binary), "--admin-addr", f"127.0.0.1:{node.admin_port}",
           "--admin-token", node.admin_token, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ok(node, *args) -> str:
    p = garage(node, *args)
    assert p.returncode == 0, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stderr == ""
    return p.stdout


def fails(node, *args, code=1) -> str:
    p = garage(node, *args)
    assert p.returncode == code, f"garage {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert "Traceback" not in p.stderr and "terminate called" not in p.stderr
    assert p.stderr.startswith("garage: "), p.stderr
    return p.stderr


def workers(node) -> dict[str, dict]:
    """This node's workers by name, from `garage --json worker list`."""
    doc = json.loads(ok(node, "--json", "worker", "list"))
    assert doc["error"] == {}
    (mine,) = doc["success"].values()
    return {w["name"]: w for w in mine}


def info_fields(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out


def test_list_shows_maintenance_and_lifecycle(node):
    out = ok(node, "worker", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "Name", "State", "Tranq", "Queue", "Errors", "Last", "error"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert {"maintenance", "lifecycle"} <= rows.keys(), out
    assert rows["maintenance"][3:6] == ["0", "-", "0"], out  # tranquility, queue, errors
    ws = workers(node)
    for name in ("maintenance", "lifecycle"):
        w = ws[name]
        assert w["state"] in ("idle", "busy"), w
        assert w["errors"] == 0 and w["consecutiveErrors"] == 0 and w["lastError"] is None, w
        assert w["tranquility"] == 0
    assert ws["maintenance"]["id"] != ws["lifecycle"]["id"]
    # errorOnly: these two have not failed.
    doc = json.loads(ok(node, "--json", "worker", "list", "--errors"))
    (failed,) = doc["success"].values()
    assert not {"maintenance", "lifecycle"} & {w["name"] for w in failed}, failed


def test_workers_run_their_passes(node):
    """Each pass is a step: the count grows and progress is the last pass's summary."""
    deadline = time.time() + 15
    while True:
        ws = workers(node)
        m, lc = ws["maintenance"], ws["lifecycle"]
        if m["steps"] >= 3 and lc["steps"] >= 3 and m["progress"] and lc["progress"]:
            break
        assert time.time() < deadline, ws
        time.sleep(0.5)
    assert m["progress"].startswith("last pass: "), m
    assert "buckets processed" in lc["progress"], lc
    fields = info_fields(ok(node, "worker", "info", "maintenance"))
    assert fields["Name"] == "maintenance"
    assert fields["Progress"].startswith("last pass: ")
    assert fields["Errors"] == "0" and fields["Last error"] == "-"


def test_set_tranquility_then_see_it(node):
    ws = workers(node)
    mid, lid = ws["maintenance"]["id"], ws["lifecycle"]["id"]
    out = ok(node, "worker", "set", "maintenance", "tranquility", "7")
    assert out == f"Worker {mid} (maintenance): tranquility set to 7.\n"
    assert info_fields(ok(node, "worker", "info", str(mid)))["Tranquility"] == "7"
    ok(node, "worker", "set", str(lid), "tranquility", "2")
    assert workers(node)["lifecycle"]["tranquility"] == 2
    # Garage's form: a node-wide variable per worker.
    ok(node, "worker", "set", "lifecycle-tranquility", "3")
    lines = ok(node, "worker", "get").splitlines()
    assert lines[0].split() == ["Variable", "Value"]
    got = dict(line.rsplit(None, 1) for line in lines[1:])
    assert got["lifecycle-tranquility"] == "3" and got["maintenance-tranquility"] == "7", lines
    doc = json.loads(ok(node, "--json", "worker", "get", "lifecycle-tranquility"))
    assert list(doc["success"].values()) == [{"lifecycle-tranquility": "3"}]
    # The same through the admin API.
    r = node.admin("POST", "/v2/SetWorkerVariable",
                   json={"name": "maintenance", "variable": "tranquility", "value": "0"})
    assert list(r["success"].values())[0]["value"] == "0"
    r = node.admin("POST", "/v2/GetWorkerInfo", json={"id": mid}, params={"node": "self"})
    assert list(r["success"].values())[0]["tranquility"] == 0
    ok(node, "worker", "set", "lifecycle", "tranquility", "0")


def test_errors_exit_non_zero_and_change_nothing(node):
    before = {n: w["tranquility"] for n, w in workers(node).items()}
    err = fails(node, "worker", "info", "999")
    assert "no worker 999" in err and "NoSuchWorker" in err, err
    err = fails(node, "worker", "info", "nosuch")
    assert "no worker named 'nosuch'" in err, err
    err = fails(node, "worker", "set", "nosuch", "tranquility", "1")
    assert "NoSuchWorker" in err, err
    for bad in (["1001"], ["abc"], ["1.5"], ["--", "-1"]):
        err = fails(node, "worker", "set", "maintenance", "tranquility", *bad)
        assert "give an integer from 0 to 1000" in err and "InvalidRequest" in err, err
    err = fails(node, "worker", "set", "speed-tranquility", "1")
    assert "unknown worker variable" in err, err
    err = fails(node, "worker", "set", "maintenance", "speed", "1", code=2)
    assert "unknown variable 'speed'" in err, err
    fails(node, "worker", "frobnicate", code=2)
    assert {n: w["tranquility"] for n, w in workers(node).items()} == before

    headers = {"Authorization": f"Bearer {node.admin_token}"}
    url = node.admin_endpoint + "/v2/"
    r = requests.post(url + "ListWorkers", data=b'{"busyOnly": ', headers=headers, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "InvalidRequest"
    r = requests.post(url + "GetWorkerInfo", json={}, headers=headers, timeout=10)
    assert r.status_code == 400 and "id" in r.json()["message"]
    r = requests.post(url + "GetWorkerInfo", json={"id": 999}, headers=headers, timeout=10)
    assert r.status_code == 404 and r.json()["code"] == "NoSuchWorker"
    r = requests.get(url + "ListWorkers", headers=headers, timeout=10)
    assert r.status_code == 405
    r = requests.post(url + "ListWorkers", json={}, timeout=10)
    assert r.status_code == 401
