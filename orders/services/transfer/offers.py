"""Transfer offers: who sees a transfer, the offer itself, and the recipient's accept or decline, the owner's cancel,
the confirmation codes, and lazy expiry (config transfer_expiry_hours).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as account_selectors
from accounts import services as account_services
from core import config
from core.errors import InvalidInput, NotFound
from core.permissions import Capability
from core.results import from_row
from orders import DB_ALIAS
from orders.contract import (
    TRANSFER_ACTIVE_STATUSES,
    NotificationKind,
    SelfTransfer,
    TransferActionForbidden,
    TransferActive,
    TransferExpired,
    TransferInfo,
    TransferStateInvalid,
    UserFlagged,
)
from orders.contract import TransferStatus as Status
from orders.models import Transfer
from orders.notifications import notify
from orders.services.ticket_flows import fee_for, parse_price, ticket_lock_for_new_flow, ticket_to_pass_on

OTP_PURPOSE = {"sender": "TRANSFER_SENDER", "recipient": "TRANSFER_RECIPIENT"}


# --- Reads -----------------------------------------------------------------------------------------------------------


def staff_may_manage(*, user_id: uuid.UUID, organization_id: uuid.UUID | None) -> bool:
    """Whether the user may see and resolve the organization's transfers (Capability.TRANSFER_DISPUTES)."""
    return account_selectors.user_has_capability(
        user_id=user_id, capability=Capability.TRANSFER_DISPUTES, organization_id=organization_id
    )


# What the sender is told when the recipient answers (a cancellation is the sender's own doing: no mail).
SENDER_NOTICES = {
    Status.ACCEPTED: NotificationKind.TRANSFER_ACCEPTED,
    Status.DECLINED: NotificationKind.TRANSFER_DECLINED,
}


def transfers_expire_due(*, now: dt.datetime | None = None, seat_id: uuid.UUID | None = None) -> int:
    """Mark every open offer past its expiry EXPIRED (lazy expiry: called on reads and by the recoverer)."""
    now = now or timezone.now()
    due = Transfer.objects.using(DB_ALIAS).filter(status__in=[Status.OFFERED, Status.ACCEPTED], expires_at__lte=now)
    if seat_id is not None:
        due = due.filter(seat_id=seat_id)
    with transaction.atomic(using=DB_ALIAS):
        # Locked and changed in one transaction with their senders' notices; rows another transaction holds (being
        # accepted, completing) are left to it. The status filter is the compare-and-set.
        expired = list(due.select_for_update(skip_locked=True).values_list("pk", "from_user_id"))
        count = (
            Transfer.objects.using(DB_ALIAS)
            .filter(pk__in=[pk for pk, _ in expired], status__in=[Status.OFFERED, Status.ACCEPTED])
            .update(status=Status.EXPIRED, updated_at=now)
        )
        for transfer_id, sender_id in expired:
            notify(kind=NotificationKind.TRANSFER_EXPIRED, object_id=transfer_id, recipient_id=sender_id)
    return count


def _visible(transfer: Transfer, *, user_id: uuid.UUID) -> bool:
    if str(user_id) in (str(transfer.from_user_id), str(transfer.to_user_id)):
        return True
    return staff_may_manage(user_id=user_id, organization_id=transfer.organization_id)


def transfer_get(*, transfer_id: uuid.UUID, user_id: uuid.UUID) -> TransferInfo:
    """The transfer if ``user_id`` is a party or manages the event; NotFound otherwise (no existence leak)."""
    transfer = Transfer.objects.using(DB_ALIAS).filter(pk=transfer_id).first()
    if transfer is None or not _visible(transfer, user_id=user_id):
        raise NotFound(gettext("No such transfer."))
    if transfer.status in (Status.OFFERED, Status.ACCEPTED) and transfer.expires_at <= timezone.now():
        transfers_expire_due(seat_id=transfer.seat_id)
        transfer.refresh_from_db(using=DB_ALIAS)
    return from_row(TransferInfo, transfer)


def transfers_for_user(*, user_id: uuid.UUID, direction: str = "all", active_only: bool = False) -> list[TransferInfo]:
    """Offers a user sent ('outgoing'), received ('incoming') or both, newest first."""
    transfers_expire_due()
    queryset = Transfer.objects.using(DB_ALIAS)
    if direction == "incoming":
        queryset = queryset.filter(to_user_id=user_id)
    elif direction == "outgoing":
        queryset = queryset.filter(from_user_id=user_id)
    elif direction == "all":
        queryset = queryset.filter(from_user_id=user_id) | queryset.filter(to_user_id=user_id)
    else:
        raise InvalidInput(
            gettext("direction must be incoming, outgoing or all."), fields={"direction": [gettext("Unknown value.")]}
        )
    if active_only:
        queryset = queryset.filter(status__in=TRANSFER_ACTIVE_STATUSES)
    return [from_row(TransferInfo, transfer) for transfer in queryset.order_by("-created_at")[:200]]


def transfer_active_for_seat(*, seat_id: uuid.UUID) -> TransferInfo | None:
    transfers_expire_due(seat_id=seat_id)
    transfer = Transfer.objects.using(DB_ALIAS).filter(seat_id=seat_id, status__in=TRANSFER_ACTIVE_STATUSES).first()
    return from_row(TransferInfo, transfer) if transfer else None


# --- Offer -----------------------------------------------------------------------------------------------------------


def check_not_flagged(user, *, who: str) -> None:
    if user.is_flagged:
        detail = (
            gettext("Your account is flagged and cannot transfer tickets until staff clear it.")
            if who == "sender"
            else gettext("The recipient's account is flagged and cannot receive tickets until staff clear it.")
        )
        raise UserFlagged(detail)


def _recipient_id(*, sender, email: str) -> uuid.UUID | None:
    """The account the offer goes to, or None when the address names none that may receive tickets.

    The sender's answer is the same either way (no account, inactive, unverified or flagged), so the offer form
    cannot be used to learn who has an account or whose account is flagged; an offer without a recipient is never
    shown to anyone but its sender, can never be accepted, and expires.
    """
    if email.lower() == sender.email.lower():
        raise SelfTransfer()  # the sender's own address tells them nothing they do not know
    recipient = account_selectors.user_find_by_email(email=email)
    if recipient is None or recipient.id == sender.id:
        return None
    if not recipient.is_active or recipient.is_flagged or not recipient.is_verified:
        return None
    return recipient.id


def transfer_offer(
    *, seat_id: uuid.UUID, from_user_id: uuid.UUID, to_email: str, price: Any = Decimal("0")
) -> TransferInfo:
    """The owner of a SOLD ticket offers it to another verified user, free or for ``price`` credits."""
    amount = parse_price(price, allow_zero=True)
    email = (to_email or "").strip()
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput(
            gettext("Enter the recipient's email address."), fields={"to_email": [gettext("Enter a valid email.")]}
        )
    sender = account_selectors.user_get(user_id=from_user_id)
    check_not_flagged(sender, who="sender")
    recipient_id = _recipient_id(sender=sender, email=email)

    # Priced like resale: at most the cap of face value, and the same platform fee (a free transfer pays none).
    ticket, event = ticket_to_pass_on(
        seat_id=seat_id,
        owner_id=sender.id,
        amount=amount,
        refused=None,
        event_refused=gettext("Tickets of an event that is not on (cancelled or ended) cannot be transferred."),
    )

    transfers_expire_due(seat_id=seat_id)
    expires_at = timezone.now() + dt.timedelta(hours=config.get("transfer_expiry_hours"))
    try:
        with transaction.atomic(using=DB_ALIAS):
            ticket_lock_for_new_flow(ticket, opening=Transfer, refused=None)
            transfer = Transfer.objects.using(DB_ALIAS).create(
                seat_id=seat_id,
                event_id=ticket.event_id,
                organization_id=event.organization_id,
                from_user_id=sender.id,
                to_user_id=recipient_id,
                to_email=email[:254],
                price=amount,
                fee=fee_for(amount),
                expires_at=expires_at,
            )
            if recipient_id is not None:
                notify(kind=NotificationKind.TRANSFER_OFFERED, object_id=transfer.pk, recipient_id=recipient_id)
    except IntegrityError as exc:
        # The partial unique index is the real guard: two offers racing past every check above end here.
        if "transfer_one_active_per_seat" in str(exc):
            raise TransferActive() from None
        raise
    return from_row(TransferInfo, transfer)


# --- Accept, decline, cancel -----------------------------------------------------------------------------------------


def transfer_locked(transfer_id: uuid.UUID) -> Transfer:
    """The transfer's row, locked FOR UPDATE until the caller's orders_db transaction ends."""
    transfer = Transfer.objects.using(DB_ALIAS).select_for_update().filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound(gettext("No such transfer."))
    return transfer


def expire_if_due(transfer: Transfer) -> None:
    """Inside the row lock: an open offer past its expiry becomes EXPIRED (committed by the caller's block)."""
    if transfer.status in (Status.OFFERED, Status.ACCEPTED) and transfer.expires_at <= timezone.now():
        transfer.status = Status.EXPIRED
        transfer.save(using=DB_ALIAS, update_fields=["status", "updated_at"])
        notify(kind=NotificationKind.TRANSFER_EXPIRED, object_id=transfer.pk, recipient_id=transfer.from_user_id)


def _act(
    *, transfer_id: uuid.UUID, user_id: uuid.UUID, role: str, allowed: tuple[str, ...], change: dict[str, Any]
) -> TransferInfo:
    """Lock the row, check the actor and the state, apply ``change``. An expired offer answers TRANSFER_EXPIRED."""
    expired = False
    with transaction.atomic(using=DB_ALIAS):
        transfer = transfer_locked(transfer_id)
        actor_role = "sender" if str(user_id) == str(transfer.from_user_id) else None
        if str(user_id) == str(transfer.to_user_id):
            actor_role = "recipient"
        if actor_role is None:
            raise NotFound(gettext("No such transfer."))
        if actor_role != role:
            raise TransferActionForbidden()
        expire_if_due(transfer)
        if transfer.status == Status.EXPIRED and Status.EXPIRED not in allowed:
            expired = True
        elif transfer.status not in allowed:
            raise TransferStateInvalid(
                gettext("The transfer is %(status)s.") % {"status": transfer.get_status_display().lower()}
            )
        else:
            for name, value in change.items():
                setattr(transfer, name, value)
            transfer.save(using=DB_ALIAS, update_fields=[*change, "updated_at"])
            if notice := SENDER_NOTICES.get(transfer.status):
                notify(kind=notice, object_id=transfer.pk, recipient_id=transfer.from_user_id)
    if expired:  # raised after the block so the EXPIRED status is committed
        raise TransferExpired()
    return from_row(TransferInfo, transfer)


def transfer_accept(*, transfer_id: uuid.UUID, user_id: uuid.UUID) -> TransferInfo:
    """The recipient accepts an offer; both parties are then sent their confirmation codes."""
    recipient = account_selectors.user_get(user_id=user_id)
    check_not_flagged(recipient, who="recipient")
    transfer = _act(
        transfer_id=transfer_id,
        user_id=user_id,
        role="recipient",
        allowed=(Status.OFFERED,),
        change={"status": Status.ACCEPTED, "accepted_at": timezone.now()},
    )
    # Codes are emailed after the commit, outside any row lock.
    for who in ("sender", "recipient"):
        _issue_code(transfer, who=who)
    return transfer


def transfer_decline(*, transfer_id: uuid.UUID, user_id: uuid.UUID) -> TransferInfo:
    return _close(transfer_id=transfer_id, user_id=user_id, role="recipient", status=Status.DECLINED)


def transfer_cancel(*, transfer_id: uuid.UUID, user_id: uuid.UUID) -> TransferInfo:
    """The owner withdraws the offer; refused once completion has started (the row lock orders the race)."""
    return _close(transfer_id=transfer_id, user_id=user_id, role="sender", status=Status.CANCELLED)


def _close(*, transfer_id: uuid.UUID, user_id: uuid.UUID, role: str, status: str) -> TransferInfo:
    """One party ends an offer that is still open (offered or accepted, not yet completing) with ``status``."""
    return _act(
        transfer_id=transfer_id,
        user_id=user_id,
        role=role,
        allowed=(Status.OFFERED, Status.ACCEPTED),
        change={"status": status},
    )


# --- Codes -----------------------------------------------------------------------------------------------------------


def _issue_code(transfer: TransferInfo, *, who: str, resend: bool = False) -> None:
    user_id = transfer.from_user_id if who == "sender" else transfer.to_user_id
    # A resend goes through the accounts cooldown (429 OTP_RESEND_TOO_SOON) so the button cannot spam a mailbox.
    issue = account_services.otp_resend if resend else account_services.otp_issue
    issue(user_id=user_id, purpose=OTP_PURPOSE[who], object_id=transfer.id)


def accepted_transfer_of(
    *, transfer_id: uuid.UUID, user_id: uuid.UUID, not_accepted: str | None = None
) -> tuple[TransferInfo, str]:
    """The accepted transfer and the caller's side of it ('sender' or 'recipient').

    NotFound for anyone but the parties, TRANSFER_EXPIRED for an expired offer, TRANSFER_INVALID_STATE (with
    ``not_accepted`` as its detail, or the transfer's state) for any other state.
    """
    transfer = transfer_get(transfer_id=transfer_id, user_id=user_id)
    who = transfer.role_of(user_id)
    if who is None:
        raise NotFound(gettext("No such transfer."))
    if transfer.status == Status.EXPIRED:
        raise TransferExpired()
    if transfer.status != Status.ACCEPTED:
        raise TransferStateInvalid(
            not_accepted or gettext("The transfer is %(status)s.") % {"status": Status(transfer.status).label.lower()}
        )
    return transfer, who


def transfer_send_code(*, transfer_id: uuid.UUID, user_id: uuid.UUID) -> TransferInfo:
    """(Re)send the caller's confirmation code for an accepted transfer they have not confirmed yet."""
    transfer, who = accepted_transfer_of(
        transfer_id=transfer_id,
        user_id=user_id,
        not_accepted=gettext("Codes are sent once the recipient has accepted the offer."),
    )
    if (who == "sender" and transfer.sender_confirmed_at) or (who == "recipient" and transfer.recipient_confirmed_at):
        raise TransferStateInvalid(gettext("You have already confirmed this transfer."))
    _issue_code(transfer, who=who, resend=True)
    return transfer
