"""Settings for TicketRemaster, read from the environment (django-environ).

Every secret comes from the environment. With DJANGO_DEBUG off, a missing DJANGO_SECRET_KEY stops the start with
one line. Each domain database has its own URL variable; with none set, an embedded PostgreSQL is started
(ticketremaster/embedded_db.py) and the four aliases point at its four databases.
"""

from __future__ import annotations

from pathlib import Path

import environ

from ticketremaster.startup import StartupError

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
# Which payment provider tops up credits. "test" is the built-in provider whose page "pays" locally (demo,
# development); a real provider is registered in accounts/payments.py and selected here.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="test")
# Shared secret of the payment provider's webhook (HMAC over timestamp and body).
PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET", default="") or f"webhook:{SECRET_KEY}"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "ticketremaster.apps.TicketRemasterConfig",
    "accounts.apps.AccountsConfig",
    "events.apps.EventsConfig",
    "inventory.apps.InventoryConfig",
    "orders.apps.OrdersConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ticketremaster.middleware.SecurityHeadersMiddleware",
    "ticketremaster.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ticketremaster.middleware.DatabaseUnavailableMiddleware",
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
# One alias per domain. `default` is users_db: accounts plus Django's own apps (auth, admin, sessions, ...).
DATABASE_URL_VARIABLES = {
    "default": ("USERS_DATABASE_URL", "users_db"),
    "seats": ("SEATS_DATABASE_URL", "seats_db"),
    "orders": ("ORDERS_DATABASE_URL", "orders_db"),
    "events": ("EVENTS_DATABASE_URL", "events_db"),
}
# Which app's tables live on which alias; the router (ticketremaster/routers.py) reads this.
DATABASE_APPS_MAPPING = {
    "accounts": "default",
    "ticketremaster": "default",
    "inventory": "seats",
    "orders": "orders",
    "events": "events",
}

_embedded_url = None
if any(not env.str(variable, default="") for variable, _name in DATABASE_URL_VARIABLES.values()):
    from ticketremaster import embedded_db

    try:
        _embedded_url = embedded_db.ensure_running()
    except embedded_db.EmbeddedDatabaseError as exc:
        raise StartupError(str(exc)) from exc

# A pooled connection per worker thread is reused across requests; the pool is opt-out for tools that fork.
DATABASE_POOL = env.bool("DATABASE_POOL", default=False)
DATABASES = {}
for _alias, (_variable, _dbname) in DATABASE_URL_VARIABLES.items():
    _url = env.str(_variable, default="") or f"{_embedded_url}/{_dbname}"
    try:
        _config = environ.Env.db_url_config(_url)
    except Exception as exc:  # noqa: BLE001 - django-environ raises several types for a bad URL
        raise StartupError(f"{_variable} is not a valid database URL: {exc}") from exc
    if _config["ENGINE"] != "django.db.backends.postgresql":
        raise StartupError(f"{_variable} must point at PostgreSQL, not {_config['ENGINE']}")
    _config["OPTIONS"] = {"connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5)}
    if DATABASE_POOL:
        _config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": env.int("DATABASE_POOL_SIZE", default=4), "timeout": 5}
    else:
        _config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        _config["CONN_HEALTH_CHECKS"] = True
    # Parallel test runs on one server (several checkouts, helpers) each get their own test databases.
    _config["TEST"] = {"NAME": f"test_{_dbname}{env.str('TEST_DB_SUFFIX', default='')}"}
    DATABASES[_alias] = _config

DATABASE_ROUTERS = ["ticketremaster.routers.DomainRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
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
LOGIN_REDIRECT_URL = "events:list"
LOGOUT_REDIRECT_URL = "events:list"

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

# --- i18n / static ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- API -------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ticketremaster.errors.api_exception_handler",
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
        "ticketremaster.api.add_error_responses",
    ],
}

# --- Security --------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No request body above 2.5 MiB (Django's default; an admin section layout is the largest legitimate body); enforced
# before parsing by ticketremaster.middleware.RequestSizeLimitMiddleware, so the API's parsers obey it too.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# Test-only fault injection (crash between named steps of a purchase/transfer/resale). Never set in production.
FAULT_INJECTION_ENABLED = env.bool("FAULT_INJECTION_ENABLED", default=False)
