# ruff: noqa: S603, S607 - fixed Debian binaries (nginx on PATH) with our own arguments
"""The production edge, deploy/templates/nginx.conf rendered as deploy/ctl renders it, in front of any app server
on 127.0.0.1 and in a folder of its own: for the benchmarks and the tests that must go through nginx's real
configuration (its caches, its locations), not a copy of it.

    with Edge(upstream_ports=[8123]) as edge:
        edge.https_port, edge.cert, edge.pids()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import free_port
from deploy import topology


def nginx_available() -> bool:
    """nginx and its nchan module (the live seat maps' streams), as deploy/ctl installs them."""
    return shutil.which("nginx") is not None and topology.NCHAN_MODULE.exists()


class Edge:
    def __init__(self, *, upstream_ports: list[int]) -> None:
        self.upstream_ports = upstream_ports
        self.root = Path(tempfile.mkdtemp(prefix="tr-edge-"))
        # nginx's workers run as nobody when started as root: they must reach the cache and temp folders.
        self.root.chmod(0o755)
        self.https_port = free_port()
        self.http_port = free_port()
        self.publish_port = free_port()
        self.cert, self.key = self.root / "cert.pem", self.root / "key.pem"
        self.conf = self.root / "nginx.conf"

    def render(self) -> str:
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in self.upstream_ports)
        return topology.render_text(
            "nginx.conf",
            pidfile=self.root / "nginx.pid",
            log_dir=self.root,
            tmp_dir=self.root / "tmp",
            upstream_servers=servers,
            http_port=self.http_port,
            https_port=self.https_port,
            tls_cert=self.cert,
            tls_key=self.key,
            static_root=self.root / "static",
            waiting_room_root=self.root / "waiting-room",
            errors_dir=topology.DEPLOY_DIR / "errors",
            nchan_module=topology.NCHAN_MODULE,
            live_publish_port=self.publish_port,
        )

    @property
    def publish_url(self) -> str:
        """Where ``manage.py publish_seat_changes`` publishes to this edge (TR_LIVE_PUBLISH_URL)."""
        return f"http://127.0.0.1:{self.publish_port}/live"

    def _nginx(self, *extra: str) -> subprocess.CompletedProcess:
        command = ["nginx", "-p", str(self.root), "-c", str(self.conf), "-e", str(self.root / "error.log"), *extra]
        return subprocess.run(command, capture_output=True, text=True, timeout=30)

    def write(self) -> None:
        for folder in ("tmp", "static", "waiting-room"):
            (self.root / folder).mkdir(exist_ok=True)
            (self.root / folder).chmod(0o755)
        if not self.cert.exists():
            topology.make_certificate(self.cert, self.key)
        self.conf.write_text(self.render())

    def test(self) -> subprocess.CompletedProcess:
        """``nginx -t`` of the rendered configuration."""
        self.write()
        return self._nginx("-t")

    def start(self) -> None:
        self.write()
        result = self._nginx()
        if result.returncode != 0:
            raise RuntimeError(f"nginx did not start: {(result.stderr or result.stdout).strip()}")
        deadline = time.monotonic() + 10
        while not topology.port_open(self.https_port):
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not listen")
            time.sleep(0.05)

    def master_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.root / "nginx.pid").read_text())
        return None

    def pids(self) -> list[int]:
        """The master and its workers (their CPU is the edge's cost)."""
        master = self.master_pid()
        if master is None:
            return []
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [master, *(int(pid) for pid in children)]

    def stop(self) -> None:
        master = self.master_pid()
        if master is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while topology.port_open(self.https_port) and time.monotonic() < deadline:
                time.sleep(0.05)
        if not os.environ.get("BENCH_KEEP_EDGE"):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Edge:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
