"""Production settings: `check --deploy` is clean, secrets come only from the environment, security headers are set."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
ALL = ["default", "seats", "orders", "events"]


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production start: no debug, no test settings, a real secret, one public host."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "QR_SIGNING", "PAYMENT_", "ALLOW_TEST_PAYMENTS", "STRIPE_"))
        and key != "TEST_DB_SUFFIX"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="ticketremaster.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="tickets.example.com",
    )
    env.update(overrides)
    return env


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.integration
def test_check_deploy_is_an_error_while_test_payments_are_allowed_with_debug_off():
    result = run_manage("check", "--deploy", env=production_env(PAYMENT_PROVIDER="test", ALLOW_TEST_PAYMENTS="true"))
    assert result.returncode != 0
    assert "accounts.E001" in result.stdout + result.stderr


@pytest.mark.integration
def test_production_settings_pass_check_deploy_with_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.integration
def test_a_missing_secret_key_stops_a_production_start_with_one_readable_line():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


SHOW_SECRETS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECRET_KEY, s.QR_SIGNING_KEY, s.PAYMENT_WEBHOOK_SECRET, s.DEBUG]))"
)


@pytest.mark.integration
def test_every_secret_is_read_from_the_environment():
    import json

    env = production_env(
        QR_SIGNING_KEY="qr-" + secrets.token_urlsafe(40), PAYMENT_WEBHOOK_SECRET="wh-" + secrets.token_urlsafe(40)
    )
    result = run_python(SHOW_SECRETS, env)
    assert result.returncode == 0, result.stderr
    secret_key, qr_key, webhook_secret, debug = json.loads(result.stdout)
    assert (secret_key, qr_key, webhook_secret, debug) == (
        env["DJANGO_SECRET_KEY"],
        env["QR_SIGNING_KEY"],
        env["PAYMENT_WEBHOOK_SECRET"],
        False,
    )


def test_no_secret_is_written_into_the_settings_files():
    """The only literal key in the settings is the one DEBUG mode uses, and it can never reach production."""
    source = (PROJECT / "ticketremaster" / "settings.py").read_text()
    literal_keys = [line for line in source.splitlines() if 'SECRET_KEY = "' in line or "SECRET_KEY = '" in line]
    assert len(literal_keys) == 1 and "DEBUG only" in literal_keys[0], literal_keys


@pytest.mark.django_db(databases=ALL)
def test_every_response_carries_the_security_headers(client):
    response = client.get("/healthz")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline' ; " not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "camera=(self)" in response["Permissions-Policy"]


@pytest.mark.django_db(databases=ALL)
@pytest.mark.parametrize(
    ("origins", "form_action"),
    [([], "form-action 'self';"), (["https://checkout.stripe.com"], "form-action 'self' https://checkout.stripe.com;")],
)
def test_forms_may_send_the_buyer_only_to_us_and_the_card_providers_payment_page(
    client, settings, origins, form_action
):
    # A top-up form answers with a redirect to the hosted payment page: browsers check form-action on it too.
    settings.PAYMENT_PAGE_ORIGINS = origins
    assert form_action in client.get("/healthz")["Content-Security-Policy"]


def test_pages_keep_their_scripts_out_of_the_html():
    """The page policy forbids inline scripts, so no template of ours may carry one (or an on* handler)."""
    import re

    offenders = []
    for template in PROJECT.glob("*/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{template.relative_to(PROJECT)}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{template.relative_to(PROJECT)}: inline handler {match.group(0).strip()}")
        if "javascript:" in text:
            offenders.append(f"{template.relative_to(PROJECT)}: javascript: URL")
    assert offenders == []


@pytest.mark.django_db(databases=ALL)
def test_production_cookies_and_transport_settings_are_strict():
    from django.conf import settings

    # test_settings turn these off for the plain-HTTP test server; check the production defaults in settings.py.
    source = (PROJECT / "ticketremaster" / "settings.py").read_text()
    for fragment in (
        'SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)',
        'SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)',
        'CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)',
        'SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)',
    ):
        assert fragment in source
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE
