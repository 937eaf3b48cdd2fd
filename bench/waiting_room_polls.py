"""What one waiting buyer's poll costs the server, in CPU: the room's status file served by nginx (production) and,
for comparison, the same file through Django (gunicorn, no database) and the waiting page itself (Django and its
databases: what polling would cost without the status file).

    .venv/bin/python -m bench.waiting_room_polls [--polls 20000] [--clients 16] [--skip-django]

Bounded and local: every request goes to 127.0.0.1, ``--polls`` in all, from ``--clients`` keep-alive connections.
The server's CPU is read from /proc (user + system time of the server's processes) before and after; the report is
CPU microseconds per poll and the cores 2,000 polls/s (20,000 waiting buyers every 10 s) would take. The clients'
own CPU is not counted (on this 2-core machine they compete with the server, so the wall-clock rate understates
what the server alone could do).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench import harness

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
TARGET_POLLS_PER_SECOND = 2000

NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        location /waiting-room-status/ {{
            alias {status_root}/;
            default_type application/json;
            add_header Cache-Control "public, max-age=2";
        }}
    }}
}}
"""


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the full line)
    return total / TICKS_PER_SECOND


def _children(pid: int) -> list[int]:
    found = [pid]
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            for child in children:
                found.extend(_children(int(child)))
    return sorted(set(found))


def _load(port: int, path: str, polls: int, clients: int, headers: dict[str, str]) -> tuple[float, int]:
    """``polls`` GETs of ``path`` from ``clients`` keep-alive connections; (seconds, non-200 answers)."""
    per_client = polls // clients
    errors = [0] * clients
    last_error = [""]
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        for _ in range(per_client):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors[index] += 1
                last_error[0] = f"{response.status} {path}"
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    if last_error[0]:
        print(f"non-200 answers, e.g. {last_error[0]}")
    return time.monotonic() - started, sum(errors)


def _measure(name: str, pids: list[int], port: int, path: str, polls: int, clients: int, headers=None) -> dict:
    _load(port, path, min(polls, 500), clients, headers or {})  # warm up
    before = _cpu_seconds(pids)
    seconds, errors = _load(port, path, polls, clients, headers or {})
    cpu = _cpu_seconds(pids) - before
    done = polls // clients * clients
    per_poll_us = cpu / done * 1e6
    return {
        "variant": name,
        "polls": done,
        "errors": errors,
        "wall_seconds": round(seconds, 2),
        "polls_per_second": round(done / seconds),
        "server_cpu_us_per_poll": round(per_poll_us, 1),
        "cores_for_2000_polls_per_second": round(per_poll_us * TARGET_POLLS_PER_SECOND / 1e6, 3),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def nginx_serving(status_root: Path) -> Iterator[tuple[int, list[int]]]:
    """An nginx of its own on 127.0.0.1 serving ``status_root`` at /waiting-room-status/ (as deploy/ does): yields
    (port, its process ids), stopped and cleaned up afterwards."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    root = Path(tempfile.mkdtemp(prefix="wr-nginx-"))
    (root / "tmp").mkdir()
    port = _free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port, status_root=status_root))
    process = subprocess.Popen([nginx, "-p", str(root), "-c", str(conf), "-g", "daemon off;"])  # noqa: S603
    try:
        time.sleep(0.5)
        yield port, _children(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def write_status_file(status_root: Path, event_id: uuid.UUID) -> str:
    """A status file like the admission job's (a room 4,200 admitted into 20,000); returns its URL path."""
    (status_root / f"{event_id}.json").write_text(
        json.dumps(
            {
                "event_id": str(event_id),
                "active": True,
                "drawn": True,
                "admitted_up_to": 4200,
                "last_position": 20000,
                "rate_per_minute": 600,
                "paused": False,
                "sold_out": False,
                "starts_at": "2026-12-03T10:00:00+00:00",
                "updated_at": "2026-12-03T10:07:00+00:00",
            },
            separators=(",", ":"),
        )
    )
    return f"/waiting-room-status/{event_id}.json"


def nginx_variant(status_root: Path, event_id: uuid.UUID, polls: int, clients: int) -> dict:
    with nginx_serving(status_root) as (port, pids):
        return _measure("nginx, static file", pids, port, f"/waiting-room-status/{event_id}.json", polls, clients)


def django_variants(status_root: Path, polls: int, clients: int) -> list[dict]:
    """The status file through Django, then the waiting page (session + databases), on one gunicorn worker, against
    fresh databases of their own (dropped afterwards)."""
    os.environ["TR_WAITING_ROOM_STATUS_ROOT"] = str(status_root)  # this process writes the room's file there too
    with harness.fresh_databases(uuid.uuid4().hex[:6]):
        return _django_measure(status_root, polls, clients)


def _django_measure(status_root: Path, polls: int, clients: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from orders.services import waiting_room as rooms
    from orders.tests.waiting_room_helpers import room_event

    env = harness.server_env({"TR_WAITING_ROOM_STATUS_ROOT": str(status_root)})
    port = _free_port()
    setup, room = room_event(cap=10)
    email = f"poll-{uuid.uuid4().hex[:8]}@example.com"
    user = get_user_model().objects.create_user(email=email, password=uuid.uuid4().hex, is_verified=True)
    rooms.waiting_room_join(event_id=setup.event.pk, user_id=user.pk, client_address="127.0.0.1")
    rooms.waiting_room_publish_status(room_id=room.pk)
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    results = []
    with harness.Server(port=port, workers=1, threads=4, env=env) as server:
        pids = _children(server.process.pid)
        path = f"/waiting-room-status/{setup.event.pk}.json"
        results.append(_measure("Django, the same file (no database)", pids, port, path, polls // 4, clients))
        page = f"/events/{setup.event.pk}/waiting-room/"
        headers = {"Cookie": cookie}
        name = "Django, the waiting page (databases)"
        results.append(_measure(name, pids, port, page, polls // 10, clients, headers))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--skip-django", action="store_true")
    args = parser.parse_args()
    status_root = Path(tempfile.mkdtemp(prefix="wr-status-"))
    status_root.chmod(0o755)  # nginx's worker (an unprivileged user when started as root) reads it
    event_id = uuid.uuid4()
    write_status_file(status_root, event_id)
    results = [nginx_variant(status_root, event_id, args.polls, args.clients)]
    if not args.skip_django:
        results.extend(django_variants(status_root, args.polls, args.clients))
    for row in results:
        print(json.dumps(row))
    shutil.rmtree(status_root, ignore_errors=True)


if __name__ == "__main__":
    main()
