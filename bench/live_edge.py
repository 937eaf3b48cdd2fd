"""What 1,000 open seat maps cost through the production edge (deploy/templates/nginx.conf in front of gunicorn):
at idle, and during an on-sale of the event they watch, against the same on-sale without watchers.

    .venv/bin/python -m bench.live_edge [--transport sse|poll] [--maps 1000] [--idle-seconds 30] [--size small]

Fresh databases of its own (like ``bench.run``), the benchmark's people and three stadium events; gunicorn as
``bench.run`` starts it; nginx from the real template (``bench.edge``). The maps are simulated in a separate process:
asyncio, one TLS keep-alive connection per map, at random phases, each doing what static/js/seatmap.js does:

* ``--transport sse`` (what pages do behind the edge): one catch-up poll of ``/events/<id>/changes/``, then one
  server-sent-events stream of the hot section on the same connection, fed by ``manage.py publish_seat_changes``
  (started here, its CPU counted as the server's); a message that does not follow on from the map's version costs
  one more poll.
* ``--transport poll``: ``/events/<id>/changes/`` every ``poll_seconds`` (the answer says 1 s) with the version of
  its last answer, from nginx's half-second cache.

Server CPU is user + system time from /proc of nginx (master and worker), the gunicorn workers, this run's
PostgreSQL backends and the live feed; the maps' own CPU is reported apart (on this 2-core machine they compete with
the server). Then three on-sales of ``bench.run``'s scenario, each on its own event: without watchers, with the
1,000 maps watching that event's hot section, and without again (the spread of the two says how noisy the machine
is).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import secrets
import selectors
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import harness
from bench.edge import Edge
from bench.run import warm_up

# --- The simulated maps (own process, no Django) ---------------------------------------------------------------------
_LENGTH = re.compile(rb"\r\nContent-Length: (\d+)", re.IGNORECASE)
_CACHE = re.compile(rb"\r\nX-Cache-Status: (\w+)", re.IGNORECASE)
_VERSION = re.compile(rb'"version": ?(\d+)')
_POLL = re.compile(rb'"poll_seconds": ?([\d.]+)')
_SINCE = re.compile(rb'"since": ?(\d+)')
_LATENCY = ((0.01, "<10 ms"), (0.1, "<100 ms"), (0.6, "<600 ms"), (1.1, "<1.1 s"), (float("inf"), ">1.1 s"))


async def _one_map(port: int, context: ssl.SSLContext, path: str, since: int, stop: list, tally: Counter) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    await asyncio.sleep(random.random())  # noqa: S311 - the maps were opened at different moments
    poll_seconds = 1.0
    try:
        while time.monotonic() < stop[0]:
            started = time.monotonic()
            writer.write(f"GET {path}{since} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(int(_LENGTH.search(head).group(1)))
            status = head[9:12].decode()
            tally[f"status {status}"] += 1
            waited = time.monotonic() - started
            tally["answered in " + next(label for limit, label in _LATENCY if waited < limit)] += 1
            if status != "200":
                await asyncio.sleep(poll_seconds)
                continue
            cache = _CACHE.search(head)
            tally[f"cache {cache.group(1).decode() if cache else '-'}"] += 1
            # Little parsing in the load generator: the version and the interval, and a count of the seats.
            tally["seats reported"] += body.count(b'"status"')
            since = int(_VERSION.search(body).group(1))
            poll_seconds = float(_POLL.search(body).group(1))
            await asyncio.sleep(max(0.0, poll_seconds - (time.monotonic() - started)))
    finally:
        writer.close()


def _poll_once(sock: ssl.SSLSocket, path: str, since: int, tally: Counter) -> int:
    """One poll of the changes on a blocking connection: returns the answer's read_at."""
    sock.sendall(f"GET {path}{since} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    while len(body) < int(_LENGTH.search(head).group(1)):
        body += sock.recv(65536)
    tally[f"catch-up status {head[9:12].decode()}"] += 1
    return json.loads(body)["read_at"]


def _connect(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname="127.0.0.1")


class _Stream:
    """One map's stream: the version it holds, what it has read but not parsed, how many messages it got."""

    __slots__ = ("buffer", "received", "sock", "version")

    def __init__(self, sock: ssl.SSLSocket, version: int) -> None:
        self.sock, self.version, self.buffer, self.received = sock, version, b"", 0


def _streams(port: int, cafile: str, path: str, maps: int, seconds: float, stop_event) -> Counter:
    """``maps`` maps subscribed as static/js/seatmap.js subscribes: a catch-up poll, then the section's stream on the
    same connection; a message that does not follow on from the map's version costs a poll on a new connection.

    One thread and a selector over plain TLS sockets (the reads and the decryption in C), so that the load process
    costs as little as the 1,000 phones it stands for would cost this machine: asyncio's TLS streams cost several
    times more Python per message."""
    poll_path, stream_path = path.split("|")
    context = ssl.create_default_context(cafile=cafile)
    tally: Counter = Counter()
    since = int(time.time()) * 1000
    selector = selectors.DefaultSelector()
    streams = []
    opened_by = time.monotonic() + 1.0  # opened over a second, at different moments
    for number in range(maps):
        time.sleep(max(0.0, opened_by - (maps - number) / maps - time.monotonic()))
        sock = _connect(port, context)
        version = _poll_once(sock, poll_path, since, tally)
        sock.sendall(f"GET {stream_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        stream = _Stream(sock, version)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, stream)
        streams.append(stream)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and not stop_event.is_set():
        for key, _events in selector.select(timeout=0.2):
            stream = key.data
            try:
                while True:  # drain what TLS has decrypted
                    chunk = stream.sock.recv(262144)
                    if not chunk:
                        tally["stream closed"] += 1
                        selector.unregister(stream.sock)
                        break
                    stream.buffer += chunk
            except ssl.SSLWantReadError:
                pass
            *events, stream.buffer = stream.buffer.split(b"\n\n")
            for event in events:
                if event.startswith(b"HTTP/1.1 "):
                    tally[f"stream status {event[9:12].decode()}"] += 1
                    continue
                start = event.find(b"data: ")
                if start < 0:
                    continue  # a comment or a ping
                # Little parsing in the load generator: the versions (at the front), and a count of the seats.
                front = event[start : start + 160]
                message_since, message_version = (
                    int(_SINCE.search(front).group(1)),
                    int(_VERSION.search(front).group(1)),
                )
                # From the feed's read of the seats to this map: what "within 2 s" means for a pushed change.
                late = time.time() - message_version / 1000
                tally["delivered in " + next(label for limit, label in _LATENCY if late < limit)] += 1
                tally["messages"] += 1
                tally["seats reported"] += event.count(b'"status"')
                stream.received += 1
                if message_since > stream.version:
                    tally["gaps"] += 1
                    catch_up = _connect(port, context)
                    stream.version = _poll_once(catch_up, poll_path, stream.version, tally)
                    catch_up.close()
                stream.version = max(stream.version, message_version)
    # Every map of the section must get every message, however slowly this process reads.
    tally["fewest messages a map got"] = min(stream.received for stream in streams)
    tally["most messages a map got"] = max(stream.received for stream in streams)
    for stream in streams:
        stream.sock.close()
    return tally


async def _maps(port: int, cafile: str, path: str, maps: int, seconds: float, stop_event) -> Counter:
    context = ssl.create_default_context(cafile=cafile)
    tally: Counter = Counter()
    since = int(time.time()) * 1000
    stop = [time.monotonic() + seconds]

    async def watch_stop() -> None:
        while time.monotonic() < stop[0]:
            if stop_event.is_set():
                stop[0] = 0.0
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch_stop())
    tasks = [asyncio.create_task(_one_map(port, context, path, since, stop, tally)) for _ in range(maps)]
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, Exception):
            tally[f"error {type(outcome).__name__}"] += 1
    await watcher
    return tally


def _maps_process(port: int, cafile: str, path: str, maps: int, seconds: float, stop_event, results) -> None:
    # By default the maps run ahead of the server (root only), so they keep their pace and load it as 1,000 real
    # ones would; `--maps-nice 0` lets them compete with the server as equals, `10` puts them behind it.
    with contextlib.suppress(OSError):
        os.nice(int(os.environ.get("BENCH_MAPS_NICE", "-10")))
    started = time.process_time()
    if "|" in path:  # "<changes path>|<stream path>": subscribe, as pages behind the edge do
        tally = _streams(port, cafile, path, maps, seconds, stop_event)
    else:
        tally = asyncio.run(_maps(port, cafile, path, maps, seconds, stop_event))
    tally["cpu ms"] = round((time.process_time() - started) * 1000)
    results.put(dict(tally))


class Watchers:
    """``maps`` open maps of one section, polling through the edge until ``seconds`` have passed or stop()."""

    def __init__(self, edge: Edge, path: str, *, maps: int, seconds: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.results, self.stop_event = context.Queue(), context.Event()
        self.process = context.Process(
            target=_maps_process,
            args=(edge.https_port, str(edge.cert), path, maps, seconds, self.stop_event, self.results),
        )

    def __enter__(self) -> Watchers:
        self.process.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_event.set()
        self.tally = self.results.get(timeout=120)
        self.process.join(timeout=30)


# --- Server CPU -----------------------------------------------------------------------------------------------------
FEED: list[subprocess.Popen] = []


def _server_cpu(server: harness.Server, edge: Edge) -> dict[str, float]:
    from bench.scenarios import _cpu_seconds, _postgres_backends

    return {
        "nginx": sum(_cpu_seconds(pid) for pid in edge.pids()),
        "django": sum(_cpu_seconds(pid) for pid in server.worker_pids()),
        "postgres": sum(_cpu_seconds(pid) for pid in _postgres_backends()),
        "feed": sum(_cpu_seconds(process.pid) for process in FEED),
    }


@contextlib.contextmanager
def live_feed(edge: Edge, env: dict[str, str]):
    """``manage.py publish_seat_changes`` publishing to this edge, as deploy/ctl runs it beside nginx."""
    command = [sys.executable, "manage.py", "publish_seat_changes", "--url", edge.publish_url]
    project = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    if "publishing" not in (process.stdout.readline() if process.stdout else ""):
        process.kill()
        raise RuntimeError("publish_seat_changes did not start")
    FEED.append(process)
    try:
        yield process
    finally:
        FEED.remove(process)
        process.terminate()
        process.wait(timeout=30)


def _quiet(server: harness.Server, edge: Edge, *, seconds: float) -> dict[str, float]:
    """Server cores with no map open: what gunicorn's and nginx's own housekeeping costs (subtracted below)."""
    before, wall = _server_cpu(server, edge), time.perf_counter()
    time.sleep(seconds)
    after, wall = _server_cpu(server, edge), time.perf_counter() - wall
    return {part: (after[part] - before[part]) / wall for part in after}


def changes_path(event_id, section_id, transport: str = "poll") -> str:
    """The URL an open map polls, but for the version, which each map appends; for ``sse`` also the stream's."""
    path = f"/events/{event_id}/changes/?section={section_id}&since="
    return f"{path}|/events/{event_id}/live/?sections={section_id}" if transport == "sse" else path


def _idle(server: harness.Server, edge: Edge, path: str, *, maps: int, seconds: float, warm: float = 8.0) -> dict:
    """Server cores while ``maps`` maps poll ``path`` where nothing happens (after ``warm`` s of TLS handshakes)."""
    with Watchers(edge, path, maps=maps, seconds=warm + seconds) as watchers:
        time.sleep(warm)
        before, wall = _server_cpu(server, edge), time.perf_counter()
        time.sleep(seconds)
        after, wall = _server_cpu(server, edge), time.perf_counter() - wall
    cores = {part: (after[part] - before[part]) / wall for part in after}
    return {"cores": cores, "total": sum(cores.values()), "tally": watchers.tally, "seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("sse", "poll"), default="sse", help="how the maps follow changes")
    parser.add_argument("--maps", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--size", choices=("small", "tiny"), default="small")
    parser.add_argument("--clients", type=int, default=32, help="on-sale buyers")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-onsale", action="store_true")
    parser.add_argument("--control", action="store_true", help="also poll a static file of the same shape")
    parser.add_argument(
        "--maps-nice", type=int, default=-10, help="the maps process's niceness (negative: ahead of the server)"
    )
    args = parser.parse_args()
    os.environ["BENCH_MAPS_NICE"] = str(args.maps_nice)

    with harness.fresh_databases(f"edge{secrets.token_hex(3)}"):
        _run(args)


def _run(args: argparse.Namespace) -> None:
    from bench import dataset, scenarios

    data = dataset.build_people(dataset.SIZES[args.size], secrets.token_hex(3), print)
    events = []
    for number in range(1 if args.skip_onsale else 3):
        dataset.build_stadium(data, print, title=f"Stadium {number + 1}")
        events.append((data.stadium_event_id, data.hot_section_id))
    dataset.settle(data, print)
    env = harness.server_env({"DJANGO_SETTINGS_MODULE": "bench.settings"})
    port = harness.free_port()
    with harness.Server(port=port, workers=args.workers, threads=args.threads, env=env) as server:
        warm_up(server, args.workers * args.threads)
        with Edge(upstream_ports=[port]) as edge, live_feed(edge, env):
            print(
                f"gunicorn {args.workers}x{args.threads} on :{port}, nginx (deploy template) on :{edge.https_port}, "
                f"the live feed publishing to :{edge.publish_port}; maps: {args.transport}"
            )
            data.stadium_event_id, data.hot_section_id = events[-1]
            quiet = _quiet(server, edge, seconds=args.idle_seconds)
            path = changes_path(data.stadium_event_id, data.hot_section_id, args.transport)
            idle = _idle(server, edge, path, maps=args.maps, seconds=args.idle_seconds)
            tally, cores = idle["tally"], idle["cores"]
            polls = sum(count for key, count in tally.items() if "status " in key and "stream" not in key)
            print(f"\nServer cores, {idle['seconds']:.0f} s measured each:")
            print(
                "| open maps | nginx | Django | PostgreSQL | live feed | server total | polls/s | the maps' own cores |"
            )
            print("|---|---|---|---|---|---|---|---|")
            print(
                f"| none | {quiet['nginx']:.3f} | {quiet['django']:.3f} | {quiet['postgres']:.3f} | "
                f"{quiet['feed']:.3f} | {sum(quiet.values()):.3f} | - | - |"
            )
            print(
                f"| {args.maps:,} ({args.transport}), idle | {cores['nginx']:.3f} | {cores['django']:.3f} | "
                f"{cores['postgres']:.3f} | {cores['feed']:.3f} | **{idle['total']:.3f}** | "
                f"{polls / (idle['seconds'] + 8):.0f} | {tally.get('cpu ms', 0) / 1000 / (idle['seconds'] + 8):.2f} |"
            )
            if args.control:
                # The same maps polling a static file of the same shape (nginx's cheapest answer), in the same run.
                (edge.root / "waiting-room" / "control.json").write_text(
                    '{"version": 0, "poll_seconds": 1, "seats": []}'
                )
                static = _idle(
                    server, edge, "/waiting-room-status/control.json?since=", maps=args.maps, seconds=args.idle_seconds
                )
                static_polls = sum(count for key, count in static["tally"].items() if key.startswith("status "))
                print(
                    f"| {args.maps:,}, a static file (control) | {static['cores']['nginx']:.3f} | "
                    f"{static['cores']['django']:.3f} | {static['cores']['postgres']:.3f} | "
                    f"{static['cores']['feed']:.3f} | {static['total']:.3f} | "
                    f"{static_polls / (static['seconds'] + 8):.0f} | "
                    f"{static['tally'].get('cpu ms', 0) / 1000 / (static['seconds'] + 8):.2f} |"
                )
            print(f"Attributable to the maps: {idle['total'] - sum(quiet.values()):.3f} cores")
            print(f"The maps' tally: {dict(sorted(tally.items()))}")
            if args.skip_onsale:
                return
            rows = []
            for label, (event_id, section_id) in zip(
                ("without watchers", f"with {args.maps:,} watchers", "without watchers (again)"), events, strict=True
            ):
                data.stadium_event_id, data.hot_section_id = event_id, section_id
                before = _server_cpu(server, edge)
                if "with" in label and "without" not in label:
                    path = changes_path(event_id, section_id, args.transport)
                    with Watchers(edge, path, maps=args.maps, seconds=600) as watchers:
                        time.sleep(8)  # the maps' TLS handshakes, before the sale starts
                        before = _server_cpu(server, edge)
                        result = scenarios.onsale(server, data, clients=args.clients, seconds=180)
                        after = _server_cpu(server, edge)
                    print(f"  the maps during the sale: {dict(sorted(watchers.tally.items()))}")
                else:
                    result = scenarios.onsale(server, data, clients=args.clients, seconds=180)
                    after = _server_cpu(server, edge)
                figures = result.figures
                orders = max(figures["confirmed_orders"], 1)
                spent = {part: (after[part] - before[part]) * 1000 / orders for part in after}
                rows.append((label, figures, spent, result.problems))
            print(
                f"\nOn-sale ({args.clients} buyers, {dataset.SIZES[args.size].hot_zone:,}-seat zone, until sold out):"
            )
            # Django and PostgreSQL per purchase as the on-sale's own meter samples them (a backend that ends during
            # the sale keeps its last reading); nginx from its two processes.
            print(
                "| run | purchases/s | Django ms/purchase | PostgreSQL ms/purchase | nginx ms/purchase | "
                "live feed ms/purchase | server ms/purchase | elapsed s | problems |"
            )
            print("|---|---|---|---|---|---|---|---|---|")
            for label, figures, spent, problems in rows:
                django_ms, postgres_ms = figures["cpu_ms_per_purchase_django"], figures["cpu_ms_per_purchase_postgres"]
                server_ms = django_ms + postgres_ms + spent["nginx"] + spent["feed"]
                print(
                    f"| {label} | {figures['purchases_per_s']} | {django_ms:.2f} | {postgres_ms:.2f} | "
                    f"{spent['nginx']:.2f} | {spent['feed']:.2f} | {server_ms:.2f} | {figures['elapsed_s']} | "
                    f"{problems or '-'} |"
                )


if __name__ == "__main__":
    main()
