"""A TCP proxy in user space that delays and cuts traffic, for WAN-like
clusters on one machine (the kernel here has no netem).

One proxy stands in front of one node's RPC port. Peers dial the proxy (it is
the node's advertised `rpc_public_addr`); the proxy tells who dialed by the
source address of the connection: every node binds a distinct loopback
address (127.0.<zone>.<n>) and uses it as the source of the connections it
makes. For a connection from another zone the proxy holds every chunk for
`delay_ms` in each direction (so a round trip costs 2 × delay_ms), order
preserved; within a zone it forwards at once. `cut(ip)` closes the
connections from that source and refuses new ones until `heal(ip)`;
`cut_all()` isolates the node.

    p = zone_proxy("127.0.1.1", 0, "127.0.1.1", node_port, my_zone="z1",
                   zone_of=lambda ip: ip.split(".")[2], delay_ms=50)
    p.start(); ...; p.close()
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable


class zone_proxy:
    def __init__(self, listen_host: str, listen_port: int, target_host: str, target_port: int,
                 *, my_zone: str, zone_of: Callable[[str], str], delay_ms: float = 0.0):
        self.listen_host, self.listen_port = listen_host, listen_port
        self.target = (target_host, target_port)
        self.my_zone = my_zone
        self.zone_of = zone_of
        self.delay_ms = delay_ms
        self._cut: set[str] = set()
        self._all_cut = False
        self._conns: dict[str, set[asyncio.StreamWriter]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.bytes_forwarded = 0

    # -- control (any thread) ---------------------------------------------
    def start(self) -> "zone_proxy":
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=10)
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def set_delay(self, delay_ms: float) -> None:
        self.delay_ms = delay_ms

    def cut(self, source_ip: str) -> None:
        self._cut.add(source_ip)
        self._run(self._drop(lambda ip: ip == source_ip))

    def heal(self, source_ip: str) -> None:
        self._cut.discard(source_ip)

    def cut_all(self) -> None:
        self._all_cut = True
        self._run(self._drop(lambda ip: True))

    def heal_all(self) -> None:
        self._all_cut = False
        self._cut.clear()

    @property
    def port(self) -> int:
        return self.listen_port

    # -- internals ----------------------------------------------------------
    def _run(self, coro) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.listen_port)
        self.listen_port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server:
            self._server.close()
        await self._drop(lambda ip: True)

    async def _drop(self, which: Callable[[str], bool]) -> None:
        for ip, writers in list(self._conns.items()):
            if which(ip):
                for w in list(writers):
                    w.transport.abort()
                writers.clear()

    def _blocked(self, ip: str) -> bool:
        return self._all_cut or ip in self._cut

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ip = writer.get_extra_info("peername")[0]
        if self._blocked(ip):
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        mine = self._conns.setdefault(ip, set())
        mine.add(writer)
        mine.add(up_writer)
        remote = self.zone_of(ip) != self.my_zone
        delay = lambda: (self.delay_ms / 1000.0) if remote else 0.0  # noqa: E731
        try:
            await asyncio.gather(self._pump(reader, up_writer, delay, ip),
                                 self._pump(up_reader, writer, delay, ip))
        finally:
            mine.discard(writer)
            mine.discard(up_writer)
            for w in (writer, up_writer):
                w.transport.abort()

    async def _pump(self, reader, writer, delay, ip) -> None:
        # Chunks are released in order, each `delay` after it arrived.
        queue: asyncio.Queue = asyncio.Queue()

        async def release():
            while True:
                item = await queue.get()
                if item is None:
                    writer.transport.abort()
                    return
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self._blocked(ip):
                    writer.transport.abort()
                    return
                writer.write(data)
                self.bytes_forwarded += len(data)
                await writer.drain()

        sender = asyncio.ensure_future(release())
        try:
            while True:
                data = await reader.read(65536)
                if not data or self._blocked(ip):
                    break
                queue.put_nowait((time.monotonic() + delay(), data))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait(None)
            try:
                await sender
            except (ConnectionError, OSError):
                pass
