"""An organization blocks a buyer from its own events (holds, checkout, buying its tickets on resale).

Only the organization's staff with Capability.BUYERS_MANAGE block or unblock, and only buyers of their own events:
a buyer is found by email among the people who ordered tickets of the organization, so the form cannot be used to
learn whether an address has an account. Every block and unblock is audited with the organization.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, connections, transaction
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from orders import DB_ALIAS
from orders.contract import BuyerBlocked
from orders.models import BuyerBlock, Order

# Asked by every hold: raw SQL written once. Served by buyer_block_once_per_organization (organization_id, user_id).
_BLOCKED = (
    f"SELECT EXISTS (SELECT 1 FROM {BuyerBlock._meta.db_table} "  # noqa: S608 - fixed SQL
    "WHERE organization_id = %s AND user_id = %s)"
)


def buyer_is_blocked(*, organization_id: uuid.UUID | None, user_id: uuid.UUID) -> bool:
    if organization_id is None:
        return False
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(_BLOCKED, [organization_id, user_id])
        return cursor.fetchone()[0]


def check_not_blocked(*, organization_id: uuid.UUID | None, user_id: uuid.UUID) -> None:
    if buyer_is_blocked(organization_id=organization_id, user_id=user_id):
        raise BuyerBlocked()


def buyer_of_organization(*, organization_id: uuid.UUID, email: str) -> uuid.UUID:
    """The account with this email that ordered tickets of the organization's events; NotFound otherwise."""
    person = accounts_selectors.user_find_by_email(email=(email or "").strip())
    if person is None:
        raise NotFound(gettext("None of your events' buyers uses that address."))
    ordered = Order.objects.using(DB_ALIAS).filter(organization_id=organization_id, buyer_id=person.id).exists()
    if not ordered:
        raise NotFound(gettext("None of your events' buyers uses that address."))
    return person.id


def buyer_block(
    *, organization_id: uuid.UUID, user_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None
) -> BuyerBlock:
    reason = (reason or "").strip()[:255]
    if not reason:
        raise InvalidInput(gettext("Give a reason."), fields={"reason": [gettext("Give a reason.")]})
    try:
        with transaction.atomic(using=DB_ALIAS):
            block = BuyerBlock.objects.using(DB_ALIAS).create(
                organization_id=organization_id, user_id=user_id, reason=reason, created_by_id=actor_id
            )
    except IntegrityError:
        raise Conflict(gettext("This buyer is blocked already.")) from None
    _audit(block, block_id=block.pk, action="buyer.block", actor_id=actor_id, reason=reason)
    return block


def buyer_unblock(*, block_id: uuid.UUID, actor_id: uuid.UUID | None) -> None:
    with transaction.atomic(using=DB_ALIAS):
        block = BuyerBlock.objects.using(DB_ALIAS).select_for_update().filter(pk=block_id).first()
        if block is None:
            return
        block.delete()
    _audit(block, block_id=block_id, action="buyer.unblock", actor_id=actor_id)


def _audit(
    block: BuyerBlock, *, block_id: uuid.UUID, action: str, actor_id: uuid.UUID | None, reason: str = ""
) -> None:
    """Audit a block or unblock on the buyer, with the organization; ``block_id`` apart, as a deleted row has none."""
    audit_record(
        actor_id=actor_id,
        action=action,
        object_type="user",
        object_id=block.user_id,
        organization_id=block.organization_id,
        reason=reason,
        data={"block_id": str(block_id)},
    )
