"""Settings for TicketRemaster, read from the environment (django-environ).

Every secret comes from the environment. With DJANGO_DEBUG off, a missing DJANGO_SECRET_KEY stops the start with
one line. Each domain database has its own URL variable; importing this module starts nothing.
"""

from __future__ import annotations

from pathlib import Path

import environ

from core.databases import APP_DATABASES, DATABASE_URL_VARIABLES, database_settings
from core.startup import StartupError

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise StartupError("DJANGO_SECRET_KEY is not set (required when DJANGO_DEBUG is off)")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105 - DEBUG only

# A dedicated key for QR tokens: rotating it kills every code in the wild without logging anyone out.
QR_SIGNING_KEY = env.str("QR_SIGNING_KEY", default="") or f"qr:{SECRET_KEY}"
# Which payment provider tops up credits (docs/PAYMENTS.md): "stripe" (cards), "test" (the built-in provider whose
# page "pays" locally), or none. With debug off the default is none: top-ups are disabled until a real provider is
# configured. The test provider mints credits from nothing, so with debug off it works only when
# ALLOW_TEST_PAYMENTS=true says so explicitly (and `manage.py check --deploy` then reports an error).
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="test" if DEBUG else "")
ALLOW_TEST_PAYMENTS = env.bool("ALLOW_TEST_PAYMENTS", default=False)
# Shared secret of the test provider's webhook (HMAC over timestamp and body).
PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET", default="") or f"webhook:{SECRET_KEY}"
# Stripe (PAYMENT_PROVIDER=stripe): the secret API key (sk_test_... or sk_live_...), the webhook endpoint's signing
# secret (whsec_...), the currency credits are 1:1 with (amounts go to Stripe in its minor unit), and the API base
# (empty = Stripe itself; tests and the offline demo point it at accounts/tests/stripe_standin.py).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_CURRENCY = env.str("STRIPE_CURRENCY", default="eur").lower()
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Origins of the provider's hosted payment pages: a top-up or a checkout paid by card answers its form with a
# redirect there, which the pages' Content-Security-Policy (form-action) must allow.
PAYMENT_PAGE_ORIGINS = env.list(
    "PAYMENT_PAGE_ORIGINS",
    default=[STRIPE_API_BASE.rstrip("/") or "https://checkout.stripe.com"] if PAYMENT_PROVIDER == "stripe" else [],
)
# Paying the difference of a checkout by card: the order's holds are extended to this many seconds while the
# payment page is open (bounded: seats are not kept from other buyers for longer).
CARD_PAYMENT_HOLD_SECONDS = env.int("CARD_PAYMENT_HOLD_SECONDS", default=900)
# Seconds a webhook's signed timestamp may be away from now (stripe.Webhook.construct_event's tolerance).
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Login throttling for every way in (accounts/services/login.py) and staff two-factor (accounts/two_factor.py).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Before the apps whose tasks.py modules it discovers (core/jobs.py, docs/JOBS.md).
    "procrastinate.contrib.django",
    "core.apps.CoreConfig",
    "accounts.apps.AccountsConfig",
    "events.apps.EventsConfig",
    "inventory.apps.InventoryConfig",
    "orders.apps.OrdersConfig",
    "ops.apps.OpsConfig",
]

MIDDLEWARE = [
    # First: the request id and the metrics see every request, whatever answers it (core/observability.py).
    "core.observability.ObservabilityMiddleware",
    # Times holds and checkouts of events with an active waiting room for its throughput controller (no statement
    # for any other request).
    "orders.middleware.WaitingRoomLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    # The on-sale's and the gate's token requests (hold, release, checkout, scan) answered without the rest of this
    # chain and DRF's machinery; every other request goes on (orders/api/lean.py).
    "orders.api.lean.LeanApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the switcher's cookie, else the browser's Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in buyer's remembered language where this browser has no switcher cookie yet.
    "accounts.middleware.PreferredLanguageMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    # Last: turns a login refused by the throttle into the lockout answer, whichever view asked.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ticketremaster.urls"
WSGI_APPLICATION = "ticketremaster.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------------------------
# One alias per domain (core/databases.py): `default` is users_db (accounts, the system settings and Django's own
# apps), then seats, orders and events. Each reads its own URL variable; with any unset, the alias points at the
# embedded PostgreSQL (core/embedded_db.py), which is started by an explicit step (`python -m core.embedded_db
# start`, the scripts, the test set-up), never by importing these settings. With debug off it is refused unless
# EMBEDDED_DATABASE=true asks for it.
DATABASE_APPS_MAPPING = APP_DATABASES
DATABASE_URL_VARIABLES = DATABASE_URL_VARIABLES  # read by the start-up check (core/startup.py)
EMBEDDED_DATABASE = env.bool("EMBEDDED_DATABASE", default=DEBUG)
DATABASE_POOL = env.bool("DATABASE_POOL", default=False)
DATABASES = database_settings(
    env,
    embedded_allowed=EMBEDDED_DATABASE,
    connect_timeout=env.int("DATABASE_CONNECT_TIMEOUT", default=5),
    pool_size=env.int("DATABASE_POOL_SIZE", default=4) if DATABASE_POOL else None,
    conn_max_age=env.int("DATABASE_CONN_MAX_AGE", default=60),
    test_suffix=env.str("TEST_DB_SUFFIX", default=""),
    # Off by default: under PgBouncer's transaction pooling before 1.21 prepared statements break (DEPLOYMENT.md).
    prepare_threshold=env.int("DATABASE_PREPARE_THRESHOLD", default=None),
)

DATABASE_ROUTERS = ["core.routers.DomainRouter"]
# Seat maps and availability figures may come from the seats read replica (SEATS_REPLICA_DATABASE_URL) while it is
# at most this many seconds behind the primary; otherwise they are read from the primary (core/routers.py).
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
# The public seat map and availability JSON, the same for every viewer, are shared through the cache for this many
# whole seconds (orders/api/event_views.py): well within the staleness the replica may add. 0: every request reads.
PUBLIC_READ_CACHE_SECONDS = env.int("PUBLIC_READ_CACHE_SECONDS", default=1)
# The sales dashboard's figures that open dashboards poll (orders/admin/event_operations.py) are counted once per
# event and this many whole seconds for every staff member watching; a page load always counts afresh. 0: always.
DASHBOARD_SHARED_SECONDS = env.int("DASHBOARD_SHARED_SECONDS", default=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Passwords through Django's ModelBackend; staff capabilities per organization (core/permissions.py) through
# accounts' backend, so `user.has_perm(Capability.REFUND, organization_id)` works everywhere.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked (accounts/services/login.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.OrganizationRoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
# Staff whose role moves money or sees buyers' data (and superusers) must pass a TOTP code after their password
# before any other page answers them (accounts/middleware.py, docs/ACCOUNTS.md "Two-factor login").
STAFF_TWO_FACTOR_REQUIRED = env.bool("STAFF_TWO_FACTOR_REQUIRED", default=True)
OTP_TOTP_ISSUER = "TicketRemaster"

# --- Login throttling (django-axes; docs/RELIABILITY.md "Login throttling") ----------------------------------------
# How many reverse proxies that append to X-Forwarded-For stand between the clients and this server. 0: the client
# is REMOTE_ADDR and X-Forwarded-For is ignored (a client could write anything there). With N, the client address is
# the N-th entry from the right. Set it to exactly the number of proxies you run, never more.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_HANDLER = "accounts.services.login.LoginThrottleHandler"
# The account and, separately, the client address: never one lock for everyone.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.services.login.client_ip"
AXES_USERNAME_CALLABLE = "accounts.services.login.login_username"
AXES_FAILURE_LIMIT = "accounts.services.login.failure_limit"
AXES_COOLOFF_TIME = "accounts.services.login.lockout_period"
AXES_LOCKOUT_CALLABLE = "accounts.services.login.lockout_response"
# Attempts made while locked are not counted, so nobody can keep a victim locked out forever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Successful logins are not logged (the audit log and last_login say enough); failures live until pruned.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "csrfmiddlewaretoken", "otp_token", "code"]
AXES_VERBOSE = False
# Lockouts are answered on the staff pages by support through the login throttle docs, not by axes' own admin.
AXES_ENABLE_ADMIN = False
LOGIN_REDIRECT_URL = "events:list"
LOGOUT_REDIRECT_URL = "events:list"

# The lean dispatch of the hot API requests (orders/api/lean.py); false sends them through the full stack.
API_LEAN_DISPATCH = env.bool("API_LEAN_DISPATCH", default=True)
# API tokens last this many days from their issue (0: until revoked); `POST /api/v1/auth/token/revoke/` ends one.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)

# --- Cache (login throttling, API throttling, safe read caches) --------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Email -----------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="TicketRemaster <tickets@localhost>")
# Seconds a mail server may take per operation before the send fails (and the job retries later); without it a
# hung server would hold a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# The site's public address, for links in emails (sent by workers, outside any request).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Job queue (procrastinate; docs/JOBS.md) ---------------------------------------------------------------------
# Its tables live in orders_db, so a job deferred in an orders transaction commits or rolls back with it.
PROCRASTINATE_DATABASE_ALIAS = "orders"
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
# A worker silent for this long (they beat every 10 s) is dead: its running jobs are queued again.
JOBS_STALLED_AFTER_SECONDS = env.int("JOBS_STALLED_AFTER_SECONDS", default=60)

# The waiting room's per-event status files ("admitted up to N", docs/WAITING_ROOM.md): written by the admission
# job, polled by waiting buyers. In production the reverse proxy serves this folder at WAITING_ROOM_STATUS_URL.
WAITING_ROOM_STATUS_ROOT = env.path("TR_WAITING_ROOM_STATUS_ROOT", default=BASE_DIR / "var" / "waiting-room")
WAITING_ROOM_STATUS_URL = "/waiting-room-status/"

# Live seat maps (docs/BUYER.md, "Live availability"): where `manage.py publish_seat_changes` publishes what changed,
# nginx's nchan publisher location (deploy/templates/nginx.conf); the maps subscribe at /events/<id>/live/.
LIVE_PUBLISH_URL = env.str("TR_LIVE_PUBLISH_URL", default="")

# --- i18n / static ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Adding a language: docs/BUYER.md, "Languages and time zones".
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic writes and the reverse proxy serves /static/ from.
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")

# --- API -------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    # The API's anonymous throttle keys on the same client address as the login throttle (0: REMOTE_ADDR only;
    # DRF's default, None, would trust whatever X-Forwarded-For a client sends).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="6000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TicketRemaster API",
    "DESCRIPTION": "Events, seats, holds, orders, tickets, transfers and resale. Errors share one shape: "
    '{"code": "STABLE_CODE", "detail": "human text", "fields": {...}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the shared error answers (ticketremaster/api.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
    ],
}

# --- Security --------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No request body above 2.5 MiB (Django's default; an admin section layout is the largest legitimate body); enforced
# before parsing by core.middleware.RequestSizeLimitMiddleware, so the API's parsers obey it too.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Prometheus scrapes each app server directly over the private network, not through the TLS front.
    SECURE_REDIRECT_EXEMPT = [r"^metrics$"]

# --- Logs and metrics --------------------------------------------------------------------------------------------
# One JSON object per line with the request id (core/observability.py) unless DJANGO_LOG_FORMAT=text; to stderr, or
# to DJANGO_LOG_FILE (reopened when logrotate moves it).
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
LOG_FILE = env.str("DJANGO_LOG_FILE", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "main": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": LOG_FILE}
            if LOG_FILE
            else {"class": "logging.StreamHandler"}
        )
        | {"formatter": "json" if LOG_FORMAT == "json" else "text", "filters": ["request_id"]},
    },
    "root": {"handlers": ["main"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
# Where `manage.py backup` writes its folders (ops/backup.py).
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")
# GET /metrics answers a bearer token, or a direct request from these addresses (core/metrics.py).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1/32", "::1/128"])

# Test-only fault injection (crash between named steps of a purchase/transfer/resale). Never set in production.
FAULT_INJECTION_ENABLED = env.bool("FAULT_INJECTION_ENABLED", default=False)
