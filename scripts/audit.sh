#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (pip-audit against PyPI's vulnerability data, per pinned release).
# Fails on any known vulnerability. When the vulnerability service cannot be reached (a network that lets pip reach
# PyPI's package index but not its per-release JSON API, as on this project's build machines), it says so loudly and
# audits nothing; REQUIRE_AUDIT=1 turns that into a failure (for a CI with full access to PyPI).
source "$(dirname "$0")/_env.sh"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
set +e
.venv/bin/pip-audit --progress-spinner off --disable-pip --require-hashes -r requirements-dev.lock \
  --format json --output "$report" 2>/dev/null
set -e
.venv/bin/python - "$report" <<'PY'
import json
import os
import sys

with open(sys.argv[1]) as handle:
    dependencies = json.load(handle)["dependencies"]
vulnerable = [d for d in dependencies if d.get("vulns")]
unaudited = [d for d in dependencies if "skip_reason" in d]
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
audited = len(dependencies) - len(unaudited)
print(f"pip-audit: {audited} of {len(dependencies)} locked packages audited, {len(vulnerable)} with known vulnerabilities")
if unaudited:
    print(
        f"warning: {len(unaudited)} packages could not be audited ({unaudited[0]['skip_reason']}): the vulnerability"
        " service is unreachable from this network",
        file=sys.stderr,
    )
if vulnerable or (unaudited and os.environ.get("REQUIRE_AUDIT") == "1"):
    sys.exit(1)
PY
