"""Buyers an organization blocks from its own events, in the staff admin (Capability.BUYERS_MANAGE to add or remove,
BUYERS_VIEW to see). The block itself and its audit row are orders.services.blocks'."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.http import Http404
from django.utils.translation import gettext_lazy

from core import directory
from core.admin_tenancy import Capability, TenantScopedAdmin, actor_id, has_capability, organization_ids, row_label
from core.errors import DomainError
from orders.admin.sales import BuyerNamesMixin
from orders.models import BuyerBlock
from orders.services import blocks


class BuyerBlockForm(forms.ModelForm):
    organization_id = forms.TypedChoiceField(coerce=uuid.UUID, label=gettext_lazy("Organization"))
    email = forms.EmailField(help_text=gettext_lazy("The email of a buyer of your events."))

    class Meta:
        model = BuyerBlock
        fields = ["organization_id", "reason"]

    def __init__(self, *args, organization_names: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization_id"].choices = [(str(pk), name) for pk, name in (organization_names or {}).items()]

    def clean(self):
        data = super().clean()
        org, email = data.get("organization_id"), data.get("email")
        if org and email:
            try:
                self.instance.user_id = blocks.buyer_of_organization(organization_id=org, email=email)
            except DomainError as exc:
                self.add_error("email", exc.detail)
        return data


@admin.register(BuyerBlock)
class BuyerBlockAdmin(BuyerNamesMixin, TenantScopedAdmin):
    view_capability = Capability.BUYERS_VIEW
    manage_capability = Capability.BUYERS_MANAGE
    delete_capability = Capability.BUYERS_MANAGE
    buyer_field = "user_id"
    person_fields = ("user_id", "created_by_id")
    list_display = ["buyer", "organization", "reason", "blocked_by", "created_at"]
    search_fields = ["reason"]
    form = BuyerBlockForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        names = directory.names(directory.ORGANIZATION, organization_ids(request, Capability.BUYERS_MANAGE))

        class ScopedForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, organization_names=names, **inner)

        return ScopedForm

    def get_fields(self, request, obj=None):
        return ["organization_id", "email", "reason"] if obj is None else ["buyer", "organization", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["buyer", "organization", "reason"]

    def has_change_permission(self, request, obj=None):
        return False  # a block is added or removed, never edited

    @admin.display(description=gettext_lazy("buyer"))
    def buyer(self, obj):
        return row_label(obj, kind=directory.USER, id_attr="user_id", label_attr="user_id_label")

    @admin.display(description=gettext_lazy("blocked by"))
    def blocked_by(self, obj):
        return row_label(obj, kind=directory.USER, id_attr="created_by_id", label_attr="created_by_id_label")

    @admin.display(description=gettext_lazy("organization"))
    def organization(self, obj):
        return row_label(obj, kind=directory.ORGANIZATION, id_attr="organization_id", label_attr="organization_label")

    def _audit(self, request, obj, verb, message):
        pass  # the service writes the audit row (buyer.block / buyer.unblock) with the reason

    def save_model(self, request, obj, form, change):
        if change or not has_capability(request, Capability.BUYERS_MANAGE, obj.organization_id):
            raise Http404("No such organization.")
        saved = blocks.buyer_block(
            organization_id=obj.organization_id, user_id=obj.user_id, reason=obj.reason, actor_id=actor_id(request)
        )
        obj.pk, obj.created_at, obj.created_by_id = saved.pk, saved.created_at, saved.created_by_id
        obj._state.adding = False

    def delete_model(self, request, obj):
        blocks.buyer_unblock(block_id=obj.pk, actor_id=actor_id(request))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if has_capability(request, Capability.BUYERS_MANAGE, obj.organization_id):
                self.delete_model(request, obj)
