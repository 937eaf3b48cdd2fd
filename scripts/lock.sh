#!/usr/bin/env bash
# Regenerate requirements.lock and requirements-dev.lock (pins and sha256 hashes of every file PyPI has for each
# pinned version, so the locks install on any platform) from requirements.txt and requirements-dev.txt.
source "$(dirname "$0")/_env.sh"
ensure_venv requirements-dev.txt
for input in requirements.txt requirements-dev.txt; do
  # Only PyPI: a local wheel directory or mirror in the pip configuration must not leak into the hashes.
  PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= .venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
    --strip-extras --no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple \
    --output-file "${input%.txt}.lock" "$input"
done
