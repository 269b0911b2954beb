"""The user-space WAN proxy used by the cluster tests: delay only across
zones, order preserved, cuts close and refuse connections."""
import socket
import threading
import time

import pytest

from netproxy import zone_proxy


def _echo_server():
    srv = socket.socket()
    srv.bind(("127.0.1.1", 0))
    srv.listen(16)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return

            def echo(c=c):
                with c:
                    while True:
                        try:
                            d = c.recv(65536)
                        except OSError:
                            return
                        if not d:
                            return
                        c.sendall(d)
            threading.Thread(target=echo, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv


def _dial(src_ip, port):
    s = socket.socket()
    s.bind((src_ip, 0))
    s.settimeout(5)
    s.connect(("127.0.1.1", port))
    return s


def _round_trip(s, payload=b"x" * 100):
    t0 = time.monotonic()
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    assert got == payload
    return time.monotonic() - t0


@pytest.fixture
def proxy():
    srv = _echo_server()
    p = zone_proxy("127.0.1.1", 0, "127.0.1.1", srv.getsockname()[1], my_zone="1",
                   zone_of=lambda ip: ip.split(".")[2], delay_ms=40).start()
    yield p
    p.close()
    srv.close()


def test_delay_applies_across_zones_only(proxy):
    near = _dial("127.0.1.2", proxy.port)
    far = _dial("127.0.2.1", proxy.port)
    near_rtt = min(_round_trip(near) for _ in range(3))
    far_rtt = min(_round_trip(far) for _ in range(3))
    assert far_rtt >= 0.080, far_rtt  # 40 ms each way
    assert near_rtt < 0.040, near_rtt
    big = bytes(range(256)) * 4096  # 1 MiB, order must survive chunking
    assert _round_trip(far, big) >= 0.080


def test_cut_closes_and_refuses_until_healed(proxy):
    s = _dial("127.0.3.1", proxy.port)
    _round_trip(s)
    proxy.cut("127.0.3.1")
    with pytest.raises((ConnectionError, OSError)):
        _round_trip(s)
        _round_trip(s)
    other = _dial("127.0.2.1", proxy.port)
    _round_trip(other)  # other sources unaffected
    with pytest.raises((ConnectionError, OSError)):
        _round_trip(_dial("127.0.3.1", proxy.port))
    proxy.heal("127.0.3.1")
    _round_trip(_dial("127.0.3.1", proxy.port))
