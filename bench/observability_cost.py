"""What the request id, JSON logging and Prometheus middleware cost per request, in CPU.

    .venv/bin/python -m bench.observability_cost [--requests 20000]

Serves ``--requests`` requests of /livez (the cheapest route: no database, so the middleware's share is as large
as it can be) through Django's WSGI handler in a fresh process per variant, and reports CPU microseconds
(process_time) per request:

* ``without``: the middleware removed from MIDDLEWARE;
* ``with``: as configured, metrics in this process's memory (runserver, a single process);
* ``with, multiprocess``: PROMETHEUS_MULTIPROC_DIR set, as under gunicorn (every sample is written to a
  memory-mapped file).

The difference is the cost; docs/DEPLOYMENT.md ("Monitoring") compares it with a purchase's CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from bench import harness

VARIANTS = {"without": {}, "with": {}, "with, multiprocess": {"PROMETHEUS_MULTIPROC_DIR": "<tmp>"}}


def measure(requests: int) -> float:
    """CPU microseconds per request of this process's configuration (called in a child process)."""
    import time

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    if os.environ.get("COST_VARIANT") == "without":
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "core.observability.ObservabilityMiddleware"]
    handler = WSGIHandler()
    environ = RequestFactory().get("/livez", HTTP_X_REQUEST_ID="bench").environ

    def call() -> None:
        chunks = handler(dict(environ), lambda status, headers: None)
        for _chunk in chunks:
            pass
        chunks.close()

    for _ in range(500):
        call()
    started = time.process_time()
    for _ in range(requests):
        call()
    return (time.process_time() - started) * 1e6 / requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="Runs per variant; the best is kept.")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        harness.setup_django()
        print(json.dumps(measure(args.requests)))
        return 0
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in VARIANTS.items():
            best = float("inf")
            for _ in range(args.rounds):
                env = {**os.environ, "COST_VARIANT": name, "DJANGO_LOG_FORMAT": "json"}
                env.update({key: folder if value == "<tmp>" else value for key, value in extra.items()})
                env.setdefault("EMBEDDED_DATABASE", "true")
                output = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.observability_cost",
                        "--child",
                        name,
                        "--requests",
                        str(args.requests),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=harness.PROJECT_DIR,
                ).stdout
                best = min(best, float(output.strip().splitlines()[-1]))
            results[name] = best
    base = results["without"]
    print(f"{harness.machine_description()}, load average {os.getloadavg()[0]:.1f}; /livez x {args.requests}")
    for name, micros in results.items():
        extra = "" if name == "without" else f"  (+{micros - base:.1f} µs)"
        print(f"  {name:<20} {micros:8.1f} µs CPU per request{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
