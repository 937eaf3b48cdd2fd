"""Demo people (used by `manage.py seed_demo`). Idempotent: found by email, created when missing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts import DB_ALIAS
from accounts.contract import LedgerKind
from accounts.models import OrganizationMembership, User
from accounts.services import credits_credit
from core.permissions import Role

DEMO_PASSWORD = "ticketremaster"  # noqa: S105 - printed demo login, never used outside the demo database


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    user_id: object


BUYERS = [
    ("alice@demo.test", "Alice Archer", Decimal("500.00"), False),
    ("bob@demo.test", "Bob Brennan", Decimal("300.00"), False),
    ("carol@demo.test", "Carol Cole", Decimal("200.00"), True),  # flagged: must pass a step-up code to pay
    ("dan@demo.test", "Dan Dale", Decimal("0.00"), False),
]
STAFF = [
    ("owner@demo.test", "Olivia Owner", Role.OWNER),
    ("manager@demo.test", "Max Manager", Role.MANAGER),
    ("boxoffice@demo.test", "Bo Office", Role.BOX_OFFICE),
    ("gate@demo.test", "Gail Gate", Role.GATE),
]


def _user(email: str, full_name: str, **extra) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name, is_verified=True, **extra)
    return user


def seed(*, organization_id, other_organization_id) -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    with transaction.atomic(using=DB_ALIAS):
        admin = User.objects.filter(email="admin@demo.test").first() or User.objects.create_superuser(
            "admin@demo.test", DEMO_PASSWORD, full_name="Ada Admin"
        )
        logins.append(DemoLogin(admin.email, "superuser", admin.pk))
        for email, name, credits, flagged in BUYERS:
            user = _user(email, name, is_flagged=flagged, flag_reason="Demo: chargeback history" if flagged else "")
            reference = f"demo-credits-{email}"
            if credits:
                # The opening balance goes through the ledger like every other balance change (once: the
                # reference makes a second seeding a no-op).
                credits_credit(
                    user_id=user.pk,
                    amount=credits,
                    kind=LedgerKind.ADJUSTMENT,
                    reference=reference,
                    memo="Demo opening credits",
                )
            logins.append(DemoLogin(email, "buyer (flagged)" if flagged else "buyer", user.pk))
        for email, name, role in STAFF:
            user = _user(email, name, is_staff=True)
            OrganizationMembership.objects.get_or_create(
                user=user, organization_id=organization_id, defaults={"role": role}
            )
            logins.append(DemoLogin(email, f"staff: {role} of Harbourlight Live", user.pk))
        other = _user("riverside@demo.test", "Rita Riverside", is_staff=True)
        OrganizationMembership.objects.get_or_create(
            user=other, organization_id=other_organization_id, defaults={"role": Role.OWNER}
        )
        logins.append(DemoLogin(other.email, "staff: OWNER of Riverside Arts", other.pk))
    return logins
