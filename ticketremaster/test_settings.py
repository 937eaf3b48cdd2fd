"""Settings for the test suite: the real settings with debug-free, deterministic defaults.

Tests run against real PostgreSQL (embedded unless the *_DATABASE_URL variables are set), never SQLite.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("DJANGO_HSTS_SECONDS", "0")

from ticketremaster.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 is asserted in its own test
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FAULT_INJECTION_ENABLED = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "100000/min"}}  # noqa: F405
