"""gunicorn settings for TicketRemaster (``gunicorn ticketremaster.wsgi -c gunicorn.conf.py``).

Every value can be overridden by an environment variable (or a command-line flag, which wins over this file).
The benchmark harness (bench/harness.py) passes --bind, --workers, --threads and --timeout explicitly.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threaded workers (gthread), one more process than cores, four threads each. Measured on two cores
# (docs/PERFORMANCE.md): against 5 or 8 sync workers, 3 x 4 threads sells ~14% more purchases per second and admits
# ~8% more scans per second, because a thread's wait for PostgreSQL (half of a request's life) overlaps the others'
# work and HTTP keep-alive saves a TCP set-up and a graceful close per request (~4 ms of CPU per purchase). A
# SIGKILLed worker loses its in-flight requests (up to 4), which idempotency keys and recover_flows already cover.
# GUNICORN_THREADS=1 gives sync workers (one request per process) back.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync" if threads == 1 else "gthread")
# A request that takes longer than this is stuck (a lock wait that should have been NOWAIT): kill and replace.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "15"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak cannot grow forever; jitter keeps them from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "0"))
# Not preloaded: each worker opens its own database connections after the fork, and a worker that dies is
# replaced by a fresh import rather than a copy of a parent whose sockets might be shared.
preload_app = os.environ.get("GUNICORN_PRELOAD", "false").lower() == "true"
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Requests are bounded before Django sees them (Django also caps bodies with DATA_UPLOAD_MAX_MEMORY_SIZE).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server) -> None:
    """Refuse to start, with one readable line, when the configuration is bad or a database is unreachable."""
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketremaster.settings")
    from core.startup import StartupError, check_databases_reachable

    _empty_metrics_directory()
    try:
        import django

        django.setup()
        check_databases_reachable()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def _empty_metrics_directory() -> None:
    """Prometheus multiprocess mode (core/metrics.py): the directory holds one file set per worker pid and must
    start empty, or a restarted server would add the last run's counters to its own."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.unlink(os.path.join(folder, name))


def child_exit(server, worker) -> None:
    """A dead worker's live gauges leave the scrape (its counters and histograms stay: they are totals)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
