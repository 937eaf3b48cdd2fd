"""The audit log: who did what to which object, when and why. Every domain writes it; nobody edits it."""

from __future__ import annotations

import uuid
from typing import Any

from core.models import AuditLog

DB_ALIAS = "default"


def audit_record(
    *,
    actor_id: uuid.UUID | None,
    action: str,
    object_type: str,
    object_id: Any,
    organization_id: uuid.UUID | None = None,
    reason: str = "",
    data: dict | None = None,
) -> None:
    """Append who did what to which object and why. ``actor_id`` None means the system itself."""
    AuditLog.objects.using(DB_ALIAS).create(
        actor_id=actor_id,
        action=str(action)[:64],
        object_type=str(object_type)[:64],
        object_id=str(object_id)[:64],
        organization_id=organization_id,
        reason=reason or "",
        data=data or {},
    )
