"""Production serving: gunicorn with gunicorn.conf.py keeps answering while slow clients send their headers a byte
at a time (the sync workers it replaced were held by two such clients for 23 s)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

from tests.helpers import start_gunicorn, stop_server
from vrp.settings import REPO_ROOT

pytestmark = pytest.mark.slow
SLOW_CLIENTS = 6


def slow_client(port: int, stop: threading.Event, opened: list) -> None:
    """Send a request's headers one byte every 0.2 s, never finishing, until told to stop."""
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n" + b"X-Padding: " + b"a" * 4000
    with socket.create_connection(("127.0.0.1", port)) as sock:
        opened.append(sock)
        for byte in request:
            if stop.wait(0.2):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return


@pytest.fixture
def gunicorn(demo_warehouse, tmp_path):
    server, port = start_gunicorn(demo_warehouse, tmp_path / "gunicorn.log")
    yield port, f"http://127.0.0.1:{port}"
    stop_server(server)


def timed_get(url: str) -> tuple[float, int, dict]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return time.perf_counter() - started, response.status, dict(response.headers)


def test_slow_clients_do_not_delay_healthz(gunicorn):
    port, base = gunicorn
    stop = threading.Event()
    opened: list = []
    clients = [
        threading.Thread(target=slow_client, args=(port, stop, opened), daemon=True) for _ in range(SLOW_CLIENTS)
    ]
    try:
        for c in clients:
            c.start()
        time.sleep(3)  # every slow client connected and trickling (and past gunicorn's 5 s idle rule soon)
        assert len(opened) == SLOW_CLIENTS
        timings = []
        for _ in range(8):
            seconds, status, headers = timed_get(base + "/healthz")
            assert status == 200
            timings.append(seconds)
            time.sleep(0.5)
        assert max(timings) < 1.0, timings
        assert all(c.is_alive() for c in clients)  # still trickling: the server was under attack throughout
        # The server says what it is, never which version.
        assert not any(ch.isdigit() for ch in headers.get("Server", ""))
    finally:
        stop.set()
        for c in clients:
            c.join(timeout=5)


def test_the_production_settings_are_threaded_workers():
    import runpy

    conf = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gthread" and conf["threads"] * conf["workers"] > SLOW_CLIENTS
    assert conf["timeout"] >= 30 and conf["keepalive"] <= 10
