"""Staff admin of users_db: people, the credit ledger, memberships.

Buyers' accounts and money are platform data: only platform staff (superusers) see the user list, the ledger and
balances, and only they flag an account or adjust credits (through accounts.services: ledger row + audit entry).
An organization's staff see the people who work for it here (Capability.STAFF) and its buyers only through its own
orders, tickets, transfers and entry logs (the orders admin).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from accounts import DB_ALIAS
from accounts.contract import InsufficientCredits
from accounts.models import LedgerEntry, OrganizationMembership, User
from accounts.services import card_refund_request, card_refundable_amount, credit_adjust, user_set_flag
from core import directory
from core.admin_tenancy import (
    AppendOnlyLogAdmin,
    Capability,
    TenantScopedAdmin,
    TenantScopedInline,
    actor_id,
    has_capability,
    is_superuser,
    organization_ids,
    row_label,
)
from core.audit import audit_record
from core.errors import DomainError
from core.forms import ReasonField
from core.prices import MAX_AMOUNT

# Roles come from memberships, not from Django groups or model permissions.
admin.site.unregister(Group)

LEDGER_ROWS_SHOWN = 50


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class MembershipInline(TenantScopedInline, admin.TabularInline):
    model = OrganizationMembership
    fk_name = "user"
    extra = 0
    fields = ["organization_id", "role", "created_at"]
    readonly_fields = ["created_at"]
    read_only_for_all = False
    manage_capability = None  # superusers manage memberships here; owners use the Memberships page

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # A staff member sees only the memberships of organizations they belong to (any role).
        orgs = organization_ids(request, Capability.GATE)
        return queryset if orgs is None else queryset.filter(organization_id__in=orgs)


class FlagForm(forms.Form):
    reason = ReasonField(rows=2)


class CreditAdjustForm(FlagForm):
    amount = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=-MAX_AMOUNT,
        max_value=MAX_AMOUNT,
        help_text=gettext_lazy("Positive adds credits, negative removes them. Written as an ADJUSTMENT ledger row."),
    )
    field_order = ["amount", "reason"]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(gettext("An adjustment of 0 changes nothing."))
        return amount


class CardRefundForm(FlagForm):
    amount = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=gettext_lazy(
            "Debited from the buyer's credits and refunded to the cards they paid with, newest payment first."
        ),
    )
    # One key per rendered form: submitting it twice refunds once.
    idempotency_key = forms.CharField(max_length=40, widget=forms.HiddenInput)
    field_order = ["amount", "reason", "idempotency_key"]


@admin.register(User)
class UserAdmin(TenantScopedAdmin):
    view_capability = Capability.STAFF  # an owner sees the staff of their organizations; superusers see everyone
    manage_capability = None  # profile fields, flags and credits: superusers only
    list_display = ["email", "full_name", "is_flagged", "is_verified", "is_staff", "credit_balance", "created_at"]
    list_filter = ["is_flagged", "is_staff", "is_verified", "is_active", "is_superuser"]
    search_fields = ["email", "full_name", "phone", "=id"]
    ordering = ["email"]
    inlines = [MembershipInline]
    readonly_fields = [
        "id",
        "credit_balance",
        "is_flagged",
        "flag_reason",
        "operations",
        "ledger",
        "last_login",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["id", "email", "full_name", "phone"]}),
        ("Credits", {"fields": ["credit_balance", "ledger"]}),
        ("Status", {"fields": ["is_active", "is_verified", "is_flagged", "flag_reason", "operations"]}),
        ("Staff", {"fields": ["is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "full_name", "password1", "password2"]})]

    def get_queryset(self, request):
        queryset = User.objects.all()
        orgs = organization_ids(request, Capability.STAFF)
        if orgs is None:
            return queryset
        staff = OrganizationMembership.objects.filter(organization_id__in=orgs).values("user_id")
        return queryset.filter(pk__in=staff)

    def object_organization_id(self, obj):  # people span organizations: get_queryset already scoped them
        return None

    def has_view_permission(self, request, obj=None):
        return is_superuser(request) or has_capability(request, Capability.STAFF)

    def has_add_permission(self, request, obj=None):
        return is_superuser(request)

    def has_change_permission(self, request, obj=None):
        return is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return False  # ledgers and audit rows point at users: deactivate instead

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = super().get_readonly_fields(request, obj)
        return fields if is_superuser(request) else [f for f in fields if f not in ("ledger", "operations")]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if is_superuser(request):
            return super().get_fieldsets(request, obj)
        # An organization's owner sees who works for them, not their wallet.
        return [
            (None, {"fields": ["id", "email", "full_name", "phone"]}),
            (gettext_lazy("Staff"), {"fields": ["is_staff"]}),
        ]

    @admin.display(description=gettext_lazy("ledger (latest entries)"))
    def ledger(self, obj):
        entries = list(LedgerEntry.objects.filter(user=obj).order_by("-created_at")[:LEDGER_ROWS_SHOWN])
        if not entries:
            return gettext("No ledger entries.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td style='text-align:right'>{}</td><td style='text-align:right'>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (f"{e.created_at:%Y-%m-%d %H:%M}", e.get_kind_display(), e.amount, e.balance_after, e.reference, e.memo)
                for e in entries
            ),
        )
        more = reverse("admin:accounts_ledgerentry_changelist") + f"?user__id__exact={obj.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            '<th>{}</th></tr></thead><tbody>{}</tbody></table><a href="{}">{}</a>',
            gettext("When"),
            gettext("Kind"),
            gettext("Amount"),
            gettext("Balance"),
            gettext("Reference"),
            gettext("Memo"),
            rows,
            more,
            gettext("All entries"),
        )

    @admin.display(description=gettext_lazy("actions"))
    def operations(self, obj):
        if obj is None or obj._state.adding:
            return "—"
        flag_label = gettext("Unflag…") if obj.is_flagged else gettext("Flag…")
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            reverse("admin:accounts_user_flag", args=[obj.pk]),
            flag_label,
            reverse("admin:accounts_user_adjust", args=[obj.pk]),
            gettext("Adjust credits…"),
            reverse("admin:accounts_user_card_refund", args=[obj.pk]),
            gettext("Refund to card…"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/flag/", view(self.flag_view), name="accounts_user_flag"),
            path("<path:object_id>/adjust/", view(self.adjust_view), name="accounts_user_adjust"),
            path("<path:object_id>/card-refund/", view(self.card_refund_view), name="accounts_user_card_refund"),
            *super().get_urls(),
        ]

    def _user_for_manage(self, request, object_id) -> User:
        if not is_superuser(request):
            raise Http404("No such user.")  # platform-wide powers: platform staff only
        return self.get_object(request, object_id)

    def _form_page(self, request, user, form, title, submit) -> HttpResponse:
        return self.model_page(
            request, "admin/accounts/user/action_form.html", title=title, original=user, form=form, submit=submit
        )

    def flag_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._user_for_manage(request, object_id)
        form = FlagForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                user_set_flag(
                    actor_id=actor_id(request),
                    user_id=user.pk,
                    flagged=not user.is_flagged,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                # The admin capitalises a message's first letter: a sentence that starts with the email would change it.
                if user.is_flagged:
                    text = gettext("Cleared the flag of %(email)s.")
                else:
                    text = gettext("Flagged %(email)s (they must pass a step-up code to pay).")
                messages.success(request, text % {"email": user.email})
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        title = (gettext("Unflag %(email)s") if user.is_flagged else gettext("Flag %(email)s")) % {"email": user.email}
        return self._form_page(request, user, form, title, gettext("Unflag") if user.is_flagged else gettext("Flag"))

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._user_for_manage(request, object_id)
        form = CreditAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                balance = credit_adjust(
                    actor_id=actor_id(request),
                    user_id=user.pk,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                )
            except InsufficientCredits:
                # The service's wording speaks to a buyer ("top up your wallet"); staff need the figures.
                form.add_error(
                    "amount",
                    gettext(
                        "This would take the balance below zero: %(email)s has %(balance)s credits, so the largest "
                        "deduction is -%(balance)s."
                    )
                    % {"email": user.email, "balance": user.credit_balance},
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                amount = form.cleaned_data["amount"]
                messages.success(
                    request,
                    gettext("Adjusted the credits of %(email)s by %(amount)s; balance now %(balance)s.")
                    % {"email": user.email, "amount": amount, "balance": balance},
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        return self._form_page(
            request, user, form, gettext("Adjust the credits of %(email)s") % {"email": user.email}, gettext("Adjust")
        )

    def card_refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Staff send a buyer's unused credits back to their cards (a goodwill or a closed-account refund)."""
        user = self._user_for_manage(request, object_id)
        form = CardRefundForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                parts = card_refund_request(
                    user_id=user.pk,
                    amount=form.cleaned_data["amount"],
                    request_reference=f"staff:{form.cleaned_data['idempotency_key']}",
                    actor_id=actor_id(request),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                total = sum((part.amount for part in parts), Decimal("0.00"))
                messages.success(
                    request,
                    gettext("%(total)s credits of %(email)s are on their way back to their card.")
                    % {"total": total, "email": user.email},
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        refundable = card_refundable_amount(user_id=user.pk)
        title = gettext("Refund credits of %(email)s to their card (up to %(amount)s)") % {
            "email": user.email,
            "amount": refundable,
        }
        return self._form_page(request, user, form, title, gettext("Refund to card"))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AppendOnlyLogAdmin, TenantScopedAdmin):
    """Money moves only through accounts.services."""

    view_capability = None  # the platform ledger: superusers only
    list_display = ["created_at", "user", "kind", "amount", "balance_after", "reference", "memo"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["user"]
    search_fields = ["reference", "user__email", "memo"]
    raw_id_fields = ["user"]

    def object_organization_id(self, obj):
        return None


class OrganizationChoiceField(forms.TypedChoiceField):
    def __init__(self, *, organization_names: dict, **kwargs):
        super().__init__(
            choices=[("", "---------"), *((str(pk), name) for pk, name in organization_names.items())],
            coerce=uuid.UUID,
            **kwargs,
        )


class MembershipForm(forms.ModelForm):
    email = forms.EmailField(help_text=gettext_lazy("The staff member's account email (they sign up first)."))

    class Meta:
        model = OrganizationMembership
        fields = ["organization_id", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields.pop("email")

    def clean(self):
        data = super().clean()
        if self.instance._state.adding and data.get("email"):
            user = User.objects.filter(email__iexact=data["email"].strip()).first()
            if user is None:
                self.add_error("email", gettext("No account with this email address."))
            else:
                self.instance.user = user
        org = data.get("organization_id")
        if self.instance.user_id and org:
            others = OrganizationMembership.objects.filter(user_id=self.instance.user_id, organization_id=org)
            if others.exclude(pk=self.instance.pk).exists():
                self.add_error("organization_id", gettext("This person is already a member of this organization."))
        return data


@admin.register(OrganizationMembership)
class MembershipAdmin(TenantScopedAdmin):
    named_columns = ((directory.ORGANIZATION, "organization_id", "organization_label"),)
    view_capability = Capability.STAFF
    manage_capability = Capability.STAFF
    delete_capability = Capability.STAFF
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name"]
    form = MembershipForm
    readonly_fields = ["user"]

    def get_fields(self, request, obj=None):
        return ["email", "organization_id", "role"] if obj is None else ["user", "organization_id", "role"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user"]

    @admin.display(description=gettext_lazy("organization"))
    def organization(self, obj):
        return row_label(obj, kind=directory.ORGANIZATION, id_attr="organization_id", label_attr="organization_label")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "organization_id":
            names = directory.names(directory.ORGANIZATION, organization_ids(request, Capability.STAFF))
            # One organization: nothing to choose, so it is chosen.
            initial = str(next(iter(names))) if len(names) == 1 else None
            return OrganizationChoiceField(
                organization_names=names, label=gettext_lazy("Organization"), initial=initial
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _audit(self, request, obj, verb, message):
        pass  # save_model/delete_model below write a richer audit row (user and role) themselves

    def save_model(self, request, obj, form, change):
        if not has_capability(request, Capability.STAFF, obj.organization_id):
            raise Http404("No such organization.")
        with transaction.atomic(using=DB_ALIAS):
            super().save_model(request, obj, form, change)
            # A member needs is_staff to log into the admin at all; the role decides the rest.
            User.objects.filter(pk=obj.user_id, is_staff=False).update(is_staff=True)
        audit_record(
            actor_id=actor_id(request),
            action="membership.change" if change else "membership.add",
            object_type="membership",
            object_id=str(obj.pk),
            organization_id=obj.organization_id,
            data={"user_id": str(obj.user_id), "role": obj.role},
        )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        audit_record(
            actor_id=actor_id(request),
            action="membership.remove",
            object_type="membership",
            object_id=str(obj.pk),
            organization_id=obj.organization_id,
            data={"user_id": str(obj.user_id), "role": obj.role},
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


# The two-factor reset page (platform staff) registers itself on the admin site.
from accounts import admin_two_factor  # noqa: E402, F401
