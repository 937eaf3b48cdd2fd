"""WSGI entry point (gunicorn ticketremaster.wsgi -c gunicorn.conf.py).

Databases are checked once, by the gunicorn master before it forks (gunicorn.conf.py ``on_starting``), not here:
a worker replaced while a database is down must start and answer 503 DATABASE_UNAVAILABLE, not die at import
and leave the server without workers.
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

from core.startup import StartupError
from core.wsgi_close import close_after_unread_body

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketremaster.settings")

try:
    # A response that leaves the request body unread says Connection: close (core/wsgi_close.py).
    application = close_after_unread_body(get_wsgi_application())
except StartupError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
