"""The admin page where platform staff reset the second factor of someone who lost their phone (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext, gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import two_factor
from core.errors import DomainError
from core.permissions import may_reset_two_factor


class ResetForm(forms.Form):
    user_id = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500, help_text=gettext_lazy("Why (e.g. how the person proved who they are)."))


def two_factor_reset_view(request: HttpRequest) -> HttpResponse:
    if not may_reset_two_factor(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = ResetForm(request.POST)
        if form.is_valid():
            try:
                removed = two_factor.two_factor_reset(
                    actor_id=request.user.pk, user_id=form.cleaned_data["user_id"], reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                messages.error(request, error.detail)
            else:
                messages.success(
                    request,
                    gettext("Removed %(removed)s device(s); they set up two-factor login again.")
                    % {"removed": removed},
                )
            return redirect("admin:accounts_two_factor")
        messages.error(request, gettext("Give a reason for the reset."))
    search = request.GET.get("q", "")[:254]
    return admin.site.page(
        request,
        "admin/accounts/two_factor.html",
        title=gettext("Two-factor devices"),
        rows=two_factor.two_factor_enrolments(search=search),
        search=search,
        form=ResetForm(),
    )


# django-otp's own device admins would show every secret key to anyone with model permissions: this page replaces them.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

admin.site.register_view("accounts/two-factor/", two_factor_reset_view, name="accounts_two_factor")
