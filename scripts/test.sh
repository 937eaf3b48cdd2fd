#!/usr/bin/env bash
# The whole test suite, from nothing: venv, hash-locked install, lint, import contracts, migration check,
# dependency audit (pip-audit), pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not browser" accounts).
source "$(dirname "$0")/_env.sh"
ensure_venv requirements-dev.txt
export DJANGO_SETTINGS_MODULE=ticketremaster.settings_test
start_embedded_db_if_needed
compile_messages

echo "== ruff lint + format"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== import contracts"
.venv/bin/lint-imports
echo "== migrations are complete"
.venv/bin/python manage.py makemigrations --check --dry-run
echo "== known vulnerabilities in the locked dependencies"
bash scripts/audit.sh
echo "== pytest"
.venv/bin/python -m pytest "$@"
