# Shared by scripts/demo.sh and scripts/test.sh: find Python 3.11/3.12/3.13, make .venv, install the locked
# requirements (requirements.lock / requirements-dev.lock: every package pinned with its sha256, pip refuses anything
# else). The .txt files are the inputs of the locks; after changing one, run scripts/lock.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12), (3, 13)) else 1)' >/dev/null 2>&1; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Python 3.11, 3.12 or 3.13 is required (set PYTHON=/path/to/python3.13)" >&2
  return 1
}

ensure_venv() {
  local requirements="$1"
  local lock="${requirements%.txt}.lock"
  if [ ! -x .venv/bin/python ]; then
    "$(pick_python)" -m venv .venv
  fi
  local stamp=".venv/.installed-$(basename "$lock")"
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --require-hashes -r "$lock"
    touch "$stamp"
  fi
}

# The embedded PostgreSQL is started here, explicitly, when any domain database has no URL of its own.
start_embedded_db_if_needed() {
  if [ -z "${USERS_DATABASE_URL:-}" ] || [ -z "${SEATS_DATABASE_URL:-}" ] || [ -z "${ORDERS_DATABASE_URL:-}" ] \
     || [ -z "${EVENTS_DATABASE_URL:-}" ]; then
    .venv/bin/python -m core.embedded_db start >/dev/null
  fi
}

# The translation catalogs (locale/*/LC_MESSAGES/*.po) compiled to the .mo files Django reads; the .mo files are not
# committed. GNU gettext's msgfmt (what manage.py compilemessages runs) when installed, with its checks of the
# placeholders; else the same compile in Python (core/msgfmt.py).
compile_messages() {
  if command -v msgfmt >/dev/null 2>&1; then
    local po
    for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o "${po%.po}.mo" "$po"; done
  else
    .venv/bin/python -m core.msgfmt locale >/dev/null
  fi
}
