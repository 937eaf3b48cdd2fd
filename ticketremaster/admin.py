"""System configuration in the admin: one row per changed key, validated by ticketremaster.config.SETTINGS.

Settings are platform-wide (every organization's hold time, fees, ...), so only superusers change them. Keys that
were never set are listed with the default in effect; setting one goes through config.set_value (type and range
checked, cache cleared).
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib import admin

from ticketremaster import config
from ticketremaster.admin_tenancy import is_superuser
from ticketremaster.models import SystemSetting

admin.site.site_header = "TicketRemaster staff"
admin.site.site_title = "TicketRemaster staff"
admin.site.index_title = "Operations"


class SystemSettingForm(forms.ModelForm):
    key = forms.ChoiceField(choices=())
    value = forms.CharField(help_text="Type and range are checked against the key's specification.")

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
            raise forms.ValidationError("Unknown setting.")
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
                reason = "expected a whole number" if spec.kind is int else "expected a number"
            raise forms.ValidationError(f"{key}: {reason}") from exc
        # Stored as config.set_value stores it: a Decimal as its text, so the JSON column keeps every digit.
        return str(typed) if isinstance(typed, Decimal) else typed


@admin.register(SystemSetting)
class SystemSettingAdmin(admin.ModelAdmin):
    form = SystemSettingForm
    list_display = ["key", "value", "default", "description", "updated_at", "updated_by_id"]
    search_fields = ["key", "description"]
    readonly_fields = ["description", "updated_by_id", "updated_at"]
    change_list_template = "admin/ticketremaster/systemsetting/change_list.html"

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

    @admin.display(description="default")
    def default(self, obj):
        spec = config.SETTINGS.get(obj.key)
        return spec.default if spec else "—"

    def save_model(self, request, obj, form, change):
        # Through config.set_value: the one writer that validates, stores the description and clears the cache.
        config.set_value(obj.key, form.cleaned_data["value"], updated_by_id=request.user.pk)
        obj.pk = SystemSetting.objects.values_list("pk", flat=True).get(key=obj.key)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        config.clear_cache()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        config.clear_cache()

    def changelist_view(self, request, extra_context=None):
        stored = dict(SystemSetting.objects.values_list("key", "value"))
        defaults = [
            {"key": key, "default": spec.default, "kind": spec.kind.__name__, "range": f"{spec.minimum}–{spec.maximum}"}
            | {"help": spec.help, "current": config.get(key), "is_set": key in stored}
            for key, spec in config.SETTINGS.items()
        ]
        return super().changelist_view(request, {**(extra_context or {}), "settings_in_effect": defaults})
