"""users_db: people, their balances and the ledger behind them, top-ups, one-time codes, staff roles, failed logins."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.contract import CardRefundStatus, LedgerKind, MembershipRole, OneTimeCodePurpose, TopUpStatus
from core.db import TimeStampedModel, choices_check


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True, is_verified=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A buyer or a staff member. Logs in with an email address.

    ``credit_balance`` is never written directly: accounts.services changes it under a row lock together with a
    LedgerEntry, so the balance always equals the sum of the ledger.
    """

    id = models.UUIDField(verbose_name=_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(verbose_name=_("email"), max_length=254, unique=True)
    full_name = models.CharField(verbose_name=_("full name"), max_length=200, blank=True)
    phone = models.CharField(verbose_name=_("phone"), max_length=32, blank=True)
    credit_balance = models.DecimalField(
        verbose_name=_("credit balance"), max_digits=10, decimal_places=2, default=0, editable=False
    )
    is_flagged = models.BooleanField(
        verbose_name=_("is flagged"), default=False, help_text=_("Flagged buyers must pass a one-time-code step-up.")
    )
    flag_reason = models.CharField(verbose_name=_("flag reason"), max_length=255, blank=True)
    is_verified = models.BooleanField(
        verbose_name=_("is verified"), default=False, help_text=_("Email address confirmed with a one-time code.")
    )
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    is_staff = models.BooleanField(verbose_name=_("is staff"), default=False)
    preferences = models.JSONField(verbose_name=_("preferences"), default=dict, blank=True)
    # One of settings.LANGUAGES, or "" (the browser decides): pages on a new browser and this person's emails.
    preferred_language = models.CharField(verbose_name=_("preferred language"), max_length=10, blank=True, default="")
    created_at = models.DateTimeField(verbose_name=_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=Q(credit_balance__gte=0), name="user_balance_not_negative"),
            # Email login is case-insensitive: two accounts must not differ by case only.
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name or self.email).split(" ")[0]


class LedgerEntry(TimeStampedModel):
    """One change of one balance. Append-only; unique (kind, reference) makes every money movement idempotent."""

    Kind = LedgerKind

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(verbose_name=_("kind"), max_length=32, choices=Kind.choices)
    amount = models.DecimalField(
        verbose_name=_("amount"), max_digits=10, decimal_places=2, help_text=_("Signed: credits are positive.")
    )
    balance_after = models.DecimalField(verbose_name=_("balance after"), max_digits=10, decimal_places=2)
    reference = models.CharField(
        verbose_name=_("reference"),
        max_length=100,
        help_text=_("The order, transfer, listing or top-up it belongs to."),
    )
    memo = models.CharField(verbose_name=_("memo"), max_length=255, blank=True)
    actor_id = models.UUIDField(
        verbose_name=_("actor id"), null=True, blank=True, help_text=_("Staff member behind an adjustment.")
    )

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="ledger_kind_reference_unique"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            choices_check("kind", LedgerKind, "ledger_kind_valid"),
        ]
        indexes = [
            # Wallet page: SELECT ... FROM ledger WHERE user_id = ? ORDER BY created_at DESC LIMIT 50
            models.Index(fields=["user", "-created_at"], name="ledger_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.reference})"


class TopUp(TimeStampedModel):
    """A purchase of credits through a payment provider; credited once, when its webhook says it succeeded."""

    Status = TopUpStatus

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="topups")
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=10, decimal_places=2)
    provider = models.CharField(verbose_name=_("provider"), max_length=32, default="test")
    provider_reference = models.CharField(verbose_name=_("provider reference"), max_length=100, unique=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    # The card payment behind it (Stripe's payment intent): refunds to the card go against it.
    payment_intent = models.CharField(verbose_name=_("payment intent"), max_length=100, blank=True)
    # Credits of this payment sent back to the card (refunds pending or done); never more than the amount.
    refunded_amount = models.DecimalField(verbose_name=_("refunded amount"), max_digits=10, decimal_places=2, default=0)
    # The checkout (orders_db) this top-up pays the difference of, if any; a plain UUID, no relation.
    order_id = models.UUIDField(verbose_name=_("order id"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("top up")
        verbose_name_plural = _("top ups")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="topup_amount_positive"),
            choices_check("status", TopUpStatus, "topup_status_valid"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
                name="topup_refunded_within_amount",
            ),
        ]
        indexes = [
            # Refundable payments: WHERE user_id = ? AND status = 'SUCCEEDED' ORDER BY created_at DESC
            models.Index(fields=["user", "status", "-created_at"], name="topup_user_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} for {self.user_id} ({self.status})"


class PaymentEvent(TimeStampedModel):
    """A provider webhook event already applied: a replayed or concurrent delivery of it changes nothing."""

    provider = models.CharField(verbose_name=_("provider"), max_length=32)
    event_id = models.CharField(verbose_name=_("event id"), max_length=255)
    type = models.CharField(verbose_name=_("type"), max_length=100)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="paymentevent_once_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class CardRefund(TimeStampedModel):
    """Credits sent back to the card of one top-up. Its id is the reference of its ledger rows and the provider's
    idempotency key: the CARD_REFUND debit is written first, a refused refund is compensated by a
    CARD_REFUND_REVERSAL credit with the same reference."""

    Status = CardRefundStatus

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="card_refunds")
    topup = models.ForeignKey(TopUp, verbose_name=_("topup"), on_delete=models.PROTECT, related_name="card_refunds")
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_refund_id = models.CharField(verbose_name=_("provider refund id"), max_length=100, blank=True)
    failure_reason = models.CharField(verbose_name=_("failure reason"), max_length=255, blank=True)
    actor_id = models.UUIDField(
        verbose_name=_("actor id"),
        null=True,
        blank=True,
        help_text=_("Staff member who sent it back, if not the buyer."),
    )
    request_reference = models.CharField(
        verbose_name=_("request reference"), max_length=100, help_text=_("The request it belongs to (idempotency).")
    )

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("card refund")
        verbose_name_plural = _("card refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cardrefund_amount_positive"),
            choices_check("status", CardRefundStatus, "cardrefund_status_valid"),
            # One part per top-up and request: a retried request finds its parts instead of refunding twice.
            models.UniqueConstraint(fields=["request_reference", "topup"], name="cardrefund_once_per_request"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.topup_id} ({self.status})"


class OneTimeCode(TimeStampedModel):
    """A short code sent by email, stored hashed, tied to a purpose and (optionally) one object."""

    Purpose = OneTimeCodePurpose

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField(verbose_name=_("purpose"), max_length=32, choices=Purpose.choices)
    object_id = models.UUIDField(verbose_name=_("object id"), null=True, blank=True)
    code_hash = models.CharField(verbose_name=_("code hash"), max_length=128)
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(verbose_name=_("max attempts"), default=5)
    consumed_at = models.DateTimeField(verbose_name=_("consumed at"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("one time code")
        verbose_name_plural = _("one time codes")
        constraints = [
            choices_check("purpose", OneTimeCodePurpose, "otp_purpose_valid"),
            models.CheckConstraint(condition=Q(attempts__lte=models.F("max_attempts")), name="otp_attempts_capped"),
        ]
        indexes = [
            # Verify: SELECT ... WHERE user_id = ? AND purpose = ? AND object_id = ? AND consumed_at IS NULL
            models.Index(
                fields=["user", "purpose", "object_id"],
                condition=Q(consumed_at__isnull=True),
                name="otp_open_lookup_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.user_id}"


class OrganizationMembership(TimeStampedModel):
    """A staff member's role in an organization (events_db); the organization is a UUID, not a foreign key."""

    Role = MembershipRole

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    organization_id = models.UUIDField(verbose_name=_("organization id"), db_index=True)
    role = models.CharField(verbose_name=_("role"), max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["organization_id", "role"]
        verbose_name = _("organization membership")
        verbose_name_plural = _("organization memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization_id"], name="membership_user_org_unique"),
            choices_check("role", MembershipRole, "membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.organization_id}"


class LoginAttempt(TimeStampedModel):
    """A failed login as the throttle before django-axes recorded it. No longer written (axes' AccessAttempt is the
    throttle now); pruned like axes' rows, and dropped by a later migration once no running release writes it."""

    email = models.CharField(verbose_name=_("email"), max_length=254)
    ip_address = models.GenericIPAddressField(verbose_name=_("ip address"), null=True, blank=True)

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")
        indexes = [
            # Throttle: SELECT count(*) WHERE email = ? AND created_at > now() - window
            models.Index(fields=["email", "created_at"], name="loginattempt_email_idx"),
            models.Index(fields=["ip_address", "created_at"], name="loginattempt_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"failed login {self.email} from {self.ip_address}"
