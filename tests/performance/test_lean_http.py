"""The load generator's HTTP client (bench.harness.LeanHTTP), against a real HTTP/1.1 server on 127.0.0.1: what it
must get right for the benchmarks' figures to mean anything (keep-alive, bodies by length and by chunks, a server
that closes, cookies)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.harness import LeanHTTP, TransportError


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = 0  # opened by clients: one handler per connection

    def setup(self) -> None:
        Handler.connections += 1
        super().setup()

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"seats": ', b"[1, 2, 3]", b"}"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self._send(200, b"bye", Connection="close")
            self.close_connection = True
        elif self.path == "/empty":
            self._send(204, b"")
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only part")
            self.close_connection = True
        elif self.path == "/login":
            self._send(200, b"{}", Set_Cookie="sessionid=abc; Path=/; HttpOnly")
        else:
            echoed = {"path": self.path, "cookie": self.headers["Cookie"], "auth": self.headers["Authorization"]}
            self._send(200, json.dumps(echoed).encode(), Content_Type="application/json", X_Query_Count="3")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._send(201, body, Content_Type="application/json")


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    Handler.connections = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _client(server: ThreadingHTTPServer) -> LeanHTTP:
    return LeanHTTP(
        base_url=f"http://127.0.0.1:{server.server_address[1]}", headers={"Authorization": "Token t"}, timeout=5
    )


def test_requests_share_one_kept_alive_connection_and_read_bodies_by_length_and_by_chunks(server):
    client = _client(server)
    first = client.request("GET", "/one")
    posted = client.request("POST", "/orders/", json={"event_id": "e"})
    chunked = client.request("GET", "/chunked")
    empty = client.request("GET", "/empty")
    after = client.request("GET", "/two")
    assert first.status_code == 200 and first.json() == {"path": "/one", "cookie": None, "auth": "Token t"}
    assert first.headers.get("x-query-count") == "3" and first.headers.get("X-QUERY-COUNT") == "3"
    assert posted.status_code == 201 and posted.json() == {"event_id": "e"}
    assert chunked.json() == {"seats": [1, 2, 3]}
    assert empty.status_code == 204 and empty.content == b""
    assert after.json()["path"] == "/two"
    assert Handler.connections == 1
    client.close()


def test_a_connection_the_server_closes_is_replaced(server):
    client = _client(server)
    assert client.request("GET", "/close").content == b"bye"
    assert client.request("GET", "/again").json()["path"] == "/again"
    assert Handler.connections == 2
    client.close()


def test_cookies_set_by_the_server_are_sent_back(server):
    client = _client(server)
    client.request("GET", "/login")
    assert client.request("GET", "/me").json()["cookie"] == "sessionid=abc"
    client.close()


def test_an_answer_cut_short_is_a_transport_error_and_the_next_request_reconnects(server):
    client = _client(server)
    with pytest.raises(TransportError):
        client.request("GET", "/cut")
    assert client.request("GET", "/fine").json()["path"] == "/fine"
    client.close()
