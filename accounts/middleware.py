"""Staff who must use a second factor see nothing but the two-factor pages until this session has passed it.

It holds for every way a session is made: the login page, the admin's login, the browsable API's login. It checks
on every request, not once at login, so a role granted to someone already logged in demands the second factor at
once. API tokens are issued to such staff only with a code (accounts/api/views.py), so token requests need no check
here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.contract import TwoFactorRequired
from accounts.services.two_factor import two_factor_required, two_factor_session_passed
from core.middleware import is_viewer_independent

# What a session that still owes its second factor may reach: the two-factor pages, logging out, and the
# infrastructure endpoints that never show anyone's data.
_OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/healthz", "/livez", "/metrics")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        # Checked once the view is known: a viewer-independent view (the seat map's live changes) shows no one's
        # data and is polled by every open map, so it must not cost a session and user lookup.
        if is_viewer_independent(view_func) or not self._owes_second_factor(request):
            return None
        if request.path.startswith("/api/"):
            error = TwoFactorRequired(gettext("Complete the two-factor login in the browser first."))
            return JsonResponse({"code": error.code, "detail": error.detail}, status=error.status)
        target = reverse("accounts:two_factor")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")

    def _owes_second_factor(self, request: HttpRequest) -> bool:
        if not settings.STAFF_TWO_FACTOR_REQUIRED or request.path.startswith(_OPEN_PREFIXES):
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return two_factor_required(user) and not two_factor_session_passed(request)


class PreferredLanguageMiddleware:
    """Pages in the language a signed-in buyer chose before, on a browser that has not been told (no cookie yet).

    The switcher's cookie wins: it is the choice made on this browser, and set_language stores it on the account
    too. The account is only read for a session that is signed in already.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        # A viewer-independent view (the seat map's live changes) says the same to everyone, in no language: it must
        # not cost a session read.
        if is_viewer_independent(view_func) or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            return None
        if request.session.get(SESSION_KEY):
            language = getattr(request.user, "preferred_language", "")
            if language and translation.check_for_language(language):
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return None
