"""Settings of the benchmark server: the production settings, plus the query-count middleware when asked for.

``python -m bench.run`` starts gunicorn with ``DJANGO_SETTINGS_MODULE=bench.settings``. Nothing else differs from
``ticketremaster.settings`` (DEBUG off, the same database options, the same middleware), so the figures are the
production code's.
"""

import os

os.environ.setdefault("EMBEDDED_DATABASE", "true")  # the harness points every alias at its own databases

from ticketremaster.settings import *  # noqa: F403

if os.environ.get("BENCH_QUERY_COUNT") == "1":
    MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405

# Measured, not assumed (docs/PERFORMANCE.md, "Server-side binding"): psycopg's server-side binding, with statements
# prepared by the server after BENCH_PREPARE_THRESHOLD executions on one connection (psycopg's default is 5).
if os.environ.get("BENCH_SERVER_SIDE_BINDING") == "1":
    for _alias in DATABASES.values():  # noqa: F405
        _alias.setdefault("OPTIONS", {})["server_side_binding"] = True
        _alias["OPTIONS"]["prepare_threshold"] = int(os.environ.get("BENCH_PREPARE_THRESHOLD", "5"))
