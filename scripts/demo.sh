#!/usr/bin/env bash
# Set up and start the demo: venv, install, embedded PostgreSQL, migrate all four databases, seed, then serve
# the site with a job worker beside it (emails, staff operations, periodic work). Ctrl-C (or SIGTERM to this
# script) stops both.
source "$(dirname "$0")/_env.sh"
ensure_venv requirements.txt
export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"
# Links in the emails point at this server, on whichever port it serves.
export SITE_URL="${SITE_URL:-http://127.0.0.1:${PORT:-8000}}"
start_embedded_db_if_needed
compile_messages
.venv/bin/python manage.py migrate_all
.venv/bin/python manage.py seed_demo
.venv/bin/python manage.py recover_flows --quiet

.venv/bin/python manage.py run_jobs --concurrency "${JOBS_CONCURRENCY:-2}" &
JOBS_PID=$!
echo "Serving TicketRemaster at http://127.0.0.1:${PORT:-8000}/  (admin: /admin/, API docs: /api/v1/docs/)"
echo "Job worker running (pid $JOBS_PID): emails appear on this console."
.venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}" &
WEB_PID=$!

stop() {
  trap - EXIT INT TERM
  # runserver's autoreloader runs the server in a child process: stop it with its parent.
  kill $(pgrep -P "$WEB_PID" 2>/dev/null) "$WEB_PID" "$JOBS_PID" 2>/dev/null || true
  wait "$WEB_PID" "$JOBS_PID" 2>/dev/null || true
}
trap stop EXIT INT TERM
# Whichever stops first (the server, or the worker), the other is stopped with it.
wait -n "$WEB_PID" "$JOBS_PID" || true
