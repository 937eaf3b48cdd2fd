"""Passes: what an admitted buyer shows. Signed with ``django.core.signing`` (own salt), bound to the account, the
event and the expiry, and checked without a database (`waiting_room_pass_check`, called by holds and checkout);
also the position token a waiting page keeps while it polls the status file.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextvars import ContextVar
from typing import Any

from django.core import signing
from django.utils import timezone

from events.contract import EventInfo
from orders.contract import WaitingRoomPassRequired
from orders.services.waiting_room._shared import room_url

PASS_SALT = "orders.waiting_room.pass"  # noqa: S105 - a signing salt (namespace), not a secret
POSITION_SALT = "orders.waiting_room.position"
PASS_COOKIE_PREFIX = "tr_wr_pass_"  # noqa: S105 - a cookie name
PASS_HEADER = "HTTP_X_WAITING_ROOM_PASS"  # noqa: S105 - a header name

# Set by the pass check when a hold or checkout of an event with an active room goes ahead; orders.middleware
# then records the request's duration for that event (no statement for any other request).
latency_event: ContextVar[uuid.UUID | None] = ContextVar("waiting_room_latency_event", default=None)


def waiting_room_pass_issue(*, event_id: uuid.UUID, user_id: uuid.UUID, expires_at: dt.datetime) -> str:
    return signing.dumps({"e": str(event_id), "u": str(user_id), "x": int(expires_at.timestamp())}, salt=PASS_SALT)


def waiting_room_pass_valid(*, event_id: uuid.UUID, user_id: uuid.UUID, token: str | None) -> bool:
    if not token:
        return False
    try:
        claims = signing.loads(token, salt=PASS_SALT)
    except signing.BadSignature:
        return False
    if not isinstance(claims, dict):
        return False
    return (
        claims.get("e") == str(event_id)
        and claims.get("u") == str(user_id)
        and isinstance(claims.get("x"), int)
        and claims["x"] > timezone.now().timestamp()
    )


def waiting_room_pass_check(*, event: EventInfo, user_id: uuid.UUID, token: str | None) -> None:
    """Refuse a hold or checkout of an event with an active room unless the buyer shows their own, unexpired pass.

    No database statement either way: the switch is on the event row the caller already read.
    """
    if not event.waiting_room:
        return
    if not waiting_room_pass_valid(event_id=event.id, user_id=user_id, token=token):
        raise WaitingRoomPassRequired(waiting_room_url=room_url(event.id))
    latency_event.set(event.id)


def pass_cookie_name(event_id: uuid.UUID) -> str:
    return f"{PASS_COOKIE_PREFIX}{uuid.UUID(str(event_id)).hex}"


def waiting_room_pass_from_request(request: Any, event_id: uuid.UUID | None) -> str | None:
    """The pass a request carries: the ``X-Waiting-Room-Pass`` header (API clients) or the room's cookie (pages)."""
    header = request.META.get(PASS_HEADER)
    if header:
        return header
    if event_id is None:
        return None
    return request.COOKIES.get(pass_cookie_name(event_id))


# --- Position tokens: what a waiting page keeps while it polls the status file -------------------------------------


def position_token(*, event_id: uuid.UUID, user_id: uuid.UUID, position: int) -> str:
    return signing.dumps({"e": str(event_id), "u": str(user_id), "p": position}, salt=POSITION_SALT)
