from __future__ import annotations

from django.db import models

from ticketremaster.db import TimeStampedModel


class SystemSetting(TimeStampedModel):
    """A runtime setting staff may change (seed 004): one row per key, its value as JSON.

    Keys, types, ranges and defaults are declared in ticketremaster/config.py; an absent row means the default.
    """

    key = models.CharField(max_length=100, unique=True)
    value = models.JSONField()
    description = models.CharField(max_length=255, blank=True)
    updated_by_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "system setting"

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}"
