"""A multi-node cluster of real `garage server` processes on one machine.

Node i of zone number z listens for RPC on its own loopback address
127.0.<z>.<n> (all of 127/8 is loopback on Linux) and dials its peers from
that address; in front of its RPC port stands a `netproxy.zone_proxy`, and
that proxy's address is what the node advertises (`rpc_public_addr`). So
every RPC byte between two nodes crosses the receiver's proxy, which knows
the sender's zone by its source address and can delay it (WAN latency
between zones, none inside a zone) or cut it (partitions). S3 and admin
ports stay on 127.0.0.1 with no proxy: a client is next to its node.

    c = cluster(tmp_path, zones=["a", "b", "c"], delay_ms=50)
    c.join(); c.apply_layout()
    c.kill(1); c.restart(1); c.isolate(2); c.heal(2)
    c.close()
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import harness
from netproxy import zone_proxy

SECRET = "c1" * 32


def wait_for(what, pred, timeout=30.0, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(every)
    raise AssertionError(f"not within {timeout}s: {what}")


class cluster:
    def __init__(self, base: Path, zones: list[str], *, delay_ms: float = 0.0,
                 capacity: str = "1G", config_overrides: dict | None = None):
        self.base = Path(base)
        self.zones = zones
        self.capacity = capacity
        zone_numbers = {z: i + 1 for i, z in enumerate(dict.fromkeys(zones))}
        self.ips: list[str] = []
        per_zone: dict[str, int] = {}
        for z in zones:
            per_zone[z] = per_zone.get(z, 0) + 1
            self.ips.append(f"127.0.{zone_numbers[z]}.{per_zone[z]}")
        self.proxies: list[zone_proxy] = []
        self.nodes: list[harness.garage_node] = []
        for i, (z, ip) in enumerate(zip(zones, self.ips)):
            n = harness.garage_node(self.base / f"node{i}", start=False)
            p = zone_proxy(ip, 0, ip, n.rpc_port, my_zone=ip.split(".")[2],
                           zone_of=lambda a: a.split(".")[2], delay_ms=delay_ms).start()
            n.config_overrides.update({
                "rpc_secret": SECRET,
                "rpc_bind_addr": f"{ip}:{n.rpc_port}",
                "rpc_public_addr": f"{ip}:{p.port}",
                **(config_overrides or {}),
            })
            self.proxies.append(p)
            self.nodes.append(n)
        for n in self.nodes:
            n.start()
        self.ids = [self.node_id(i) for i in range(len(self.nodes))]

    # -- CLI and admin ------------------------------------------------------
    def garage(self, i: int, *args, timeout: float = 60, check: bool = True) -> str:
        n = self.nodes[i]
        cmd = [str(n.binary), "--admin-addr", f"127.0.0.1:{n.admin_port}",
               "--admin-token", n.admin_token, *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"garage {' '.join(args)} on node {i}: {p.returncode}\n"
                                 f"{p.stdout}\n{p.stderr}")
        return p.stdout

    def node_id(self, i: int) -> str:
        st = self.nodes[i].admin("GET", "/v2/GetNodeInfo", params={"node": "self"})
        (nid,) = st["success"].keys()
        return nid

    def address(self, i: int) -> str:
        return f"{self.ids[i]}@{self.ips[i]}:{self.proxies[i].port}"

    def view(self, i: int) -> dict[str, bool]:
        """node id -> is up, as node i sees the cluster."""
        st = self.nodes[i].admin("GET", "/v2/GetClusterStatus")
        return {n["id"]: n["isUp"] for n in st["nodes"]}

    def layout_version(self, i: int) -> int:
        return json.loads(self.garage(i, "--json", "layout", "show"))["version"]

    # -- cluster operations -------------------------------------------------
    def join(self, timeout: float = 60) -> None:
        for i in range(1, len(self.nodes)):
            self.garage(0, "node", "connect", self.address(i))
        everyone = set(self.ids)
        for i in range(len(self.nodes)):
            wait_for(f"node {i} sees every node up",
                     lambda i=i: set(self.view(i)) >= everyone and
                     all(self.view(i)[n] for n in everyone), timeout=timeout)

    def apply_layout(self, timeout: float = 60) -> int:
        for i, z in enumerate(self.zones):
            self.garage(0, "layout", "assign", self.ids[i][:16], "-z", z, "-c", self.capacity)
        version = self.layout_version(0) + 1
        self.garage(0, "layout", "apply", "--version", str(version))
        for i in range(len(self.nodes)):
            wait_for(f"node {i} has layout version {version}",
                     lambda i=i: self.layout_version(i) >= version, timeout=timeout)
        return version

    def kill(self, i: int) -> None:
        self.nodes[i].kill9()

    def stop(self, i: int) -> None:
        self.nodes[i].stop()

    def restart(self, i: int) -> None:
        if self.nodes[i].running():
            self.nodes[i].restart()
        else:
            self.nodes[i].start()

    def isolate(self, i: int) -> None:
        """Cuts every RPC link of node i (both directions); S3 still reaches it."""
        self.proxies[i].cut_all()
        for j, p in enumerate(self.proxies):
            if j != i:
                p.cut(self.ips[i])

    def heal(self, i: int) -> None:
        self.proxies[i].heal_all()
        for j, p in enumerate(self.proxies):
            if j != i:
                p.heal(self.ips[i])

    def set_delay(self, delay_ms: float) -> None:
        for p in self.proxies:
            p.set_delay(delay_ms)

    def close(self) -> None:
        for n in self.nodes:
            n.close()
        for p in self.proxies:
            p.close()
