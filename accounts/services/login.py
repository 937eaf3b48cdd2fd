"""Email and password login behind one brute-force throttle for every way in.

The throttle is django-axes: its authentication backend (first in AUTHENTICATION_BACKENDS) refuses a locked-out
account or client address inside ``django.contrib.auth.authenticate``, and its signal handlers record failures in
users_db. So the login page, the API token, the admin's login and the browsable API's login are all counted and
refused the same way, whichever view asked. This module holds the project's answers to axes' questions (who is the
client, who is the account, how many failures, for how long, what a lockout looks like) and the page/API login.

``login_max_failures`` failures within ``login_lockout_seconds`` (system settings) lock the account and, separately,
the client address; neither lock is global. Attempts made while locked are not recorded, so nobody can extend a
victim's lockout forever. A successful login forgives the account's failures, not the address's.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import ngettext

from accounts import DB_ALIAS
from accounts.contract import InvalidCredentials, LoginLocked
from accounts.models import User
from core import config


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N proxies in front, the address the
    outermost trusted proxy saw, i.e. the N-th entry from the right of X-Forwarded-For.

    Each proxy appends the address it received the request from, so the entries a client writes itself are always
    to the left of the ones our proxies add; anything further left than our N entries is ignored. A request that
    arrives with fewer entries than proxies did not come through them all, and is keyed by its REMOTE_ADDR.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part for part in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return _valid_ip(forwarded[-proxies]) or remote


def login_username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """The account a login attempt is about: the email, normalised as accounts stores it."""
    # axes names the credential after the user model's USERNAME_FIELD ("email"); Django's forms call it "username".
    credentials = {str(key): value for key, value in (credentials or {}).items()}
    value = credentials.get("email") or credentials.get("username")
    if value is None and request is not None:
        value = request.POST.get("username") or request.POST.get("email")
    return str(value).strip().lower()[:254] if value else None


def failure_limit(request: HttpRequest | None = None, credentials: dict | None = None) -> int:
    return config.get("login_max_failures")


def lockout_period(request: HttpRequest | None = None) -> timedelta:
    return timedelta(seconds=config.get("login_lockout_seconds"))


def _locked_scope(request: HttpRequest, credentials: dict | None) -> Q:
    scope = Q(pk__in=[])
    if username := login_username(request, credentials):
        scope |= Q(username=username)
    if address := client_ip(request):
        scope |= Q(ip_address=address)
    return scope


def login_retry_after(*, request: HttpRequest, credentials: dict | None) -> int:
    """Seconds until the newest failure that counts against this account or address leaves the window."""
    latest = (
        AccessAttempt.objects.using(DB_ALIAS)
        .filter(_locked_scope(request, credentials))
        .aggregate(latest=Max("attempt_time"))["latest"]
    )
    window = lockout_period(request)
    if latest is None:
        return int(window.total_seconds())
    return max(1, int((latest + window - timezone.now()).total_seconds()) + 1)


def _lockout_detail(retry_after: int) -> str:
    minutes = max(1, round(retry_after / 60))
    return ngettext(
        "Too many failed logins. Try again in about %(minutes)s minute.",
        "Too many failed logins. Try again in about %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What every login answers while locked (axes' AXES_LOCKOUT_CALLABLE): 429 with Retry-After; the API's error
    shape under /api/, a page everywhere else (the login page, the admin's, the browsable API's)."""
    retry_after = login_retry_after(request=request, credentials=credentials)
    detail = _lockout_detail(retry_after)
    response: HttpResponse
    if request.path.startswith("/api/"):
        error = LoginLocked(detail, retry_after=retry_after)
        response = JsonResponse({"code": error.code, "detail": detail, "retry_after": retry_after}, status=429)
    else:
        response = TemplateResponse(request, "accounts/login_locked.html", {"detail": detail}, status=429).render()
    response["Retry-After"] = str(retry_after)
    return response


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler, except that a success forgives only the account's own failures (axes' reset on
    success would also forgive the address: one account an attacker owns must not reset their guessing)."""

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        login_failures_forgive(email=user.email)


def login_failures_forgive(*, email: str) -> None:
    AccessAttempt.objects.using(DB_ALIAS).filter(username=email.strip().lower()).delete()


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Check email and password behind the throttle. Returns the User for django.contrib.auth.login (accounts' own
    views only; other apps use accounts.selectors.user_get). LoginLocked (429) while locked out."""
    email = (email or "").strip().lower()
    user = authenticate(request, username=email, password=password or "")
    if getattr(request, "axes_locked_out", False):
        retry_after = login_retry_after(request=request, credentials={"username": email})
        raise LoginLocked(_lockout_detail(retry_after), retry_after=retry_after)
    if user is None:
        raise InvalidCredentials()
    login_failures_forgive(email=email)
    return user
