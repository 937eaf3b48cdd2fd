"""WSGI entry point (gunicorn ticketremaster.wsgi)."""

import os
import sys

from django.core.wsgi import get_wsgi_application

from ticketremaster.startup import StartupError, check_databases_reachable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketremaster.settings")

try:
    application = get_wsgi_application()
    check_databases_reachable()
except StartupError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
