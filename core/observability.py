"""Request ids, structured JSON logs and per-request metrics: what an operator sees of each request.

* Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token (a load balancer or a client
  tracing a call), else a new one. It is echoed in the response header, put on ``request.request_id`` and carried by
  a context variable into every log line written while the request is served.
* :class:`JsonFormatter` writes one JSON object per line (time, level, logger, message, request_id, and any
  ``extra=`` fields); settings select it with ``DJANGO_LOG_FORMAT=json`` (the default with debug off).
* :class:`ObservabilityMiddleware` does both and times the request for the Prometheus metrics (core/metrics.py),
  labelled by route name, never by raw path.

Background work carries the id of the request that caused it with :func:`bound_request_id`: capture
:func:`current_request_id` when the job is enqueued, and run the job inside ``bound_request_id(job.request_id)``;
its log lines then carry the same id as the request's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from core import metrics

NO_REQUEST = "-"
_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
# The business outcome of the operation a request performs, when one was noted (a domain error's code, a scan's
# result); the metrics label the request with it instead of a guess from the status code.
_outcome: ContextVar[str | None] = ContextVar("operation_outcome", default=None)
# A caller's id is kept only if it is a plain token: nothing that could forge a log line or bloat the logs.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def current_request_id() -> str:
    """The id of the request (or job) being served on this thread/task, ``"-"`` outside of one."""
    return _request_id.get()


@contextlib.contextmanager
def bound_request_id(request_id: str | None = None) -> Iterator[str]:
    """Run a block (a background job) under ``request_id`` (a fresh one if None): its log lines carry it."""
    value = request_id if request_id and _SAFE_REQUEST_ID.fullmatch(request_id) else uuid.uuid4().hex
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


def request_id_from(header: str | None) -> str:
    if header and _SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def note_outcome(outcome: str) -> None:
    """Record the business outcome of the current request's operation (cheap: one context variable)."""
    _outcome.set(outcome)


# --- Logs -----------------------------------------------------------------------------------------------------------
class RequestIdFilter(logging.Filter):
    """Puts ``record.request_id`` on every record, so any format may name it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx answer ("django.request") after the middleware chain has finished: the request
        # it passes along still knows its id.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _request_id.get()
        return True


# Attributes every LogRecord has: anything else on a record came from ``extra=`` and goes into the JSON object.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key != "request" and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


request_logger = logging.getLogger("ticketremaster.request")


# --- The middleware -------------------------------------------------------------------------------------------------
class ObservabilityMiddleware:
    """First in the chain: request id in, request id out, latency and business outcome into the metrics.

    Its cost per request is a few microseconds (docs/DEPLOYMENT.md, "Monitoring"): two context variables, one
    clock read at each end, and the metric updates of core.metrics.observe_request.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.observe = metrics.observe_request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        id_token = _request_id.set(request_id)
        outcome_token = _outcome.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            route = (match.view_name or match.route) if match is not None else "unmatched"
            self.observe(route, request.method, response.status_code, seconds, _outcome.get())
            if request_logger.isEnabledFor(logging.INFO):
                request_logger.info(
                    "%s %s %s",
                    request.method,
                    route,
                    response.status_code,
                    extra={"route": route, "status": response.status_code, "duration_ms": round(seconds * 1000, 2)},
                )
            response["X-Request-ID"] = request_id
            return response
        finally:
            _outcome.reset(outcome_token)
            _request_id.reset(id_token)
