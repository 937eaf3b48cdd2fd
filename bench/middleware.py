"""Server-side measurements for the benchmark: queries and writing transactions per request, and time inside Django.

Only installed by ``bench.settings`` when ``BENCH_QUERY_COUNT=1`` is set on the server, so production never
exposes query counts. Counting uses ``connection.execute_wrapper`` (no DEBUG query log, no per-query string
building), which costs a few microseconds per query and nothing else.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter

from django.db import connections
from django.http import HttpRequest, HttpResponse

QUERY_COUNT_HEADER = "X-Query-Count"
# "default=1 seats=2 orders=3 events=1": which database the round trips went to.
QUERY_ALIASES_HEADER = "X-Query-Aliases"
SERVER_TIME_HEADER = "X-Server-Time-Ms"
# Transactions that wrote (each a COMMIT with its WAL flush): a writing statement in autocommit, or a transaction
# block in which one ran, counted when it commits.
WRITE_TRANSACTIONS_HEADER = "X-Write-Transactions"

# A statement that writes: INSERT / UPDATE ... SET / DELETE (also inside a WITH), or a job deferred by function.
_WRITES = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b|procrastinate_defer", re.IGNORECASE)


class _Counter:
    def __init__(self, alias: str, counts: Counter, writes: Counter) -> None:
        self.alias = alias
        self.counts = counts
        self.writes = writes

    def __call__(self, execute, sql, params, many, context):
        self.counts[self.alias] += 1
        result = execute(sql, params, many, context)
        if _WRITES.search(sql):
            connection = context["connection"]
            if not connection.in_atomic_block:
                self.writes[self.alias] += 1
            elif not any(callback == self._committed for _sids, callback, _robust in connection.run_on_commit):
                connection.on_commit(self._committed)  # once per transaction; dropped if it rolls back
        return result

    def _committed(self) -> None:
        self.writes[self.alias] += 1


class QueryCountMiddleware:
    """Outermost middleware: adds the number of SQL round trips and the server time to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        counts: Counter = Counter()
        writes: Counter = Counter()
        with contextlib.ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(_Counter(alias, counts, writes)))
            response = self.get_response(request)
        response[QUERY_COUNT_HEADER] = str(sum(counts.values()))
        response[WRITE_TRANSACTIONS_HEADER] = str(sum(writes.values()))
        response[QUERY_ALIASES_HEADER] = " ".join(f"{alias}={count}" for alias, count in sorted(counts.items()))
        response[SERVER_TIME_HEADER] = f"{(time.perf_counter() - started) * 1000:.3f}"
        return response
