"""A cheap poll generator: ``--rate`` GETs a second of one URL on 127.0.0.1, over ``--connections`` keep-alive
connections, for ``--seconds``; prints one JSON line (polls sent, 200 answers, other answers, its own CPU seconds).

    .venv/bin/python -m bench.status_poller --port 8080 --path /waiting-room-status/<id>.json --rate 2000 --seconds 60

It stands for 20,000 waiting buyers polling every 10 s (2,000 polls/s). Plain asyncio with a raw protocol, no HTTP
library: every 10 ms a timer writes the next slice of requests to connections that are not waiting for an answer,
and answers are counted by their status line. So the generator's own CPU stays small next to the server's (it is
reported, and on this two-core machine it competes with the server like any other client would not in production).
A poll that finds all connections busy is counted as ``skipped`` (the server is not keeping up). SIGTERM ends it early,
with the report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time

TICK_SECONDS = 0.01


class PollConnection(asyncio.Protocol):
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.tail = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.counts["lost"] += 1

    def data_received(self, data: bytes) -> None:
        # A status line per answer; keep the last bytes in case a status line is split between two reads.
        text = self.tail + data
        ok = text.count(b"HTTP/1.1 200 ")
        answers = text.count(b"HTTP/1.1 ")
        if answers:
            self.busy = False
            self.counts["ok"] += ok
            self.counts["other"] += answers - ok
            self.tail = b""
        else:
            self.tail = text[-16:]

    def send(self, request: bytes) -> bool:
        if self.busy or self.transport is None:
            return False
        self.busy = True
        self.transport.write(request)
        return True


async def poll(port: int, path: str, rate: float, connections: int, seconds: float) -> dict:
    loop = asyncio.get_running_loop()
    counts = {"sent": 0, "skipped": 0, "ok": 0, "other": 0, "lost": 0}
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
    pool = []
    for _ in range(connections):
        _transport, protocol = await loop.create_connection(lambda: PollConnection(counts), "127.0.0.1", port)
        pool.append(protocol)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)  # stopped early: still report what was done
    cpu_started, started = time.process_time(), time.monotonic()
    owed = 0.0
    next_index = 0
    while (elapsed := time.monotonic() - started) < seconds and not stop.is_set():
        owed = rate * elapsed - counts["sent"] - counts["skipped"]
        for _ in range(int(owed)):
            for _attempt in range(len(pool)):
                connection = pool[next_index]
                next_index = (next_index + 1) % len(pool)
                if connection.send(request):
                    counts["sent"] += 1
                    break
            else:
                counts["skipped"] += 1
        await asyncio.sleep(TICK_SECONDS)
    await asyncio.sleep(0.5)  # the last answers
    wall = time.monotonic() - started
    for connection in pool:
        if connection.transport is not None:
            connection.transport.close()
    return {
        **counts,
        "seconds": round(wall, 2),
        "polls_per_second": round(counts["ok"] / wall, 1),
        "generator_cpu_s": round(time.process_time() - cpu_started, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--rate", type=float, default=2000.0, help="polls per second (default: 20,000 every 10 s)")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    options = parser.parse_args()
    result = asyncio.run(poll(options.port, options.path, options.rate, options.connections, options.seconds))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
