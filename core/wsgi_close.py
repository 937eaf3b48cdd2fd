"""Close a keep-alive connection honestly when the application answered without reading the whole request body.

The unread rest of the body is still on the connection, in front of the client's next request. gunicorn drains a
little of it (64 KiB) after the response and, when it cannot, drops the connection, but only after it has already
announced ``Connection: keep-alive``: the client sends its next request into a closed socket and gets no answer.
This WSGI wrapper counts what the application read; when the response starts with part of the body unread, it asks
the server to close, so the response itself says ``Connection: close``. (An application may not send a Connection
header itself, PEP 3333; gunicorn's own response object is the start_response's owner and offers ``force_close``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class _CountingInput:
    """``wsgi.input`` that remembers how many bytes the application read."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read() if size is None or size < 0 else self._stream.read(size)
        self.consumed += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline() if size is None or size < 0 else self._stream.readline(size)
        self.consumed += len(data)
        return data

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines = self._stream.readlines() if hint is None or hint < 0 else self._stream.readlines(hint)
        self.consumed += sum(len(line) for line in lines)
        return lines

    def __iter__(self):
        for line in self._stream:
            self.consumed += len(line)
            yield line


def close_after_unread_body(application: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return application(environ, start_response)
        counting = _CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = counting

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            if counting.consumed < length:
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if force_close is not None:
                    force_close()
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return application(environ, start)

    return wrapped
