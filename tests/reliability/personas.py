"""Named personas and a small two-organization world for the security tests.

Organization A sells an event whose inventory was made by ``orders.services.event_publish``; its buyer bought
tickets through the real purchase services. Every object the matrix asks about belongs to the buyer of A:

* ``order_id``     a confirmed order (seats 0 and 1, both plain SOLD tickets);
* ``ticket_id``    seat 0, a SOLD ticket;
* ``listing_id``   seat 2, listed for resale (ACTIVE listings are public on purpose);
* ``transfer_id``  seat 3, offered to a third user (``recipient``), who is none of the personas;
* ``topup_ref``    a PENDING top-up of the buyer through the test payment provider;
* ``held_seat_id`` seat 4, held by the buyer (so the buyer, and only the buyer, can pay);
* ``free_seat_id`` seat 5, available to anyone;
* ``waiting_entry_id`` the buyer's entry on the event's waiting list.

Organization B exists so that its BOX_OFFICE member is staff of *another* organization.

Personas: anonymous (None), buyer, other_buyer, gate (GATE staff of A), box_office_other (BOX_OFFICE of B),
superuser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts import services as account_services
from accounts.tests.factories import StaffFactory, UserFactory
from core.databases import ALL_DATABASES
from events.tests.staff_world import add_staff, buy, make_tenant
from orders.models import WaitingListEntry
from orders.services import hold_seats, resale, transfer

PERSONAS = ("anonymous", "buyer", "other_buyer", "gate", "box_office_other", "superuser")
PASSWORD = "correct horse battery staple"  # accounts.tests.factories.UserFactory's password


@dataclass
class World:
    tenant_a: object
    tenant_b: object
    users: dict = field(default_factory=dict)  # persona -> User (anonymous -> None)
    tokens: dict = field(default_factory=dict)  # persona -> API token key
    recipient: object = None
    order_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None
    listing_id: uuid.UUID | None = None
    listed_seat_id: uuid.UUID | None = None
    transfer_id: uuid.UUID | None = None
    transfer_seat_id: uuid.UUID | None = None
    topup_ref: str = ""
    topup_id: str = ""
    held_seat_id: uuid.UUID | None = None
    free_seat_id: uuid.UUID | None = None
    waiting_entry_id: uuid.UUID | None = None

    @property
    def event(self):
        return self.tenant_a.event

    @property
    def buyer(self):
        return self.users["buyer"]

    def values(self) -> dict[str, str]:
        """URL parameter name -> value, for filling route templates such as ``orders/<str:order_id>/``."""
        return {
            "event_id": str(self.event.pk),
            "organization_id": str(self.event.organization_id),
            "section_id": str(self.tenant_a.section.pk),
            "seat_id": str(self.ticket_id),
            "order_id": str(self.order_id),
            "transfer_id": str(self.transfer_id),
            "listing_id": str(self.listing_id),
            "provider_reference": self.topup_ref,
            "topup_id": self.topup_id,
            "entry_id": str(self.waiting_entry_id),
        }


def build_world() -> World:
    a = make_tenant("A")
    b = make_tenant("B")
    world = World(tenant_a=a, tenant_b=b)
    world.users = {
        "anonymous": None,
        "buyer": a.buyer,
        "other_buyer": UserFactory(email="other-buyer@example.com", full_name="Otto Other", credits="500.00"),
        "gate": add_staff(a, "GATE"),
        "box_office_other": add_staff(b, "BOX_OFFICE"),
        "superuser": StaffFactory(email="root@example.com", full_name="Root", is_superuser=True),
    }
    world.recipient = UserFactory(email="recipient@example.com", full_name="Rita Recipient")
    seats = a.seat_ids
    world.order_id = a.order_id
    world.ticket_id = seats[0]

    # More credits so the buyer can buy two more tickets (the tenant's buyer starts with 200, spent 50).
    account_services.credits_credit(
        user_id=a.buyer.pk, amount=Decimal("200.00"), kind="ADJUSTMENT", reference=f"security-{uuid.uuid4()}"
    )
    buy(buyer=a.buyer, event_id=a.event.pk, seat_ids=[seats[2]])
    listing = resale.listing_create(seat_id=seats[2], seller_id=a.buyer.pk, price=Decimal("20.00"))
    world.listing_id, world.listed_seat_id = listing.id, seats[2]

    buy(buyer=a.buyer, event_id=a.event.pk, seat_ids=[seats[3]])
    offer = transfer.transfer_offer(
        seat_id=seats[3], from_user_id=a.buyer.pk, to_email=world.recipient.email, price=Decimal("0")
    )
    world.transfer_id, world.transfer_seat_id = offer.id, seats[3]

    started = account_services.topup_start(user_id=a.buyer.pk, amount="10.00").topup
    world.topup_ref, world.topup_id = started.provider_reference, str(started.id)
    hold_seats(buyer_id=a.buyer.pk, event_id=a.event.pk, seat_ids=[seats[4]])
    world.held_seat_id, world.free_seat_id = seats[4], seats[5]
    world.waiting_entry_id = WaitingListEntry.objects.create(
        event_id=a.event.pk, organization_id=a.event.organization_id, buyer_id=a.buyer.pk, quantity=1
    ).pk
    return world


def committed_world(django_db_blocker):
    """Generator for a module-scoped fixture: the world committed once, the test databases flushed afterwards.

    Each test still runs in its own rolled-back transaction (pytest.mark.django_db), so what one test changes
    (a refund, a purchase, a scan) is invisible to the next, and the expensive world is built once per module.
    """
    with django_db_blocker.unblock():
        world = build_world()
        world.tokens = {name: Token.objects.create(user=user).key for name, user in world.users.items() if user}
    yield world
    with django_db_blocker.unblock():
        # Leave the test databases as empty as a transactional test does.
        for alias in ALL_DATABASES:
            call_command("flush", database=alias, interactive=False, verbosity=0)
