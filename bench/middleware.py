"""Server-side measurements for the benchmark: queries per request and time spent inside Django.

Only installed by ``bench.settings`` when ``BENCH_QUERY_COUNT=1`` is set on the server, so production never
exposes query counts. Counting uses ``connection.execute_wrapper`` (no DEBUG query log, no per-query string
building), which costs a few microseconds per query and nothing else.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter

from django.db import connections
from django.http import HttpRequest, HttpResponse

QUERY_COUNT_HEADER = "X-Query-Count"
# "default=1 seats=2 orders=3 events=1": which database the round trips went to.
QUERY_ALIASES_HEADER = "X-Query-Aliases"
SERVER_TIME_HEADER = "X-Server-Time-Ms"


class _Counter:
    def __init__(self, alias: str, counts: Counter) -> None:
        self.alias = alias
        self.counts = counts

    def __call__(self, execute, sql, params, many, context):
        self.counts[self.alias] += 1
        return execute(sql, params, many, context)


class QueryCountMiddleware:
    """Outermost middleware: adds the number of SQL round trips and the server time to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        counts: Counter = Counter()
        with contextlib.ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(_Counter(alias, counts)))
            response = self.get_response(request)
        response[QUERY_COUNT_HEADER] = str(sum(counts.values()))
        response[QUERY_ALIASES_HEADER] = " ".join(f"{alias}={count}" for alias, count in sorted(counts.items()))
        response[SERVER_TIME_HEADER] = f"{(time.perf_counter() - started) * 1000:.3f}"
        return response
