"""Prometheus metrics: request latency by route, business operations, recoveries, and live gauges at scrape time.

Exposed at ``GET /metrics`` (:func:`metrics_view`), for the configured scrapers only (:func:`scrape_allowed`).
Under gunicorn each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory,
one per app server, writable by its workers, set before the workers start) every worker writes its samples into
files there and a scrape of any worker adds them up; gunicorn.conf.py empties the directory at start and marks a
dead worker's gauges. Without it (runserver, tests) the process's own registry is served.

Names (all ``ticketremaster_``):

* ``http_request_duration_seconds{route, method}`` histogram, ``http_requests_total{route, method, status}``
  counter (status as ``2xx``/``4xx``/...). ``route`` is the URL pattern's name (``api-hold-create``,
  ``orders:checkout``), ``unmatched`` for a URL that resolves to nothing.
* ``operations_total{operation, outcome}`` and ``operation_duration_seconds{operation}`` for holds, purchases,
  refunds, scans, transfers and resales, whichever page or API endpoint ran them (:data:`OPERATION_ROUTES`).
  ``outcome`` is ``ok``, the domain error code (``SEAT_UNAVAILABLE``), the scan result (``SUCCESS``, ``REVOKED``),
  or ``error`` for a 5xx.
* ``recoveries_total{flow, outcome}`` (``manage.py recover_flows``) and ``recover_flows_last_run_timestamp_seconds``.
* ``job_queue_depth{queue}`` and ``job_queue_oldest_age_seconds{queue}``, read at scrape time from the function a
  job queue registers with :func:`register_job_queue_stats` (absent until one does).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

PREFIX = "ticketremaster"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer a request, by route name and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS = Counter(
    f"{PREFIX}_http_requests", "Requests answered, by route, method and status class.", ["route", "method", "status"]
)
OPERATIONS = Counter(f"{PREFIX}_operations", "Business operations attempted, by outcome.", ["operation", "outcome"])
OPERATION_SECONDS = Histogram(
    f"{PREFIX}_operation_duration_seconds",
    "Time to answer a business operation's request.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
RECOVERIES = Counter(
    f"{PREFIX}_recoveries", "Interrupted flows recover_flows examined, by outcome.", ["flow", "outcome"]
)
RECOVERY_LAST_RUN = Gauge(
    f"{PREFIX}_recover_flows_last_run_timestamp_seconds",
    "When recover_flows last finished (Unix time).",
    multiprocess_mode="mostrecent",
)

# (route name, method) -> business operation. Every route here must exist (core/tests/test_metrics.py checks it).
OPERATION_ROUTES: dict[tuple[str, str], str] = {
    ("api-hold-create", "POST"): "hold",
    ("orders:hold", "POST"): "hold",
    ("api-orders", "POST"): "purchase",
    ("orders:checkout", "POST"): "purchase",
    ("api-order-refund", "POST"): "refund",
    ("api-scan", "POST"): "scan",
    ("gate:scan", "POST"): "scan",
    ("api-transfer-confirm", "POST"): "transfer",
    ("transfers:confirm", "POST"): "transfer",
    ("api-listing-buy", "POST"): "resale",
    ("transfers:buy", "POST"): "resale",
}

_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


def observe_request(route: str, method: str, status: int, seconds: float, outcome: str | None) -> None:
    """Called once per request by core.observability.ObservabilityMiddleware."""
    REQUEST_SECONDS.labels(route, method).observe(seconds)
    REQUESTS.labels(route, method, _STATUS_CLASSES.get(status // 100, "other")).inc()
    operation = OPERATION_ROUTES.get((route, method))
    if operation is not None:
        if status >= 500:
            outcome = "error"
        elif outcome is None or (status < 300 and operation != "scan"):
            # A 2xx answer is a success even if a domain error was raised and handled on the way (a retry that
            # found its order); pages answer a redirect either way, so their outcome comes from the noted error.
            outcome = "ok" if status < 400 else f"http_{status}"
        OPERATIONS.labels(operation, outcome).inc()
        OPERATION_SECONDS.labels(operation).observe(seconds)


def record_recovery(flow: str, counts: dict[str, int]) -> None:
    """recover_flows' report of one recoverer: each non-zero outcome count."""
    for outcome, count in counts.items():
        if isinstance(count, int) and count > 0:
            RECOVERIES.labels(flow, outcome).inc(count)


def record_recovery_run() -> None:
    RECOVERY_LAST_RUN.set(time.time())


# --- Gauges read at scrape time -------------------------------------------------------------------------------------
# A job queue registers a function returning (queue name, jobs waiting, age in seconds of the oldest waiting job).
QueueStats = Callable[[], Iterable[tuple[str, int, float]]]
_job_queue_stats: list[QueueStats] = []


def register_job_queue_stats(function: QueueStats) -> None:
    """The job queue's hook (call it from its AppConfig.ready()): queue depth and age appear on the next scrape."""
    if function not in _job_queue_stats:
        _job_queue_stats.append(function)


class LiveGaugesCollector:
    """Reads the registered sources when a scrape asks, in the scraping process (nothing is stored)."""

    def collect(self):
        if not _job_queue_stats:
            return
        depth = GaugeMetricFamily(f"{PREFIX}_job_queue_depth", "Jobs waiting, by queue.", labels=["queue"])
        age = GaugeMetricFamily(
            f"{PREFIX}_job_queue_oldest_age_seconds", "Age of the oldest waiting job, by queue.", labels=["queue"]
        )
        for source in _job_queue_stats:
            try:
                rows = list(source())
            except Exception:  # noqa: BLE001 - a broken source must not break the whole scrape
                logger.exception("job queue stats source %r failed", source)
                continue
            for queue, waiting, oldest in rows:
                depth.add_metric([queue], waiting)
                age.add_metric([queue], oldest)
        yield depth
        yield age


_LIVE = LiveGaugesCollector()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> bytes:
    """The text exposition of every metric: all workers' files in multiprocess mode, else this process's."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):  # noqa: SLF001 - the default registry's collectors
            registry.register(collector)
    registry.register(_LIVE)
    return generate_latest(registry)


# --- Who may scrape -------------------------------------------------------------------------------------------------
def scrape_allowed(request: HttpRequest) -> bool:
    """A valid ``Authorization: Bearer <METRICS_TOKEN>``, or a direct request (no X-Forwarded-For: it did not come
    through the load balancer) from an address in ``METRICS_ALLOWED_IPS``."""
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in getattr(settings, "METRICS_ALLOWED_IPS", [])]


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        return JsonResponse(
            {"code": "PERMISSION_DENIED", "detail": "Metrics are for the configured scrapers."}, status=403
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
