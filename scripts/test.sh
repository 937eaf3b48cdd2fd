#!/usr/bin/env bash
# The whole test suite, from nothing: venv, pinned install, lint, import contracts, migration check, pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not browser" accounts).
source "$(dirname "$0")/_env.sh"
ensure_venv requirements-dev.txt
export DJANGO_SETTINGS_MODULE=ticketremaster.test_settings

echo "== ruff lint + format"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== import contracts"
.venv/bin/lint-imports
echo "== migrations are complete"
.venv/bin/python manage.py makemigrations --check --dry-run
echo "== pytest"
.venv/bin/python -m pytest "$@"
