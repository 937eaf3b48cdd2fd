"""Settings for the test suite: the real settings with debug-free, deterministic defaults.

Tests run against real PostgreSQL (embedded unless the *_DATABASE_URL variables are set), never SQLite.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("DJANGO_HSTS_SECONDS", "0")
os.environ.setdefault("EMBEDDED_DATABASE", "true")
# Staff logged in with force_login would all be sent to the two-factor page; the two-factor tests and the staff
# browser walk turn it on (accounts/tests/test_two_factor.py, tests/browser/test_staff.py).
os.environ.setdefault("STAFF_TWO_FACTOR_REQUIRED", "false")  # started by conftest.py unless the four URLs are set
# Debug is off in tests, so the test payment provider needs its explicit opt-in; the tests of the production
# configuration (accounts/tests/test_payment_config.py) switch it off again.
os.environ.setdefault("PAYMENT_PROVIDER", "test")
os.environ.setdefault("ALLOW_TEST_PAYMENTS", "true")  # started by conftest.py unless the four URLs are set

from core.databases import REPLICA_OF  # noqa: E402
from ticketremaster.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 is asserted in its own test
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FAULT_INJECTION_ENABLED = True
# Tests read what they just wrote; the shared reads have their own tests (tests/performance/test_lean_paths.py).
PUBLIC_READ_CACHE_SECONDS = 0
DASHBOARD_SHARED_SECONDS = 0
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "100000/min"}}  # noqa: F405

# A read replica from the environment (deploy/ctl env sets one) is left out: a test that needs one configures it
# itself (tests/reliability/test_read_replica.py), so no other test's database list has to name it.
for _replica in REPLICA_OF:  # noqa: F405
    DATABASES.pop(_replica, None)  # noqa: F405
