"""The ground floor's admin: system configuration and the audit log.

System configuration: one row per changed key, validated by core.config.SETTINGS. Settings are platform-wide
(every organization's hold time, fees, ...), so only superusers change them. Keys that were never set are listed
with the default in effect; setting one goes through config.set_value (type and range checked, cache cleared).
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy

from core import config, directory
from core.admin_tenancy import AppendOnlyLogAdmin, Capability, TenantScopedAdmin, is_superuser, row_label
from core.audit import audit_record
from core.models import AuditLog, SystemSetting


class SystemSettingForm(forms.ModelForm):
    key = forms.ChoiceField(choices=())
    value = forms.CharField(help_text=gettext_lazy("Type and range are checked against the key's specification."))

    class Meta:
        model = SystemSetting
        fields = ["key", "value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            # The key of an existing row is fixed; change the value only.
            self.fields["key"].choices = [(self.instance.key, self.instance.key)]
            self.fields["key"].disabled = True
            spec = config.SETTINGS.get(self.instance.key)
            self.initial["value"] = str(self.instance.value)
        else:
            taken = set(SystemSetting.objects.values_list("key", flat=True))
            self.fields["key"].choices = [
                (key, f"{key} (default {spec.default})") for key, spec in config.SETTINGS.items() if key not in taken
            ]
            spec = None
        if spec is not None:
            self.fields[
                "value"
            ].help_text = (
                f"{spec.help} A {spec.kind.__name__} between {spec.minimum} and {spec.maximum}; default {spec.default}."
            )

    def clean_value(self):
        raw = self.cleaned_data["value"].strip()
        key = self.instance.key if not self.instance._state.adding else self.data.get(self.add_prefix("key"))
        spec = config.SETTINGS.get(key)
        if spec is None:
            raise forms.ValidationError(gettext("Unknown setting."))
        try:
            # What a person types is read as JSON when it is JSON ("300", "2.5", "true"), else kept as text.
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = raw
        try:
            typed = spec.coerce(parsed)
        except ValueError as exc:
            reason = str(exc)
            if not (reason.startswith("expected") or reason.startswith("must be")):
                reason = gettext("expected a whole number") if spec.kind is int else gettext("expected a number")
            raise forms.ValidationError(gettext("%(key)s: %(reason)s") % {"key": key, "reason": reason}) from exc
        # Stored as config.set_value stores it: a Decimal as its text, so the JSON column keeps every digit.
        return str(typed) if isinstance(typed, Decimal) else typed


@admin.register(SystemSetting)
class SystemSettingAdmin(admin.ModelAdmin):
    form = SystemSettingForm
    list_display = ["key", "value", "default", "description", "updated_at", "updated_by_id"]
    search_fields = ["key", "description"]
    readonly_fields = ["description", "updated_by_id", "updated_at"]
    change_list_template = "admin/core/systemsetting/change_list.html"

    def has_module_permission(self, request):
        return is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return is_superuser(request)

    def has_add_permission(self, request):
        return is_superuser(request)

    def has_change_permission(self, request, obj=None):
        return is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request)  # deleting a row restores the default

    @admin.display(description=gettext_lazy("default"))
    def default(self, obj):
        spec = config.SETTINGS.get(obj.key)
        return spec.default if spec else "—"

    def save_model(self, request, obj, form, change):
        # Through config.set_value: the one writer that validates, stores the description and clears the cache.
        before = config.get(obj.key)
        config.set_value(obj.key, form.cleaned_data["value"], updated_by_id=request.user.pk)
        obj.pk = SystemSetting.objects.values_list("pk", flat=True).get(key=obj.key)
        obj.refresh_from_db()
        self._audit_setting(request, "setting.change" if change else "setting.add", obj.key, before, obj.value)

    def delete_model(self, request, obj):
        before = config.get(obj.key)
        super().delete_model(request, obj)
        config.clear_cache()
        self._audit_setting(request, "setting.delete", obj.key, before, config.get(obj.key))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @staticmethod
    def _audit_setting(request, action: str, key: str, before, after) -> None:
        """Platform-wide, so no organization: superusers read these in the audit log."""
        audit_record(
            actor_id=request.user.pk,
            action=action,
            object_type="systemsetting",
            object_id=key,
            data={"key": key, "before": str(before), "after": str(after)},
        )

    def changelist_view(self, request, extra_context=None):
        stored = dict(SystemSetting.objects.values_list("key", "value"))
        defaults = [
            {"key": key, "default": spec.default, "kind": spec.kind.__name__, "range": f"{spec.minimum}–{spec.maximum}"}
            | {"help": spec.help, "current": config.get(key), "is_set": key in stored}
            for key, spec in config.SETTINGS.items()
        ]
        return super().changelist_view(request, {**(extra_context or {}), "settings_in_effect": defaults})


@admin.register(AuditLog)
class AuditLogAdmin(AppendOnlyLogAdmin, TenantScopedAdmin):
    """Owners read their organization's audit log; superusers read everyone's. Nobody edits it."""

    view_capability = Capability.STAFF
    list_display = ["created_at", "actor", "action", "object_label", "organization", "reason"]
    list_filter = ["action", "object_type", "created_at"]
    list_select_related = ["actor"]
    search_fields = ["=object_id", "reason", "actor__email", "action"]
    readonly_fields = [
        "id",
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "organization_id",
        "organization",
        "reason",
        "data",
    ]

    # Objects named on screen, by type: an event by its title, a person by name and email, a place by its seat.
    OBJECT_KINDS = {
        "event": directory.EVENT,
        "user": directory.USER,
        "seat": directory.SEAT,
        "organization": directory.ORGANIZATION,
    }

    named_columns = ((directory.ORGANIZATION, "organization_id", "organization_label"),)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        self._name_objects(changelist.result_list)
        return changelist

    def _name_objects(self, rows) -> None:
        """One lookup per kind of object for the whole page; the names go on the page's rows."""
        for object_type, kind in self.OBJECT_KINDS.items():
            of_type = [row for row in rows if row.object_type == object_type]
            names = {str(pk): label for pk, label in directory.names(kind, {row.object_id for row in of_type}).items()}
            for row in of_type:
                row.object_name = names.get(row.object_id, "")

    @admin.display(description=gettext_lazy("object"))
    def object_label(self, obj):
        if not hasattr(obj, "object_name"):
            self._name_objects([obj])
        name = getattr(obj, "object_name", "")
        if name:
            return f"{obj.object_type}: {name}"
        short = obj.object_id[:8] if len(obj.object_id) == 36 else obj.object_id
        return f"{obj.object_type} {short}"

    @admin.display(description=gettext_lazy("organization"))
    def organization(self, obj):
        if not obj.organization_id:
            return "platform"
        return row_label(obj, kind=directory.ORGANIZATION, id_attr="organization_id", label_attr="organization_label")
