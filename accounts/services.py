"""Writes of users_db: registration, one-time codes, credits and the ledger, top-ups, login throttling, audit.

Every balance change locks the user row (a guarded ``UPDATE ... RETURNING`` for one user, ``select_for_update`` in
sorted id order for several) and writes a LedgerEntry in the same users_db transaction, so the balance always
equals the sum of the ledger; the unique (kind, reference) of the ledger makes every movement idempotent.
Other apps call these functions with ids and get plain dataclasses back.

The read helpers of accounts.selectors are re-exported here, so callers can use ``accounts.services`` for the whole
contract (``user_get``, ``step_up_is_satisfied``, ``memberships_for_user``, ...).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import smtplib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, connections, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts import DB_ALIAS
from accounts.errors import (
    AlreadyVerified,
    CreditsBusy,
    EmailTaken,
    InsufficientCredits,
    InvalidAmount,
    InvalidCredentials,
    LedgerReferenceConflict,
    LoginLocked,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    OtpResendTooSoon,
    StaffOnly,
    TopUpLimitExceeded,
    WebhookPayloadInvalid,
)
from accounts.models import AuditLog, LedgerEntry, LoginAttempt, OneTimeCode, TopUp, User
from accounts.selectors import (  # noqa: F401 - re-exported: accounts.services is the app's public contract
    STEP_UP_VALID_FOR,
    TopUpInfo,
    UserInfo,
    ledger_entry_exists,
    memberships_for_user,
    otp_last_issued_at,
    step_up_is_satisfied,
    topup_info,
    user_find_by_email,
    user_get,
    user_get_many,
)
from accounts.selectors import _info as _user_info
from ticketremaster import config
from ticketremaster.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
Purpose = OneTimeCode.Purpose

# NUMERIC(10,2): the largest value a balance or amount column can hold.
_MAX_MONEY = Decimal("99999999.99")
_CENTS = Decimal("0.01")
# Waiting for another request's lock on a user row is right (credits queue up), but never for ever.
_LOCK_TIMEOUT = "10s"
# A new code may be requested this long after the previous one (resend buttons, API resend).
OTP_RESEND_COOLDOWN = timedelta(seconds=30)
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,30}$")
PREFERENCE_KEYS = {"newsletter": bool, "accessible_seating": bool, "aisle_seat": bool}


# --- Money -----------------------------------------------------------------------------------------------------


def parse_amount(value: Any, *, allow_negative: bool = False, field: str = "amount") -> Decimal:
    """A money amount as Decimal with two places, or InvalidAmount (never a float, NaN, infinity or 0.001)."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise InvalidAmount(fields={field: ["Enter an amount such as 25.00."]})
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAmount(fields={field: ["Enter an amount such as 25.00."]})
    if not amount.is_finite():
        raise InvalidAmount(fields={field: ["The amount must be a finite number."]})
    if abs(amount) > _MAX_MONEY:
        raise InvalidAmount(fields={field: ["The amount is too large."]})
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(_CENTS):
        raise InvalidAmount(fields={field: ["Use at most two decimals."]})
    amount = amount.quantize(_CENTS)
    if amount == 0 or (amount < 0 and not allow_negative):
        raise InvalidAmount(fields={field: ["The amount must be greater than zero."]})
    return amount


def _is_zero(value: Any) -> bool:
    if isinstance(value, (bool, float)) or value is None:
        return False
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and number == 0


def _set_lock_timeout() -> None:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")


def _is_lock_timeout(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"  # lock_not_available


def _lock_users(user_ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    """Lock the users' rows one by one in sorted id order, so two movements between the same people in opposite
    directions cannot deadlock. Must run inside ``transaction.atomic(using=DB_ALIAS)``."""
    _set_lock_timeout()
    locked: dict[uuid.UUID, User] = {}
    for user_id in sorted({uuid.UUID(str(value)) for value in user_ids}):
        user = User.objects.using(DB_ALIAS).select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        locked[user_id] = user
    return locked


def _apply(user: User, *, kind: str, amount: Decimal, reference: str, memo: str = "", actor_id=None) -> Decimal:
    """Change a locked user's balance by ``amount`` (signed) and write the ledger row. Returns the new balance."""
    new_balance = user.credit_balance + amount
    if new_balance < 0:
        raise InsufficientCredits(balance=str(user.credit_balance), required=str(-amount))
    if new_balance > _MAX_MONEY:
        raise InvalidAmount("The balance would exceed the largest amount an account can hold.")
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


def _existing_entry(*, kind: str, reference: str, user_id: uuid.UUID, amount: Decimal) -> LedgerEntry | None:
    """The ledger row of an earlier run of this movement, checked to be the same movement."""
    entry = LedgerEntry.objects.using(DB_ALIAS).filter(kind=kind, reference=reference).first()
    if entry is not None and (entry.user_id != user_id or entry.amount != amount):
        raise LedgerReferenceConflict(kind=kind, reference=reference)
    return entry


def _check_kind(kind: str) -> str:
    if kind not in Kind.values:
        raise InvalidInput(f"Unknown ledger kind {kind!r}.")
    return kind


def _check_reference(reference: Any) -> str:
    reference = str(reference or "").strip()
    if not reference or len(reference) > 100:
        raise InvalidInput("A reference of 1 to 100 characters is required.")
    return reference


def _run_money(operation):
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


class _AlreadyRecorded(Exception):
    """The (kind, reference) ledger row exists: raised inside the transaction to roll back the balance change."""


def _change_balance_fast(
    *, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str, actor_id=None
) -> Decimal | None:
    """The common case of a single-user movement in two statements (plus the lock timeout): a guarded
    ``UPDATE ... RETURNING`` that locks the user row and changes the balance only when the result stays within
    0..NUMERIC(10,2), then the ledger row, inserted only when its (kind, reference) is new.

    Returns the new balance, or None when the UPDATE matched no row (unknown user, too few credits, balance full):
    the caller then explains the refusal. Raises _AlreadyRecorded when the movement was made before. Must run
    inside ``transaction.atomic(using=DB_ALIAS)``: the UPDATE and the INSERT commit together or not at all.
    """
    _set_lock_timeout()
    now = timezone.now()
    with connections[DB_ALIAS].cursor() as cursor:
        # The row lock this UPDATE takes is the one _lock_users takes with SELECT ... FOR UPDATE: concurrent
        # movements of this user queue up behind it (bounded by the lock timeout), and READ COMMITTED re-checks the
        # WHERE against the committed balance after the wait, so two debits can never both spend the same credits.
        cursor.execute(
            "UPDATE accounts_user SET credit_balance = credit_balance + %s, updated_at = %s "
            "WHERE id = %s AND credit_balance + %s BETWEEN 0 AND %s RETURNING credit_balance",
            [amount, now, user_id, amount, _MAX_MONEY],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        new_balance = row[0]
        # A duplicate request waiting on the row lock above gets here after the first one committed; the unique
        # (kind, reference) then makes this insert a no-op, and the caller rolls the balance change back.
        cursor.execute(
            "INSERT INTO accounts_ledgerentry "
            "(id, created_at, updated_at, user_id, kind, amount, balance_after, reference, memo, actor_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (kind, reference) DO NOTHING RETURNING id",
            [uuid.uuid4(), now, now, user_id, kind, amount, new_balance, reference, memo[:255], actor_id],
        )
        if cursor.fetchone() is None:
            raise _AlreadyRecorded
    return new_balance


def _change_balance(
    *, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str, actor_id=None
) -> Decimal:
    """Change one user's balance by ``amount`` (signed), idempotent by (kind, reference)."""
    user_key = uuid.UUID(str(user_id))
    try:
        new_balance = _run_money(
            lambda: _change_balance_fast(
                user_id=user_key, amount=amount, kind=kind, reference=reference, memo=memo, actor_id=actor_id
            )
        )
    except _AlreadyRecorded:
        new_balance = None
    if new_balance is not None:
        return new_balance

    # Rare: a replay, an unknown user, too few credits or a full balance. The locked path below gives each its
    # answer (the current balance, NotFound, LedgerReferenceConflict, 402 InsufficientCredits, InvalidAmount)
    # from the state under the row lock, and applies the movement if a concurrent change made it possible since.
    def operation() -> Decimal:
        user = _lock_users([user_key])[user_key]
        # Checked after the lock: a duplicate request waiting on the same row sees the first one's entry.
        if _existing_entry(kind=kind, reference=reference, user_id=user.pk, amount=amount):
            return user.credit_balance
        return _apply(user, kind=kind, amount=amount, reference=reference, memo=memo, actor_id=actor_id)

    return _run_money(operation)


def credits_debit(*, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str = "") -> Decimal:
    """Take ``amount`` from the user's credits; InsufficientCredits (402) when the balance is too low.

    Idempotent: when the (kind, reference) row exists, nothing changes and the current balance is returned.
    """
    amount = parse_amount(amount)
    kind, reference = _check_kind(kind), _check_reference(reference)
    return _change_balance(user_id=user_id, amount=-amount, kind=kind, reference=reference, memo=memo)


def credits_credit(
    *, user_id: uuid.UUID, amount: Decimal, kind: str, reference: str, memo: str = "", actor_id=None
) -> Decimal:
    """Add ``amount`` to the user's credits. Idempotent by (kind, reference) like credits_debit."""
    amount = parse_amount(amount)
    kind, reference = _check_kind(kind), _check_reference(reference)
    return _change_balance(user_id=user_id, amount=amount, kind=kind, reference=reference, memo=memo, actor_id=actor_id)


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
        raise InvalidAmount("The fee cannot exceed the amount.", fields={"fee": ["Larger than the amount."]})
    if fee_value and not fee_kind:
        raise InvalidInput("A fee needs a fee_kind.")
    debit_kind, credit_kind = _check_kind(debit_kind), _check_kind(credit_kind)
    if fee_kind:
        _check_kind(fee_kind)
    reference = _check_reference(reference)
    payer_key, payee_key = uuid.UUID(str(payer_id)), uuid.UUID(str(payee_id))
    if payer_key == payee_key:
        raise InvalidInput("Payer and payee must be different people.")

    def operation() -> None:
        users = _lock_users([payer_key, payee_key])
        if _existing_entry(kind=debit_kind, reference=reference, user_id=payer_key, amount=-amount):
            return
        payer, payee = users[payer_key], users[payee_key]
        _apply(payer, kind=debit_kind, amount=-amount, reference=reference, memo=memo)
        _apply(payee, kind=credit_kind, amount=amount, reference=reference, memo=memo)
        if fee_value:
            _apply(payee, kind=fee_kind, amount=-fee_value, reference=reference, memo=memo or "Platform fee")

    _run_money(operation)


# --- Audit, flags, staff adjustments -----------------------------------------------------------------------------


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


def _require_staff(actor_id: uuid.UUID) -> User:
    actor = User.objects.using(DB_ALIAS).filter(pk=actor_id, is_active=True).first()
    if actor is None or not (actor.is_staff or actor.is_superuser):
        raise StaffOnly()
    return actor


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required.", fields={"reason": ["Say why."]})
    return reason


def credit_adjust(*, actor_id: uuid.UUID, user_id: uuid.UUID, amount: Decimal, reason: str) -> Decimal:
    """A staff correction of a balance (positive or negative): an ADJUSTMENT ledger row plus an audit entry."""
    amount = parse_amount(amount, allow_negative=True)
    reason = _require_reason(reason)
    _require_staff(actor_id)
    reference = f"adjust-{uuid.uuid4()}"

    def operation() -> Decimal:
        user = _lock_users([user_id])[uuid.UUID(str(user_id))]
        new_balance = _apply(
            user, kind=Kind.ADJUSTMENT, amount=amount, reference=reference, memo=reason[:255], actor_id=actor_id
        )
        audit_record(
            actor_id=actor_id,
            action="credit_adjust",
            object_type="user",
            object_id=user.pk,
            reason=reason,
            data={"amount": str(amount), "balance_after": str(new_balance), "reference": reference},
        )
        return new_balance

    return _run_money(operation)


def user_set_flag(*, actor_id: uuid.UUID, user_id: uuid.UUID, flagged: bool, reason: str) -> None:
    """Flag (must pass a step-up to pay) or clear a user; audited."""
    reason = _require_reason(reason)
    _require_staff(actor_id)
    with transaction.atomic(using=DB_ALIAS):
        updated = (
            User.objects.using(DB_ALIAS)
            .filter(pk=user_id)
            .update(is_flagged=bool(flagged), flag_reason=reason[:255] if flagged else "", updated_at=timezone.now())
        )
        if not updated:
            raise NotFound("No such user.")
        audit_record(
            actor_id=actor_id,
            action="user_flag" if flagged else "user_unflag",
            object_type="user",
            object_id=user_id,
            reason=reason,
        )


# --- One-time codes --------------------------------------------------------------------------------------------

_SUBJECTS = {
    Purpose.VERIFY_EMAIL: "Confirm your email address",
    Purpose.CHECKOUT_STEP_UP: "Your checkout confirmation code",
    Purpose.TRANSFER_SENDER: "Confirm your ticket transfer",
    Purpose.TRANSFER_RECIPIENT: "Confirm the ticket you are receiving",
    Purpose.PASSWORD_RESET: "Reset your password",
}


def _code_hash(*, user_id, purpose: str, object_id, code: str) -> str:
    # Keyed with SECRET_KEY: a leaked table does not let anyone try the million codes offline.
    return salted_hmac("accounts.otp", f"{user_id}:{purpose}:{object_id or ''}:{code}", algorithm="sha256").hexdigest()


def _send_code_email(*, email: str, full_name: str, purpose: str, code: str, minutes: int) -> None:
    context = {"name": full_name or email, "code": code, "minutes": minutes, "purpose": purpose}
    body = render_to_string("accounts/email/code.txt", context)
    try:
        send_mail(f"TicketRemaster: {_SUBJECTS[purpose]}", body, None, [email])
    except (smtplib.SMTPException, OSError):
        # The code is stored; the person can ask for it again. A mail outage must not break the request.
        logger.exception("could not send a %s code to %s", purpose, email)


def _check_purpose(purpose: str) -> str:
    if purpose not in Purpose.values:
        raise InvalidInput(f"Unknown code purpose {purpose!r}.")
    return purpose


def otp_issue(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> str:
    """Email a fresh 6-digit code and return it (callers must never show it). Earlier open codes of the same
    purpose and object stop working: only the latest code is valid."""
    purpose = _check_purpose(purpose)
    user = User.objects.using(DB_ALIAS).filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    code = f"{secrets.randbelow(1_000_000):06d}"
    lifetime = config.get("otp_lifetime_seconds")
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        OneTimeCode.objects.using(DB_ALIAS).filter(
            user_id=user.pk, purpose=purpose, object_id=object_id, consumed_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        OneTimeCode.objects.using(DB_ALIAS).create(
            user_id=user.pk,
            purpose=purpose,
            object_id=object_id,
            code_hash=_code_hash(user_id=user.pk, purpose=purpose, object_id=object_id, code=code),
            expires_at=now + timedelta(seconds=lifetime),
            max_attempts=config.get("otp_max_attempts"),
        )
        # Mail leaves only once the code is stored, and never while the transaction is open.
        transaction.on_commit(
            lambda: _send_code_email(
                email=user.email, full_name=user.full_name, purpose=purpose, code=code, minutes=lifetime // 60
            ),
            using=DB_ALIAS,
        )
    return code


def otp_resend(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> None:
    """otp_issue behind a short cooldown, for resend buttons (OtpResendTooSoon, 429)."""
    last = otp_last_issued_at(user_id=user_id, purpose=purpose, object_id=object_id)
    if last is not None and timezone.now() - last < OTP_RESEND_COOLDOWN:
        wait = int((last + OTP_RESEND_COOLDOWN - timezone.now()).total_seconds()) + 1
        raise OtpResendTooSoon(f"A code was sent moments ago. Try again in {wait} seconds.", retry_after=wait)
    otp_issue(user_id=user_id, purpose=purpose, object_id=object_id)


def otp_verify(*, user_id: uuid.UUID, purpose: str, code: str, object_id: uuid.UUID | None = None) -> None:
    """Accept the newest code of this purpose and object, once. Wrong guesses count against the code."""
    purpose = _check_purpose(purpose)
    code = re.sub(r"\s+", "", str(code or ""))
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        otp = (
            OneTimeCode.objects.using(DB_ALIAS)
            .select_for_update()
            .filter(user_id=user_id, purpose=purpose, object_id=object_id)
            .order_by("-created_at")
            .first()
        )
        # Only the newest code counts: older ones were replaced, and a used one never works twice.
        if otp is None or otp.consumed_at is not None:
            error: type[Exception] = OtpInvalid
        elif otp.attempts >= otp.max_attempts:
            error = OtpAttemptsExceeded
        elif otp.expires_at <= now:
            error = OtpExpired
        elif hmac.compare_digest(
            otp.code_hash, _code_hash(user_id=otp.user_id, purpose=purpose, object_id=object_id, code=code)
        ):
            otp.consumed_at = now
            otp.save(using=DB_ALIAS, update_fields=["consumed_at", "updated_at"])
            return
        else:
            # The wrong guess is committed (the error is raised after the block), so the limit really holds.
            otp.attempts += 1
            otp.save(using=DB_ALIAS, update_fields=["attempts", "updated_at"])
            error = OtpAttemptsExceeded if otp.attempts >= otp.max_attempts else OtpInvalid
    raise error()


# --- Registration, verification, profile, password ---------------------------------------------------------------


def _password_errors(password: str, user: User | None) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def user_register(*, email: str, password: str, full_name: str, phone: str = "") -> UserInfo:
    """Create an unverified account (Argon2 password hash) and email its VERIFY_EMAIL code."""
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    phone = (phone or "").strip()
    fields: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        fields["email"] = ["Enter a valid email address."]
    if len(email) > 254:
        fields["email"] = ["The email address is too long."]
    if not full_name:
        fields["full_name"] = ["Enter your name."]
    elif len(full_name) > 200:
        fields["full_name"] = ["At most 200 characters."]
    if phone and not _PHONE_RE.match(phone):
        fields["phone"] = ["Enter a phone number such as +44 20 7946 0000."]
    candidate = User(email=email, full_name=full_name)
    if password_errors := _password_errors(password or "", candidate):
        fields["password"] = password_errors
    if fields:
        raise InvalidInput("Please correct the highlighted fields.", fields=fields)
    if User.objects.using(DB_ALIAS).filter(email__iexact=email).exists():
        raise EmailTaken(fields={"email": ["An account with this email address already exists."]})
    try:
        with transaction.atomic(using=DB_ALIAS):
            user = User.objects.db_manager(DB_ALIAS).create_user(email, password, full_name=full_name, phone=phone)
    except IntegrityError as exc:  # a concurrent sign-up with the same address won the race
        raise EmailTaken(fields={"email": ["An account with this email address already exists."]}) from exc
    otp_issue(user_id=user.pk, purpose=Purpose.VERIFY_EMAIL)
    return _user_info(user)


def user_verify_email(*, user_id: uuid.UUID, code: str) -> UserInfo:
    """Check the VERIFY_EMAIL code and mark the address verified (idempotent for a verified user)."""
    info = user_get(user_id=user_id)
    if info.is_verified:
        return info
    otp_verify(user_id=info.id, purpose=Purpose.VERIFY_EMAIL, code=code)
    User.objects.using(DB_ALIAS).filter(pk=info.id).update(is_verified=True, updated_at=timezone.now())
    return user_get(user_id=info.id)


def user_resend_verification(*, user_id: uuid.UUID) -> None:
    if user_get(user_id=user_id).is_verified:
        raise AlreadyVerified()
    otp_resend(user_id=user_id, purpose=Purpose.VERIFY_EMAIL)


def user_update_profile(
    *,
    user_id: uuid.UUID,
    full_name: str | None = None,
    phone: str | None = None,
    preferences: dict | None = None,
) -> UserInfo:
    """Change name, phone and preferences (known keys, booleans). Email, balance and flags are not profile fields."""
    fields: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if full_name is not None:
        full_name = full_name.strip()
        if not full_name or len(full_name) > 200:
            fields["full_name"] = ["Enter a name of at most 200 characters."]
        changes["full_name"] = full_name
    if phone is not None:
        phone = phone.strip()
        if phone and not _PHONE_RE.match(phone):
            fields["phone"] = ["Enter a phone number such as +44 20 7946 0000."]
        changes["phone"] = phone
    if preferences is not None:
        if not isinstance(preferences, dict):
            fields["preferences"] = ["Expected an object."]
        else:
            unknown = sorted(set(preferences) - set(PREFERENCE_KEYS))
            wrong = sorted(k for k, v in preferences.items() if k in PREFERENCE_KEYS and not isinstance(v, bool))
            if unknown:
                fields["preferences"] = [f"Unknown preference: {', '.join(unknown)}."]
            elif wrong:
                fields["preferences"] = [f"Expected true or false for: {', '.join(wrong)}."]
    if fields:
        raise InvalidInput("Please correct the highlighted fields.", fields=fields)
    with transaction.atomic(using=DB_ALIAS):
        user = User.objects.using(DB_ALIAS).select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        if preferences is not None:
            changes["preferences"] = {**(user.preferences or {}), **preferences}
        if changes:
            User.objects.using(DB_ALIAS).filter(pk=user.pk).update(**changes, updated_at=timezone.now())
    return user_get(user_id=user_id)


def password_reset_request(*, email: str) -> None:
    """Email a PASSWORD_RESET code when the address belongs to an active account; silent otherwise (the page
    must not tell who has an account)."""
    user = User.objects.using(DB_ALIAS).filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is None:
        return
    last = otp_last_issued_at(user_id=user.pk, purpose=Purpose.PASSWORD_RESET)
    if last is not None and timezone.now() - last < OTP_RESEND_COOLDOWN:
        return  # a code just went out; do not let the form be used to flood a mailbox
    otp_issue(user_id=user.pk, purpose=Purpose.PASSWORD_RESET)


def password_reset_confirm(*, email: str, code: str, new_password: str) -> None:
    """Set a new password with an emailed code. Ends every session and API token of the account."""
    user = User.objects.using(DB_ALIAS).filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is None:
        raise OtpInvalid()  # same answer as a wrong code: no account enumeration
    if errors := _password_errors(new_password or "", user):
        raise InvalidInput("Choose a stronger password.", fields={"new_password": errors})
    otp_verify(user_id=user.pk, purpose=Purpose.PASSWORD_RESET, code=code)
    from rest_framework.authtoken.models import Token

    with transaction.atomic(using=DB_ALIAS):
        user.set_password(new_password)
        user.save(using=DB_ALIAS, update_fields=["password", "updated_at"])
        Token.objects.using(DB_ALIAS).filter(user_id=user.pk).delete()
        LoginAttempt.objects.using(DB_ALIAS).filter(email=user.email).delete()


# --- Login throttling ------------------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is forgeable unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


def login_check_allowed(*, email: str, ip_address: str | None) -> None:
    """LoginLocked (429) when this address or this account had login_max_failures failures within the window."""
    window = timedelta(seconds=config.get("login_lockout_seconds"))
    limit = config.get("login_max_failures")
    since = timezone.now() - window
    recent = LoginAttempt.objects.using(DB_ALIAS).filter(created_at__gt=since)
    scopes = [recent.filter(email=email.strip().lower())]
    if ip_address:
        scopes.append(recent.filter(ip_address=ip_address))
    for rows in scopes:
        times = list(rows.order_by("-created_at").values_list("created_at", flat=True)[:limit])
        if len(times) >= limit:
            retry_after = max(1, int((times[-1] + window - timezone.now()).total_seconds()) + 1)
            minutes = max(1, round(retry_after / 60))
            raise LoginLocked(
                f"Too many failed logins. Try again in about {minutes} minute{'s' if minutes != 1 else ''}.",
                retry_after=retry_after,
            )


def login_record_failure(*, email: str, ip_address: str | None) -> None:
    LoginAttempt.objects.using(DB_ALIAS).create(email=email.strip().lower()[:254], ip_address=ip_address)


def user_authenticate(*, request: HttpRequest | None, email: str, password: str, ip_address: str | None) -> User:
    """Check email and password behind the brute-force throttle. Returns the User for django.contrib.auth.login
    (accounts' own views only; other apps use user_get)."""
    email = (email or "").strip().lower()
    login_check_allowed(email=email, ip_address=ip_address)
    user = authenticate(request, username=email, password=password or "")
    if user is None:
        login_record_failure(email=email, ip_address=ip_address)
        raise InvalidCredentials()
    # A success forgives the account's failures, not the address's: one owned account must not reset an attacker.
    LoginAttempt.objects.using(DB_ALIAS).filter(email=email).delete()
    return user


# --- Top-ups ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUpStart:
    topup: TopUpInfo
    pay_url: str


def topup_start(*, user_id: uuid.UUID, amount: Any) -> TopUpStart:
    """Validate the amount, ask the payment provider for a payment, record the TopUp as PENDING."""
    from accounts.payments import get_provider

    amount = parse_amount(amount)
    maximum = config.get("max_topup_amount")
    if amount > maximum:
        raise TopUpLimitExceeded(
            f"A single top-up can be at most {maximum}.", fields={"amount": [f"At most {maximum}."]}
        )
    user = user_get(user_id=user_id)
    if not user.is_active:
        raise NotFound("No such user.")
    provider = get_provider()
    topup_id = uuid.uuid4()
    # The provider call happens before any transaction: no lock or open transaction waits on the network.
    payment = provider.start_payment(topup_id=topup_id, amount=amount, user_email=user.email)
    with transaction.atomic(using=DB_ALIAS):
        topup = TopUp.objects.using(DB_ALIAS).create(
            id=topup_id,
            user_id=user.id,
            amount=amount,
            provider=provider.name,
            provider_reference=payment.provider_reference,
            status=TopUp.Status.PENDING,
        )
    return TopUpStart(topup=topup_info(topup), pay_url=payment.pay_url)


def topup_complete(*, provider_reference: str, amount: Any, succeeded: bool) -> tuple[TopUpInfo, bool]:
    """Apply the provider's verdict on a payment. Returns (top-up, changed now).

    The TopUp row is locked first, so concurrent deliveries of one webhook queue up and only the first credits;
    the ledger's unique (TOPUP, provider_reference) would refuse a second credit even without the lock.
    """
    amount = parse_amount(amount)
    reference = _check_reference(provider_reference)

    def operation() -> tuple[TopUpInfo, bool]:
        _set_lock_timeout()
        topup = TopUp.objects.using(DB_ALIAS).select_for_update().filter(provider_reference=reference).first()
        if topup is None:
            raise NotFound("No top-up has this payment reference.")
        if topup.status != TopUp.Status.PENDING:
            return topup_info(topup), False
        if topup.amount != amount:
            raise WebhookPayloadInvalid("The paid amount does not match the top-up.")
        now = timezone.now()
        if succeeded:
            user = _lock_users([topup.user_id])[topup.user_id]
            if not _existing_entry(kind=Kind.TOPUP, reference=reference, user_id=user.pk, amount=amount):
                _apply(user, kind=Kind.TOPUP, amount=amount, reference=reference, memo=f"Top-up via {topup.provider}")
            topup.status = TopUp.Status.SUCCEEDED
        else:
            topup.status = TopUp.Status.FAILED
        topup.completed_at = now
        topup.save(using=DB_ALIAS, update_fields=["status", "completed_at", "updated_at"])
        return topup_info(topup), True

    return _run_money(operation)
