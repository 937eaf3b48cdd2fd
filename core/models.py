from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.db import TimeStampedModel


class SystemSetting(TimeStampedModel):
    """A runtime setting staff may change: one row per key, its value as JSON.

    Keys, types, ranges and defaults are declared in core/config.py; an absent row means the default.
    """

    key = models.CharField(verbose_name=_("key"), max_length=100, unique=True)
    value = models.JSONField(verbose_name=_("value"))
    description = models.CharField(verbose_name=_("description"), max_length=255, blank=True)
    updated_by_id = models.UUIDField(verbose_name=_("updated by id"), null=True, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("system setting")
        verbose_name_plural = _("system settings")

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}"


class AuditLog(TimeStampedModel):
    """Who did what to which object, when and why. Append-only.

    The object is named by type and id as text, never by a content type: most audited objects live in another
    database.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    action = models.CharField(verbose_name=_("action"), max_length=64)
    object_type = models.CharField(verbose_name=_("object type"), max_length=64)
    object_id = models.CharField(verbose_name=_("object id"), max_length=64)
    organization_id = models.UUIDField(verbose_name=_("organization id"), null=True, blank=True)
    reason = models.TextField(verbose_name=_("reason"), blank=True)
    data = models.JSONField(verbose_name=_("data"), default=dict, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [
            # Admin: audit entries of one object, newest first.
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object_idx"),
            models.Index(fields=["organization_id", "-created_at"], name="audit_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class OutboxMessage(models.Model):
    """A fact a domain recorded in the same transaction as the change it describes, for work in another database.

    The job queue lives in orders_db; a change in users_db or events_db that asks for a job (a payment's receipt,
    an event moved to another date) writes one of these in its own transaction instead, and the relay job
    (``core.outbox``) turns it into a job. This table exists in every domain database (core/routers.py), so the
    fact and the change it describes commit or roll back together.
    """

    id = models.UUIDField(verbose_name=_("id"), primary_key=True)
    topic = models.CharField(verbose_name=_("topic"), max_length=64)
    payload = models.JSONField(verbose_name=_("payload"), default=dict)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    relayed_at = models.DateTimeField(verbose_name=_("relayed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The relay: WHERE relayed_at IS NULL ORDER BY created_at (only unrelayed rows are in the index).
            models.Index(fields=["created_at"], condition=models.Q(relayed_at__isnull=True), name="outbox_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.id}"
