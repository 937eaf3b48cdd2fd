"""Abstract bases every domain table shares: UUID keys, timestamps, soft deletion, text enums with CHECKs."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """UUID primary key (no enumeration, no coordination across servers) and created/updated times."""

    id = models.UUIDField(verbose_name=_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(
        verbose_name=_("created at"), default=timezone.now, editable=False, db_index=False
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        abstract = True
        # Records, logs and flows read newest first; a model that extends this Meta inherits it, one that writes
        # its own Meta says its own order.
        ordering = ["-created_at"]


class AliveQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def soft_delete(self) -> int:
        return self.update(deleted_at=timezone.now())


class AliveManager(models.Manager.from_queryset(AliveQuerySet)):
    """The default manager hides soft-deleted rows; `all_objects` shows them (staff, audits)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class SoftDeleteModel(TimeStampedModel):
    deleted_at = models.DateTimeField(verbose_name=_("deleted at"), null=True, blank=True, editable=False)

    objects = AliveManager()
    all_objects = models.Manager.from_queryset(AliveQuerySet)()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    def soft_delete(self) -> None:
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at", "updated_at"])


def choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """A CHECK that keeps a text enum column inside its choices, whatever writes to the table."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


def unique_alive(fields: list[str], name: str) -> models.UniqueConstraint:
    """A UNIQUE among the rows not soft-deleted (SoftDeleteModel): a deleted row frees its values for a new one."""
    return models.UniqueConstraint(fields=fields, condition=models.Q(deleted_at__isnull=True), name=name)
