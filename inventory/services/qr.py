"""QR codes of tickets: signed tokens, their expiry and their image.

Token: "<seat hex>.<owner hex>.<qr_version>.<issued-at epoch seconds>:<signature>", signed by django.core.signing
(HMAC-SHA256, key settings.QR_SIGNING_KEY, salt QR_SALT). Compact, so the QR stays small and quick to scan. A code
names the owner and QR version it was issued for, so a transfer, resale or refund (which bump the version) kills it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import segno
from django.conf import settings
from django.core import signing
from django.utils import timezone

from core import config
from inventory.contract import PrintedPayload, QrPayload, QrUnavailable, SeatStatus
from inventory.selectors import AnyId, ticket_get_for_owner

QR_SALT = "ticketremaster.inventory.qr.v1"
# Printed tickets sign with their own salt: a printed code never reads as a phone code, nor the other way round.
PRINTED_SALT = "ticketremaster.inventory.printed.v1"

T = TypeVar("T")
QR_MAX_TOKEN_LENGTH = 256
QR_CLOCK_SKEW_SECONDS = 30  # a code "issued" this far in the future still scans: servers' clocks differ a little


def _qr_signer() -> signing.Signer:
    return signing.Signer(key=settings.QR_SIGNING_KEY, salt=QR_SALT, algorithm="sha256")


def qr_token_make(*, seat_id: uuid.UUID, owner_id: uuid.UUID, qr_version: int, issued_at: int) -> str:
    return _qr_signer().sign(f"{seat_id.hex}.{owner_id.hex}.{int(qr_version)}.{int(issued_at)}")


def _hex_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(hex=value)


def _token_read(token: Any, *, signer: signing.Signer, payload: type[T], fields: tuple[Callable[[str], Any], ...]) -> T:
    """``payload`` built from the dot-separated fields of a token ``signer`` signed, each parsed by ``fields``;
    signing.BadSignature for a bad signature, a malformed token or a payload of the wrong shape."""
    if not isinstance(token, str) or not token or len(token) > QR_MAX_TOKEN_LENGTH:
        raise signing.BadSignature("malformed token")
    value = signer.unsign(token.strip())
    try:
        return payload(*(parse(part) for parse, part in zip(fields, value.split("."), strict=True)))
    except ValueError:
        raise signing.BadSignature("malformed payload") from None


def qr_token_read(token: str) -> QrPayload:
    """The payload of a token with a valid signature; signing.BadSignature for anything else (age not checked)."""
    return _token_read(token, signer=_qr_signer(), payload=QrPayload, fields=(_hex_uuid, _hex_uuid, int, int))


def printed_token_make(*, seat_id: uuid.UUID, qr_version: int, print_version: int) -> str:
    """The static code of a printed ticket: no time in it (paper does not refresh); bound to the seat, to the sale
    (the QR version, bumped by every change of owner or refund) and to the print (bumped by every reprint)."""
    return _printed_signer().sign(f"{seat_id.hex}.{int(qr_version)}.{int(print_version)}")


def printed_token_read(token: str) -> PrintedPayload:
    """The payload of a printed ticket's code; signing.BadSignature for anything else."""
    return _token_read(token, signer=_printed_signer(), payload=PrintedPayload, fields=(_hex_uuid, int, int))


def _printed_signer() -> signing.Signer:
    return signing.Signer(key=settings.QR_SIGNING_KEY, salt=PRINTED_SALT, algorithm="sha256")


def ticket_qr(*, seat_id: AnyId, owner_id: uuid.UUID) -> tuple[str, dt.datetime]:
    """A fresh signed QR token for the owner's ticket and the moment it expires (config qr_lifetime_seconds).

    NotFound for an unknown or malformed seat id or another person's ticket, like the ticket pages' lookup;
    QrUnavailable (409 TICKET_LISTED) while listed.
    """
    ticket = ticket_get_for_owner(seat_id=seat_id, owner_id=owner_id)
    if ticket.status == SeatStatus.LISTED:
        raise QrUnavailable()
    issued = int(timezone.now().timestamp())
    token = qr_token_make(seat_id=ticket.id, owner_id=ticket.owner_id, qr_version=ticket.qr_version, issued_at=issued)
    expires_at = dt.datetime.fromtimestamp(issued + config.get("qr_lifetime_seconds"), tz=dt.UTC)
    return token, expires_at


def ticket_qr_svg(*, token: str) -> str:
    """The QR image of a token as inline SVG markup (no XML declaration), drawn server-side with segno."""
    qr = segno.make(token, error="m", micro=False)
    # No fixed size (omitsize): the viewBox lets the page scale the code to the phone's width.
    return qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", title="Ticket QR code", omitsize=True)
