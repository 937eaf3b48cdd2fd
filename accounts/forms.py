"""Page forms: they parse input only; the rules live in accounts.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.contract import PREFERENCE_KEYS


class SignupForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False, help_text=_("Optional."))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label=_("Password"),
        help_text=_("At least 8 characters; not a common password."),
    )


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        label=_("Code"),
        error_messages={"invalid": _("Enter the 6-digit code from the email.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"\d{6}"}),
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)


class PasswordResetConfirmForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    code = CodeForm.base_fields["code"]
    new_password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    newsletter = forms.BooleanField(required=False, label=_("Email me about new events"))
    accessible_seating = forms.BooleanField(required=False, label=_("I need accessible seating"))
    aisle_seat = forms.BooleanField(required=False, label=_("I prefer aisle seats"))
    essential_emails_only = forms.BooleanField(
        required=False,
        label=_("Only essential emails"),
        help_text=_(
            "No emails about transfers, resale and payments. Order confirmations, refunds, cancellations and "
            "changes to your events are always sent."
        ),
    )

    def preferences(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(key)) for key in PREFERENCE_KEYS}


class TopUpForm(forms.Form):
    # A text field, not DecimalField: the service owns the amount rules and gives one clear message for each.
    amount = forms.CharField(label=_("Amount"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class TwoFactorForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off"}),
    )
