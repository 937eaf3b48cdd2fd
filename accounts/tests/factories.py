from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from accounts import DB_ALIAS
from accounts.contract import LedgerKind
from accounts.models import LedgerEntry, OrganizationMembership, User
from core.permissions import Role

# Every factory-made account logs in with this.
PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only


class UserFactory(DjangoModelFactory):
    """A verified buyer with no credits. Give credits with ``credits=`` (written through the ledger)."""

    class Meta:
        model = User
        database = DB_ALIAS
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    is_verified = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def credits(self, create, extracted, **kwargs):
        self.save(using=DB_ALIAS)
        amount = Decimal(str(extracted or 0))
        if create and amount:
            # Written as a ledger row so balance == sum(ledger) holds from the start.
            User.objects.filter(pk=self.pk).update(credit_balance=amount)
            LedgerEntry.objects.create(
                user=self,
                kind=LedgerKind.ADJUSTMENT,
                amount=amount,
                balance_after=amount,
                reference=f"factory-{self.pk}",
                memo="Test credits",
            )
            self.credit_balance = amount


class StaffFactory(UserFactory):
    is_staff = True
    email = factory.Sequence(lambda n: f"staff{n}@example.com")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = OrganizationMembership
        database = DB_ALIAS

    user = factory.SubFactory(StaffFactory)
    organization_id = factory.Faker("uuid4", cast_to=None)
    role = Role.MANAGER


def totp_provision(user: User):
    """A confirmed authenticator device for ``user`` (staff tests that log in through the pages)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.using(DB_ALIAS).create(user=user, name="authenticator app", confirmed=True)


def totp_code(device) -> str:
    """The code the authenticator app shows now, or at the next step if this one was already used (a device
    accepts each step once, and one step either side of now)."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t >= totp.t():
        totp.time += (device.last_t + 1 - totp.t()) * device.step
    return f"{totp.token():0{device.digits}d}"
