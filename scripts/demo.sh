#!/usr/bin/env bash
# Set up and start the demo: venv, install, embedded PostgreSQL, migrate all four databases, seed, serve.
source "$(dirname "$0")/_env.sh"
ensure_venv requirements.txt
export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"
.venv/bin/python manage.py migrate_all
.venv/bin/python manage.py seed_demo
.venv/bin/python manage.py recover_flows --quiet
echo "Serving TicketRemaster at http://127.0.0.1:${PORT:-8000}/  (admin: /admin/, API docs: /api/v1/docs/)"
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
