"""Credits and the ledger: every balance change of users_db goes through here.

Every balance change locks the user row (a guarded ``UPDATE ... RETURNING`` for one user, ``select_for_update`` in
sorted id order for several) and writes a LedgerEntry in the same users_db transaction, so the balance always
equals the sum of the ledger; the unique (kind, reference) of the ledger makes every movement idempotent.

The helpers without an underscore below (``lock_users``, ``apply_movement``, ``recorded_movement``,
``money_transaction``) are the building blocks the staff adjustments and top-ups of this package use; they are not
part of the app's contract (accounts/services/__init__.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import IntegrityError, OperationalError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import DB_ALIAS
from accounts.contract import CreditsBusy, InsufficientCredits, InvalidAmount, LedgerKind, LedgerReferenceConflict
from accounts.models import LedgerEntry, User
from core.errors import InvalidInput, NotFound
from core.ids import as_uuid
from core.prices import MAX_AMOUNT

T = TypeVar("T")

# NUMERIC(10,2): the largest value a balance or amount column can hold.
MAX_MONEY = MAX_AMOUNT
_CENTS = Decimal("0.01")
# Waiting for another request's lock on a user row is right (credits queue up), but never for ever.
_LOCK_TIMEOUT = "10s"


def parse_amount(value: Any, *, allow_negative: bool = False, field: str = "amount") -> Decimal:
    """A money amount as Decimal with two places, or InvalidAmount (never a float, NaN, infinity or 0.001)."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise InvalidAmount(fields={field: [gettext("Enter an amount such as 25.00.")]})
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAmount(fields={field: [gettext("Enter an amount such as 25.00.")]})
    if not amount.is_finite():
        raise InvalidAmount(fields={field: [gettext("The amount must be a finite number.")]})
    if abs(amount) > MAX_MONEY:
        raise InvalidAmount(fields={field: [gettext("The amount is too large.")]})
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(_CENTS):
        raise InvalidAmount(fields={field: [gettext("Use at most two decimals.")]})
    amount = amount.quantize(_CENTS)
    if amount == 0 or (amount < 0 and not allow_negative):
        raise InvalidAmount(fields={field: [gettext("The amount must be greater than zero.")]})
    return amount


def _is_zero(value: Any) -> bool:
    if isinstance(value, (bool, float)) or value is None:
        return False
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and number == 0


def user_key(value: uuid.UUID) -> uuid.UUID:
    """The id of the user a movement is for; NotFound for anything that is not an id."""
    key = as_uuid(value)
    if key is None:
        raise NotFound(gettext("No such user."))
    return key


def check_kind(kind: str) -> str:
    if kind not in LedgerKind.values:
        raise InvalidInput(f"Unknown ledger kind {kind!r}.")
    return kind


def check_reference(reference: Any) -> str:
    reference = str(reference or "").strip()
    if not reference or len(reference) > 100:
        raise InvalidInput(gettext("A reference of 1 to 100 characters is required."))
    return reference


def set_lock_timeout() -> None:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")


def _is_lock_timeout(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"  # lock_not_available


def lock_users(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    """Lock the users' rows one by one in sorted id order, so two movements between the same people in opposite
    directions cannot deadlock. Must run inside ``transaction.atomic(using=DB_ALIAS)``."""
    set_lock_timeout()
    locked: dict[uuid.UUID, User] = {}
    for user_id in sorted(set(user_ids)):
        user = User.objects.using(DB_ALIAS).select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(gettext("No such user."))
        locked[user_id] = user
    return locked


def apply_movement(
    user: User, *, kind: str, amount: Decimal, reference: str, memo: str = "", actor_id: uuid.UUID | None = None
) -> Decimal:
    """Change a locked user's balance by ``amount`` (signed) and write the ledger row. Returns the new balance."""
    new_balance = user.credit_balance + amount
    if new_balance < 0:
        raise InsufficientCredits(balance=str(user.credit_balance), required=str(-amount))
    if new_balance > MAX_MONEY:
        raise InvalidAmount(gettext("The balance would exceed the largest amount an account can hold."))
    User.objects.using(DB_ALIAS).filter(pk=user.pk).update(credit_balance=new_balance, updated_at=timezone.now())
    LedgerEntry.objects.using(DB_ALIAS).create(
        user_id=user.pk,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        reference=reference,
        memo=memo[:255],
        actor_id=actor_id,
    )
    user.credit_balance = new_balance
    return new_balance


def recorded_movement(*, kind: str, reference: str, user_id: uuid.UUID, amount: Decimal) -> LedgerEntry | None:
    """The ledger row of an earlier run of this movement, checked to be the same movement."""
    entry = LedgerEntry.objects.using(DB_ALIAS).filter(kind=kind, reference=reference).first()
    if entry is not None and (entry.user_id != user_id or entry.amount != amount):
        raise LedgerReferenceConflict(kind=kind, reference=reference)
    return entry


def apply_movement_once(
    user: User, *, kind: str, amount: Decimal, reference: str, memo: str = "", actor_id: uuid.UUID | None = None
) -> Decimal:
    """``apply_movement`` unless this movement was made before. Returns the balance either way.

    Call it with the user's row locked (``lock_users``): a duplicate request waiting on the same row then sees the
    first one's ledger row here and changes nothing.
    """
    if recorded_movement(kind=kind, reference=reference, user_id=user.pk, amount=amount):
        return user.credit_balance
    return apply_movement(user, kind=kind, amount=amount, reference=reference, memo=memo, actor_id=actor_id)


def money_transaction(operation: Callable[[], T]) -> T:
    """Run a balance change in one users_db transaction; a lock wait past the timeout is a clean 409."""
    try:
        with transaction.atomic(using=DB_ALIAS):
            return operation()
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise CreditsBusy from exc
        raise
    except IntegrityError as exc:
        # Only a concurrent movement reusing this (kind, reference) for someone else can get here: the balance
        # checks run under the row lock before every insert.
        raise LedgerReferenceConflict from exc


# One statement, atomic by itself: the lock timeout for this transaction (joined in, so it is set before the UPDATE
# waits for the row), the guarded UPDATE that locks the user row and changes the balance only when the result stays
# within 0..NUMERIC(10,2), and the ledger row with the new balance. The row lock is the one lock_users takes with
# SELECT ... FOR UPDATE: concurrent movements of this user queue up behind it, and READ COMMITTED re-checks the WHERE
# against the committed balance after the wait, so two debits can never both spend the same credits. A movement
# made before fails the unique (kind, reference) and the whole statement, balance change included, is undone.
_MOVE = (
    "WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', %s, true)), "
    "moved AS (UPDATE accounts_user SET credit_balance = credit_balance + %s, updated_at = %s FROM timeout "
    "WHERE id = %s AND credit_balance + %s BETWEEN 0 AND %s RETURNING credit_balance), "
    "entry AS (INSERT INTO accounts_ledgerentry "
    "(id, created_at, updated_at, user_id, kind, amount, balance_after, reference, memo, actor_id) "
    "SELECT %s, %s, %s, %s, %s, %s, credit_balance, %s, %s, %s FROM moved RETURNING 1) "
    "SELECT credit_balance, (SELECT count(*) FROM entry) FROM moved"
)


def _change_balance_fast(
    *, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str, actor_id: uuid.UUID | None
) -> Decimal | None:
    """The common case of a single-user movement in one round trip (``_MOVE``); in autocommit no BEGIN or COMMIT
    of its own either.

    Returns the new balance, or None when nothing changed (unknown user, too few credits, balance full, the
    movement made before): the caller then gives the answer from the locked path.
    """
    now = timezone.now()
    connection = connections[DB_ALIAS]
    # Inside a caller's transaction a savepoint keeps a refused statement from breaking it.
    scope = transaction.atomic(using=DB_ALIAS) if connection.in_atomic_block else contextlib.nullcontext()
    params = [_LOCK_TIMEOUT, amount, now, user_id, amount, MAX_MONEY]
    params += [uuid.uuid4(), now, now, user_id, kind, amount, reference, memo[:255], actor_id]
    try:
        with scope, connection.cursor() as cursor:
            cursor.execute(_MOVE, params)
            row = cursor.fetchone()
    except IntegrityError:  # the (kind, reference) row exists: the statement changed nothing
        return None
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise CreditsBusy from exc
        raise
    return row[0] if row is not None else None


def _change_balance(
    *, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str, actor_id: uuid.UUID | None = None
) -> Decimal:
    """Change one user's balance by ``amount`` (signed), idempotent by (kind, reference)."""
    movement = {"amount": amount, "kind": kind, "reference": reference, "memo": memo, "actor_id": actor_id}
    new_balance = _change_balance_fast(user_id=user_id, **movement)
    if new_balance is not None:
        return new_balance

    # Rare: a replay, an unknown user, too few credits or a full balance. The locked path below gives each its
    # answer (the current balance, NotFound, LedgerReferenceConflict, 402 InsufficientCredits, InvalidAmount)
    # from the state under the row lock, and applies the movement if a concurrent change made it possible since.
    return money_transaction(lambda: apply_movement_once(lock_users([user_id])[user_id], **movement))


def credits_debit(*, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str = "") -> Decimal:
    """Take ``amount`` from the user's credits; InsufficientCredits (402) when the balance is too low.

    Idempotent: when the (kind, reference) row exists, nothing changes and the current balance is returned.
    """
    amount = parse_amount(amount)
    kind, reference = check_kind(kind), check_reference(reference)
    return _change_balance(user_id=user_key(user_id), amount=-amount, kind=kind, reference=reference, memo=memo)


def credits_credit(
    *,
    user_id: uuid.UUID,
    amount: Decimal,
    kind: str,
    reference: str,
    memo: str = "",
    actor_id: uuid.UUID | None = None,
) -> Decimal:
    """Add ``amount`` to the user's credits. Idempotent by (kind, reference) like credits_debit."""
    amount = parse_amount(amount)
    kind, reference = check_kind(kind), check_reference(reference)
    return _change_balance(
        user_id=user_key(user_id), amount=amount, kind=kind, reference=reference, memo=memo, actor_id=actor_id
    )


def credits_move(
    *,
    payer_id: uuid.UUID,
    payee_id: uuid.UUID,
    amount: Decimal,
    reference: str,
    debit_kind: str,
    credit_kind: str,
    fee: Decimal = Decimal("0"),
    fee_kind: str | None = None,
    memo: str = "",
) -> None:
    """Move credits payer -> payee (minus an optional fee kept by the platform) in one users_db transaction.

    Both rows are locked in sorted id order. Idempotent by (debit_kind, reference); an amount of 0 is a no-op.
    """
    if _is_zero(amount):
        return
    amount = parse_amount(amount)
    fee_value = Decimal("0") if fee in (None, 0, "0") else parse_amount(fee, field="fee")
    if fee_value > amount:
        raise InvalidAmount(
            gettext("The fee cannot exceed the amount."), fields={"fee": [gettext("Larger than the amount.")]}
        )
    if fee_value and not fee_kind:
        raise InvalidInput(gettext("A fee needs a fee_kind."))
    debit_kind, credit_kind = check_kind(debit_kind), check_kind(credit_kind)
    if fee_kind:
        check_kind(fee_kind)
    reference = check_reference(reference)
    payer_key, payee_key = user_key(payer_id), user_key(payee_id)
    if payer_key == payee_key:
        raise InvalidInput(gettext("Payer and payee must be different people."))

    def operation() -> None:
        users = lock_users([payer_key, payee_key])
        if recorded_movement(kind=debit_kind, reference=reference, user_id=payer_key, amount=-amount):
            return
        payer, payee = users[payer_key], users[payee_key]
        apply_movement(payer, kind=debit_kind, amount=-amount, reference=reference, memo=memo)
        apply_movement(payee, kind=credit_kind, amount=amount, reference=reference, memo=memo)
        if fee_value:
            apply_movement(payee, kind=fee_kind, amount=-fee_value, reference=reference, memo=memo or "Platform fee")

    money_transaction(operation)
