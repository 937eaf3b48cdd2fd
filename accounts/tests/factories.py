from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from accounts import DB_ALIAS
from accounts.models import LedgerEntry, OrganizationMembership, User


class UserFactory(DjangoModelFactory):
    """A verified buyer with no credits. Give credits with ``credits=`` (written through the ledger)."""

    class Meta:
        model = User
        database = DB_ALIAS
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    is_verified = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def credits(self, create, extracted, **kwargs):
        self.save(using=DB_ALIAS)
        if create and extracted:
            amount = Decimal(str(extracted))
            # Written as a ledger row so balance == sum(ledger) holds from the start.
            User.objects.filter(pk=self.pk).update(credit_balance=amount)
            LedgerEntry.objects.create(
                user=self,
                kind=LedgerEntry.Kind.TOPUP,
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
    role = OrganizationMembership.Role.MANAGER
