"""A response that leaves the request body unread closes the connection honestly: it says `Connection: close` and
the server closes, instead of announcing keep-alive and then not answering the next request on that connection.

A raw keep-alive HTTP/1.1 client against the real gunicorn (gthread workers, as in production).
"""

from __future__ import annotations

import socket

import pytest

from bench import harness
from core.databases import ALL_DATABASES


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes] | None:
    """One HTTP/1.1 response (Content-Length framed), or None when the server closed without answering."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def _request(method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _send_all(sock: socket.socket, payload: bytes) -> None:
    try:
        sock.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the whole body is sent; what counts is what it answered


CASES = {
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE: refused from the Content-Length alone, the body never read.
    "413 for a body over the limit": (
        "/api/v1/auth/token/",
        b"x" * 3_000_000,
        {"Content-Type": "application/json"},
        413,
    ),
    # Under the limit, but authentication fails before the view parses the body.
    "401 on a 1 MB body": (
        "/api/v1/wallet/topups/",
        b"{" + b" " * 1_000_000 + b"}",
        {"Content-Type": "application/json", "Authorization": "Token 0000000000000000000000000000000000000000"},
        401,
    ),
}


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_response_that_leaves_the_body_unread_closes_the_connection_honestly():
    with harness.Server(port=harness.free_port(), workers=1, threads=2) as server:
        for name, (path, body, headers, expected) in CASES.items():
            with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
                _send_all(sock, _request("POST", path, body=body, headers=headers))
                first = _read_response(sock)
                assert first is not None and first[0] == expected, (name, first)
                assert first[1].get("connection", "").lower() == "close", (name, first[1])
                # The server keeps its word: the connection ends (no answer will ever come on it).
                _send_all(sock, _request("GET", "/livez"))
                assert _read_response(sock) is None, name

        # A request whose body was read keeps the connection alive: the next request is answered on it.
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            for _ in range(2):
                sock.sendall(
                    _request("POST", "/api/v1/auth/token/", body=b"{}", headers={"Content-Type": "application/json"})
                )
                answer = _read_response(sock)
                assert answer is not None and answer[0] == 400
                assert answer[1].get("connection", "keep-alive").lower() != "close"
