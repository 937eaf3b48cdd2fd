"""WSGI entry point (gunicorn ticketremaster.wsgi -c gunicorn.conf.py).

Databases are checked once, by the gunicorn master before it forks (gunicorn.conf.py ``on_starting``), not here:
a worker replaced while a database is down must start and answer 503 DATABASE_UNAVAILABLE, not die at import
and leave the server without workers.
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

from ticketremaster.startup import StartupError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketremaster.settings")

try:
    application = get_wsgi_application()
except StartupError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
