"""Staff admin of users_db: buyers and staff, the credit ledger, memberships, the audit log.

Balances are never edited here: a credit adjustment and a flag go through accounts.services (ledger row + audit
entry) from small forms on the user page. Staff of an organization see the buyers of its events and its own staff;
superusers see everyone.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts import DB_ALIAS
from accounts.models import AuditLog, LedgerEntry, OrganizationMembership, User
from ticketremaster.admin_tenancy import (
    Capability,
    TenantScopedAdmin,
    TenantScopedInline,
    actor_id,
    event_ids,
    has_capability,
    is_superuser,
    organization_ids,
)
from ticketremaster.errors import DomainError

# Roles come from memberships, not from Django groups or model permissions.
admin.site.unregister(Group)

LEDGER_ROWS_SHOWN = 50


def _visible_user_filter(request: HttpRequest, capability: Capability) -> Q | None:
    """Users staff may see under ``capability``: buyers of their organizations' events and their staff.

    ``None`` means everyone (superuser).
    """
    orgs = organization_ids(request, capability)
    if orgs is None:
        return None
    if not orgs:
        return Q(pk__in=[])
    from orders.staff_selectors import buyer_ids_for_events

    buyers = buyer_ids_for_events(event_ids=event_ids(request, capability) or set())
    staff = OrganizationMembership.objects.filter(organization_id__in=orgs).values("user_id")
    return Q(pk__in=buyers) | Q(pk__in=staff)


def user_in_scope(request: HttpRequest, user_id, capability: Capability) -> bool:
    condition = _visible_user_filter(request, capability)
    if condition is None:
        return True
    return User.objects.using(DB_ALIAS).filter(condition, pk=user_id).exists()


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
    reason = forms.CharField(max_length=255, widget=forms.Textarea(attrs={"rows": 2}), help_text="Required; audited.")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class CreditAdjustForm(FlagForm):
    amount = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("-99999999.99"),
        max_value=Decimal("99999999.99"),
        help_text="Positive adds credits, negative removes them. Written as an ADJUSTMENT ledger row.",
    )
    field_order = ["amount", "reason"]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment of 0 changes nothing.")
        return amount


@admin.register(User)
class UserAdmin(TenantScopedAdmin):
    view_capability = Capability.BUYERS_VIEW
    manage_capability = None  # profile fields: superusers only; staff act through the forms below
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
        condition = _visible_user_filter(request, Capability.BUYERS_VIEW)
        return queryset if condition is None else queryset.filter(condition)

    def object_organization_id(self, obj):  # users span organizations: checked by user_in_scope instead
        return None

    def has_view_permission(self, request, obj=None):
        if is_superuser(request):
            return True
        return has_capability(request, Capability.BUYERS_VIEW)  # get_object is already scoped

    def has_add_permission(self, request, obj=None):
        return is_superuser(request)

    def has_change_permission(self, request, obj=None):
        return is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return False  # ledgers and audit rows point at users: deactivate instead

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="ledger (latest entries)")
    def ledger(self, obj):
        entries = list(LedgerEntry.objects.filter(user=obj).order_by("-created_at")[:LEDGER_ROWS_SHOWN])
        if not entries:
            return "No ledger entries."
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
            "<table><thead><tr><th>When</th><th>Kind</th><th>Amount</th><th>Balance</th><th>Reference</th>"
            '<th>Memo</th></tr></thead><tbody>{}</tbody></table><a href="{}">All entries</a>',
            rows,
            more,
        )

    @admin.display(description="actions")
    def operations(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        flag_label = "Unflag…" if obj.is_flagged else "Flag…"
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">Adjust credits…</a>',
            reverse("admin:accounts_user_flag", args=[obj.pk]),
            flag_label,
            reverse("admin:accounts_user_adjust", args=[obj.pk]),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/flag/", view(self.flag_view), name="accounts_user_flag"),
            path("<path:object_id>/adjust/", view(self.adjust_view), name="accounts_user_adjust"),
            *super().get_urls(),
        ]

    def _user_for_manage(self, request, object_id) -> User:
        user = self.get_object(request, object_id)
        if not has_capability(request, Capability.BUYERS_MANAGE) or not user_in_scope(
            request, user.pk, Capability.BUYERS_MANAGE
        ):
            raise Http404("No such user.")
        return user

    def _form_page(self, request, user, form, title, submit) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": user,
            "form": form,
            "submit": submit,
        }
        return TemplateResponse(request, "admin/accounts/user/action_form.html", context)

    def flag_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._user_for_manage(request, object_id)
        form = FlagForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from accounts.services import user_set_flag

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
                state = "unflagged" if user.is_flagged else "flagged (must pass a step-up code to pay)"
                messages.success(request, f"{user.email} is {state}.")
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        title = f"{'Unflag' if user.is_flagged else 'Flag'} {user.email}"
        return self._form_page(request, user, form, title, "Unflag" if user.is_flagged else "Flag")

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._user_for_manage(request, object_id)
        form = CreditAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from accounts.services import credit_adjust

            try:
                balance = credit_adjust(
                    actor_id=actor_id(request),
                    user_id=user.pk,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                amount = form.cleaned_data["amount"]
                messages.success(request, f"{user.email}: adjusted by {amount}; balance now {balance}.")
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        return self._form_page(request, user, form, f"Adjust the credits of {user.email}", "Adjust")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(TenantScopedAdmin):
    view_capability = Capability.BUYERS_VIEW
    read_only_for_all = True  # append-only: money moves only through accounts.services
    list_display = ["created_at", "user", "kind", "amount", "balance_after", "reference", "memo"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["user"]
    search_fields = ["reference", "user__email", "memo"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = LedgerEntry.objects.select_related("user")
        condition = _visible_user_filter(request, Capability.BUYERS_VIEW)
        if condition is None:
            return queryset
        return queryset.filter(user__in=User.objects.filter(condition).values("pk"))

    def object_organization_id(self, obj):
        return None

    def has_view_permission(self, request, obj=None):
        return is_superuser(request) or has_capability(request, Capability.BUYERS_VIEW)


class OrganizationChoiceField(forms.TypedChoiceField):
    def __init__(self, *, organization_names: dict, **kwargs):
        super().__init__(
            choices=[("", "---------"), *((str(pk), name) for pk, name in organization_names.items())],
            coerce=uuid.UUID,
            **kwargs,
        )


class MembershipForm(forms.ModelForm):
    email = forms.EmailField(help_text="The staff member's account email (they sign up first).")

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
                self.add_error("email", "No account with this email address.")
            else:
                self.instance.user = user
        org = data.get("organization_id")
        if self.instance.user_id and org:
            others = OrganizationMembership.objects.filter(user_id=self.instance.user_id, organization_id=org)
            if others.exclude(pk=self.instance.pk).exists():
                self.add_error("organization_id", "This person is already a member of this organization.")
        return data


@admin.register(OrganizationMembership)
class MembershipAdmin(TenantScopedAdmin):
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

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(organization_id__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.organization_id

    @admin.display(description="organization")
    def organization(self, obj):
        from events.staff_selectors import organization_names

        names = getattr(self, "_org_names", None) or {}
        if obj.organization_id not in names:
            names = organization_names(organization_ids={obj.organization_id, *getattr(self, "_page_orgs", ())})
            self._org_names = names
        return names.get(obj.organization_id, str(obj.organization_id))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Names of the organizations on this page, read once (events_db), fresh for every page view.
        self._page_orgs = {row.organization_id for row in changelist.result_list}
        self._org_names = None
        return changelist

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "organization_id":
            from events.staff_selectors import organization_names

            return OrganizationChoiceField(
                organization_names=organization_names(organization_ids=organization_ids(request, Capability.STAFF)),
                label="Organization",
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
        from accounts.services import audit_record

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
        from accounts.services import audit_record

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


@admin.register(AuditLog)
class AuditLogAdmin(TenantScopedAdmin):
    view_capability = Capability.STAFF
    read_only_for_all = True  # append-only
    list_display = ["created_at", "actor", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "object_type", "created_at"]
    list_select_related = ["actor"]
    search_fields = ["=object_id", "reason", "actor__email", "action"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "id",
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "organization_id",
        "reason",
        "data",
    ]

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(organization_id__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.organization_id
