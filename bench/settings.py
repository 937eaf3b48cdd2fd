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
