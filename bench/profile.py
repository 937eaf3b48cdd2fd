"""Where the server's CPU goes during a scenario: py-spy on every gunicorn worker, folded into categories.

Used by ``python -m bench.run --profile`` (py-spy is pinned in requirements-dev.txt; it reads the workers' memory
from outside, so the workers run unmodified). py-spy leaves out a worker idle in ``accept()`` (no request), but it
counts psycopg's waits for the server as busy; those samples get their own line, and the rest is CPU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench import harness

# First match wins, from the innermost frame outwards: a sample is charged to the innermost frame that belongs to
# one of these layers (so "project code" is only the project's own frames, not the Django they call).
CATEGORIES = [
    # psycopg waits for the server inside Python-visible frames, so py-spy counts those samples as busy: they are
    # the worker waiting for PostgreSQL (round trips, lock waits, WAL flushes of COMMIT), not CPU.
    (
        "waiting for PostgreSQL (psycopg wait/send)",
        r"^(Connection\.wait|ClientCursorMixin\._execute_send|wait_c?) \(psycopg/",
    ),
    ("psycopg: adapting values, reading results", r"\(psycopg/"),
    ("Django ORM: compiling SQL", r"\(django/db/models/sql/"),
    ("Django ORM: querysets, models, fields", r"\(django/db/models/"),
    ("Django DB layer: cursors, transactions", r"\(django/db/"),
    ("DRF: serializers and fields", r"\(rest_framework/(serializers|fields|relations)"),
    ("DRF: views, request, auth, throttling, rendering", r"\(rest_framework/"),
    ("json", r"\(json/"),
    ("Django: handlers, middleware, URL resolving, HTTP", r"\(django/"),
    ("gunicorn: closing the connection (sync workers do no keep-alive)", r"^close_graceful \(gunicorn/"),
    ("gunicorn: sockets, HTTP parsing", r"\(gunicorn/"),
    ("project code", r"\((accounts|inventory|orders|events|core|ops|bench)/"),
    ("signing, hashing (QR tokens)", r"\((hmac|hashlib|base64|zlib)"),
    ("logging", r"\(logging/"),
]


def py_spy() -> str | None:
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


class Recording:
    """py-spy ``record --format raw`` on each worker of ``server`` for ``seconds``."""

    def __init__(self, server: harness.Server, *, label: str, seconds: float, rate: int = 250) -> None:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("py-spy is not installed (pip install -r requirements-dev.txt)")
        harness.ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []
        self.processes: list[subprocess.Popen] = []
        for pid in server.worker_pids():
            path = harness.ARTIFACTS_DIR / f"profile-{label}-{pid}.txt"
            self.files.append(path)
            command = [executable, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", str(rate)]
            command += ["--format", "raw", "-o", str(path), "--nonblocking"]
            self.processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def finish(self) -> str:
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.terminate()
        return summarize([path for path in self.files if path.exists()])


def summarize(files: list[Path], *, top: int = 25) -> str:
    total = 0
    categories: Counter = Counter()
    inclusive: Counter = Counter()
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [frame for frame in stack.split(";") if frame]
            for frame in reversed(frames):
                name = next((label for label, pattern in CATEGORIES if re.search(pattern, frame)), None)
                if name:
                    categories[name] += samples
                    break
            else:
                categories["interpreter, standard library"] += samples
            seen = set()
            for frame in frames:
                key = re.sub(r":\d+\)$", ")", frame)
                if key not in seen and re.search(r"\((accounts|inventory|orders|events|core|ops)/", frame):
                    inclusive[key] += samples
                    seen.add(key)
    if not total:
        return "(no samples)"
    lines = [
        f"{total} samples over {len(files)} workers",
        "",
        "| layer (innermost frame) | share of busy worker time |",
        "|---|---|",
    ]
    lines += [f"| {name} | {count * 100 / total:.1f}% |" for name, count in categories.most_common()]
    lines += ["", "| project function (inclusive) | share of busy worker time |", "|---|---|"]
    lines += [f"| `{name}` | {count * 100 / total:.1f}% |" for name, count in inclusive.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize([Path(arg) for arg in sys.argv[1:]]))
