"""Account pages: sign-up, email verification, login/logout, password reset, profile, wallet, top-up, step-up.

Views parse the form, call one service and render; every DomainError becomes a readable message or form error.
"""

from __future__ import annotations

import uuid

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import DB_ALIAS, payments, selectors, services
from accounts.contract import LoginLocked, OneTimeCodePurpose, TopUpStatus
from accounts.forms import (
    CodeForm,
    LoginForm,
    PasswordResetConfirmForm,
    PasswordResetRequestForm,
    ProfileForm,
    SignupForm,
    TopUpForm,
    TwoFactorForm,
)
from accounts.models import User
from accounts.services import two_factor as two_factor_service
from core import config, moneyfmt
from core.errors import DomainError, NotFound
from core.ids import as_uuid

_BACKEND = "django.contrib.auth.backends.ModelBackend"
_RESET_EMAIL_KEY = "accounts_reset_email"


# Where a top-up started from a checkout sends the buyer back (a same-site path checked by _safe_next).
TOPUP_RETURN_KEY = "topup_return_to"


def form_page(view):
    """A page with a form: never cached (it carries the visitor's data and a CSRF token); GET shows, POST sends."""
    return never_cache(require_http_methods(["GET", "POST"])(view))


def signed_in_form_page(view):
    """A form page for a signed-in visitor; anyone else is sent to log in first."""
    return never_cache(login_required(require_http_methods(["GET", "POST"])(view)))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


def _attach(form: forms.Form, error: DomainError) -> None:
    """Put a domain error on the form: per-field messages where the service named fields, else on the form."""
    placed = False
    for field, problems in (error.fields or {}).items():
        if field in form.fields:
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, error.detail)


def _session_user(user_id) -> User:
    return User.objects.db_manager(DB_ALIAS).get(pk=user_id)


# --- Sign-up and verification ----------------------------------------------------------------------------------


@form_page
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            info = services.user_register(**form.cleaned_data)
        except DomainError as error:
            _attach(form, error)
        else:
            login(request, _session_user(info.id), backend=_BACKEND)
            messages.success(
                request,
                _("Welcome! We emailed a 6-digit code to %(email)s to confirm the address.") % {"email": info.email},
            )
            return redirect("accounts:verify")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@signed_in_form_page
def verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.user.is_verified:
        messages.info(request, _("Your email address is verified."))
        return redirect(_safe_next(request, "accounts:profile"))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_verify_email(user_id=request.user.pk, code=form.cleaned_data["code"])
        except DomainError as error:
            _attach(form, error)
        else:
            messages.success(request, _("Thank you: your email address is verified."))
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/verify.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def verify_resend(request: HttpRequest) -> HttpResponse:
    try:
        services.user_resend_verification(user_id=request.user.pk)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("We sent a new code to %(email)s.") % {"email": request.user.email})
    return redirect("accounts:verify")


# --- Login, logout, password reset -----------------------------------------------------------------------------


@form_page
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_authenticate(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except LoginLocked as error:
            form.add_error(None, error.detail)
            status, retry_after = 429, error.context.get("retry_after")
        except DomainError as error:
            form.add_error(None, error.detail)
            status = 400
        else:
            login(request, user, backend=_BACKEND)
            if not user.is_verified:
                messages.warning(request, _("Please confirm your email address with the code we sent you."))
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    elif form.errors:
        status = 400
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")}
    response = render(request, "accounts/login.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You are logged out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@form_page
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        request.session[_RESET_EMAIL_KEY] = form.cleaned_data["email"]
        # The same answer whether or not the address has an account.
        messages.info(request, _("If that address has an account, we emailed it a 6-digit code."))
        return redirect("accounts:password_reset_confirm")
    return render(request, "accounts/password_reset.html", {"form": form}, status=400 if form.errors else 200)


@form_page
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    form = PasswordResetConfirmForm(request.POST or None, initial={"email": request.session.get(_RESET_EMAIL_KEY, "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(
                email=form.cleaned_data["email"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as error:
            _attach(form, error)
        else:
            request.session.pop(_RESET_EMAIL_KEY, None)
            messages.success(request, _("Your password is changed. Log in with the new one."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form}, status=400 if form.errors else 200)


# --- Profile ---------------------------------------------------------------------------------------------------


@signed_in_form_page
def profile(request: HttpRequest) -> HttpResponse:
    info = selectors.user_profile(user_id=request.user.pk)
    initial = {"full_name": info.full_name, "phone": info.phone, **info.preferences}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(
                user_id=info.id,
                full_name=form.cleaned_data["full_name"],
                phone=form.cleaned_data["phone"],
                preferences=form.preferences(),
            )
        except DomainError as error:
            _attach(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:profile")
    context = {"form": form, "info": info}
    return render(request, "accounts/profile.html", context, status=400 if form.errors else 200)


# --- Wallet and top-ups ----------------------------------------------------------------------------------------


@never_cache
@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    info = selectors.user_get(user_id=request.user.pk)
    page = Paginator(selectors.ledger_for_user(user_id=info.id), 20).get_page(request.GET.get("page"))
    topups = selectors.topups_for_user(user_id=info.id)[:10]
    return render(
        request,
        "accounts/wallet.html",
        {
            "info": info,
            "page": page,
            "topups": topups,
            "topup_form": TopUpForm(),
            "topups_available": payments.topups_available(),
            "card_refundable": services.card_refundable_amount(user_id=info.id),
            "refund_key": uuid.uuid4().hex,
        },
    )


@signed_in_form_page
def topup(request: HttpRequest) -> HttpResponse:
    # From a checkout short of credits: the shortfall is suggested and the buyer is sent back there afterwards.
    form = TopUpForm(request.POST or None, initial={"amount": request.GET.get("amount", "")[:20]})
    return_to = _safe_next(request, "accounts:wallet")
    return_to = "" if return_to == reverse("accounts:wallet") else return_to
    if request.method == "POST" and form.is_valid():
        try:
            started = services.topup_start(user_id=request.user.pk, amount=form.cleaned_data["amount"])
        except DomainError as error:
            _attach(form, error)
        else:
            if return_to:
                request.session[TOPUP_RETURN_KEY] = return_to
            else:
                request.session.pop(TOPUP_RETURN_KEY, None)
            return HttpResponseRedirect(started.pay_url)
    available = payments.topups_available()
    context = {
        "form": form,
        "maximum": config.get("max_topup_amount"),
        "topups_available": available,
        "return_to": return_to,
    }
    return render(request, "accounts/topup.html", context, status=400 if form.errors or not available else 200)


@signed_in_form_page
def test_pay(request: HttpRequest, provider_reference: str) -> HttpResponse:
    """The built-in test provider's payment page. Pay (or decline) makes the provider send its signed webhook."""
    if not payments.test_provider_active():
        raise Http404("The test payment provider is not enabled.")
    try:
        topup_info = selectors.topup_get_for_user(user_id=request.user.pk, provider_reference=provider_reference)
    except NotFound:
        raise Http404("No such payment.")
    if topup_info.provider != payments.TestProvider.name:
        raise Http404("No such payment.")
    if request.method == "POST":
        if topup_info.status != TopUpStatus.PENDING:
            messages.info(request, _("This payment is already finished."))
            return redirect("accounts:wallet")
        succeeded = request.POST.get("action", "pay") != "decline"
        provider = payments.get_provider(payments.TestProvider.name)
        delivery = provider.complete_payment(
            provider_reference=topup_info.provider_reference, amount=topup_info.amount, succeeded=succeeded
        )
        if delivery.status_code != 200:
            messages.error(request, _("The payment provider could not confirm the payment. Please try again."))
        elif succeeded:
            messages.success(
                request,
                _("Payment received: %(credits)s were added to your wallet.")
                % {"credits": moneyfmt.credits(topup_info.amount)},
            )
        else:
            messages.warning(request, _("The payment was declined; no credits were added."))
        if topup_info.order_id:
            # Paying the difference of a checkout: back to the order, which finishes once the payment landed.
            return redirect(reverse("orders:detail", args=[topup_info.order_id]))
        return redirect(request.session.pop(TOPUP_RETURN_KEY, None) or "accounts:wallet")
    return render(request, "accounts/test_pay.html", {"topup": topup_info})


@login_required
@require_POST
def card_refund(request: HttpRequest) -> HttpResponse:
    """Send credits back to the cards they were bought with; the form's key makes a double submit refund once."""
    key = (request.POST.get("idempotency_key") or "").strip()[:60]
    if not key:
        messages.error(request, _("Please use the refund form on the wallet page."))
        return redirect("accounts:wallet")
    try:
        parts = services.card_refund_request(
            user_id=request.user.pk, amount=request.POST.get("amount"), request_reference=f"{request.user.pk}:{key}"
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        total = sum(part.amount for part in parts)
        messages.success(
            request, _("%(credits)s are on their way back to your card.") % {"credits": moneyfmt.credits(total)}
        )
    return redirect("accounts:wallet")


@never_cache
@login_required
@require_http_methods(["GET"])
def topup_status(request: HttpRequest, topup_id) -> HttpResponse:
    """Where the provider's page sends the buyer back. Shows what the webhook said so far: the redirect itself
    proves nothing (anyone can open this address), so it never credits anything."""
    key = as_uuid(topup_id)
    try:
        topup_info = selectors.topup_get(topup_id=key, user_id=request.user.pk) if key else None
    except NotFound:
        topup_info = None
    if topup_info is None:
        raise Http404("No such top-up.")
    context = {
        "topup": topup_info,
        "cancelled": request.GET.get("cancelled") == "1",
        "return_to": request.session.get(TOPUP_RETURN_KEY, ""),
    }
    return render(request, "accounts/topup_status.html", context)


# --- Checkout step-up ------------------------------------------------------------------------------------------


@signed_in_form_page
def step_up(request: HttpRequest) -> HttpResponse:
    """A flagged buyer confirms a code sent by email before paying; valid for 15 minutes."""
    user_id = request.user.pk
    next_url = _safe_next(request, settings.LOGIN_REDIRECT_URL)
    purpose = OneTimeCodePurpose.CHECKOUT_STEP_UP
    form = CodeForm(request.POST or None) if request.POST.get("action") != "resend" else CodeForm()
    if request.method == "GET":
        if selectors.step_up_is_satisfied(user_id=user_id):
            return redirect(next_url)
        # The first visit sends a code; later visits reuse the open one instead of flooding the mailbox.
        if not selectors.otp_has_open_code(user_id=user_id, purpose=purpose):
            services.otp_issue(user_id=user_id, purpose=purpose)
            messages.info(request, _("We emailed a 6-digit code to %(email)s.") % {"email": request.user.email})
    elif request.POST.get("action") == "resend":
        try:
            services.otp_resend(user_id=user_id, purpose=purpose)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("We sent a new code to %(email)s.") % {"email": request.user.email})
        return redirect(f"{reverse('accounts:step_up')}?{request.GET.urlencode()}")
    elif form.is_valid():
        try:
            services.otp_verify(user_id=user_id, purpose=purpose, code=form.cleaned_data["code"])
        except DomainError as error:
            _attach(form, error)
        else:
            messages.success(request, _("Thank you, you are confirmed. You can complete your purchase now."))
            return redirect(next_url)
    context = {"form": form, "next": next_url}
    return render(request, "accounts/step_up.html", context, status=400 if form.errors else 200)


# --- Two-factor login for staff (accounts/services/two_factor.py) ------------------------------------------------


@signed_in_form_page
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app (first time) or pass the second factor for this session."""
    owes = settings.STAFF_TWO_FACTOR_REQUIRED and two_factor_service.two_factor_required(request.user)
    if not owes or two_factor_service.two_factor_session_passed(request):
        return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    enrolled = two_factor_service.two_factor_enrolled(user_id=request.user.pk)
    form = TwoFactorForm(request.POST or None)
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", ""), "enrolled": enrolled}
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"]
        try:
            if enrolled:
                two_factor_service.two_factor_verify(request=request, token=token)
            else:
                codes = two_factor_service.totp_enrolment_confirm(request=request, user_id=request.user.pk, token=token)
                return render(
                    request,
                    "accounts/two_factor_recovery.html",
                    {"codes": codes, "continue_url": _safe_next(request, settings.LOGIN_REDIRECT_URL)},
                )
        except DomainError as error:
            form.add_error("otp_token", error.detail)
        else:
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    if not enrolled:
        # The same pending device while its code is being typed (a wrong code shows the same QR again).
        enrolment = two_factor_service.totp_enrolment_pending(
            user_id=request.user.pk
        ) or two_factor_service.totp_enrolment_start(user_id=request.user.pk)
        context["enrolment"] = enrolment
        context["qr_data_uri"] = segno.make(enrolment.otpauth_uri, error="m").svg_data_uri(scale=4)
    return render(request, "accounts/two_factor.html", context, status=400 if form.errors else 200)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's switcher (cookie, redirect back), and for a signed-in person the choice kept on the account too."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_set_language(user_id=request.user.pk, language=language)
    return response
