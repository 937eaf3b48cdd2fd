"""The staff world: tenants as staff see them, each built through the real services.

A tenant (:class:`Tenant`) is an organization with a venue, a seated section, a published event whose inventory was
made by ``orders.services.event_publish``, the event's price tier, a buyer with a confirmed order bought through
the real purchase services, the seats of the event, an entry log at a gate, the organization's owner and any
staff added by role.

* :func:`make_world` gives two tenants: ours (A), where every staff role has a member, and theirs (B), with its
  owner only. The admin, gate and security tests use it to check what one organization's staff reach of another's.
* :func:`make_tenant` builds one tenant; :func:`add_staff` gives it a member of a role; :func:`buy` buys seats
  through the purchase services, for tests that need more orders.

Personas are named after their role (``tenant.staff["GATE"]``); the owner is ``tenant.staff["OWNER"]`` too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import User
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from core.databases import ALL_DATABASES
from core.permissions import Role
from events.contract import EventStatus
from events.models import Event, Organization, PriceTier, Section, Venue
from events.tests.factories import EventFactory, EventSectionFactory, OrganizationFactory, SectionFactory, VenueFactory
from inventory.models import EntryLog
from inventory.selectors import seat_map, section_availability
from inventory.tests.factories import EntryLogFactory
from orders.services import event_publish, hold_seats, order_checkout

# The name the staff tests of every app import for ``django_db(databases=...)``.
ALL_DBS = ALL_DATABASES
# Every staff role, the owner first (the owner comes with each tenant; make_world adds the others to ours).
ROLES = [role.value for role in Role]


@dataclass
class Tenant:
    label: str
    organization: Organization
    venue: Venue
    section: Section
    event: Event
    tier: PriceTier
    buyer: User
    order_id: uuid.UUID
    seat_ids: list[uuid.UUID]
    entry_log: EntryLog
    owner: User
    staff: dict[str, User] = field(default_factory=dict)  # role -> member


def buy(*, buyer: User, event_id: uuid.UUID, seat_ids: list[uuid.UUID]) -> uuid.UUID:
    """Hold ``seat_ids`` for ``buyer`` and check out; the confirmed order's id."""
    hold_seats(buyer_id=buyer.pk, event_id=event_id, seat_ids=seat_ids)
    return order_checkout(buyer_id=buyer.pk, event_id=event_id, idempotency_key=uuid.uuid4().hex).id


def _seat_ids(event_id: uuid.UUID) -> list[uuid.UUID]:
    ids = []
    for section_id in section_availability(event_id=event_id):
        ids += [row["id"] for row in seat_map(event_id=event_id, section_id=section_id)]
    return ids


def make_tenant(
    label: str,
    *,
    rows: int = 3,
    seats_per_row: int = 5,
    price: Decimal = Decimal("25.00"),
    buyer_credits: str = "200.00",
    seats_bought: int = 2,
) -> Tenant:
    """One organization, published and selling: ``rows`` x ``seats_per_row`` seats at ``price``, of which the
    buyer (``buyer_credits`` to spend) bought the first ``seats_bought`` in one order.

    ``label`` names everything ("Org A", "Hall A", "buyer-a@example.com"...): labels of one test differ.
    """
    org = OrganizationFactory(name=f"Org {label}")
    venue = VenueFactory(organization=org, name=f"Hall {label}")
    section = SectionFactory(venue=venue, name=f"Stalls {label}", rows=rows, seats_per_row=seats_per_row)
    event = EventFactory(venue=venue, organization=org, title=f"Show {label}", status=EventStatus.DRAFT)
    link = EventSectionFactory(event=event, section=section, tier__price=price, tier__name="Standard")
    owner = StaffFactory(email=f"owner-{label.lower()}@example.com", full_name=f"Owner {label}")
    MembershipFactory(user=owner, organization_id=org.pk, role=Role.OWNER.value)
    event_publish(event_id=event.pk, actor_id=owner.pk)
    event.refresh_from_db()
    seats = _seat_ids(event.pk)
    buyer = UserFactory(email=f"buyer-{label.lower()}@example.com", full_name=f"Buyer {label}", credits=buyer_credits)
    order_id = buy(buyer=buyer, event_id=event.pk, seat_ids=seats[:seats_bought])
    log = EntryLogFactory(event_id=event.pk, organization_id=org.pk, staff_id=owner.pk, gate=f"Gate {label}")
    return Tenant(
        label=label,
        organization=org,
        venue=venue,
        section=section,
        event=event,
        tier=link.tier,
        buyer=buyer,
        order_id=order_id,
        seat_ids=seats,
        entry_log=log,
        owner=owner,
        staff={Role.OWNER.value: owner},
    )


def add_staff(tenant: Tenant, role: str) -> User:
    """A new member of ``tenant``'s organization with ``role`` (one of :data:`ROLES`), kept in ``tenant.staff``."""
    user = StaffFactory(email=f"{role.lower()}-{tenant.label.lower()}@example.com", full_name=role)
    MembershipFactory(user=user, organization_id=tenant.organization.pk, role=role)
    tenant.staff[role] = user
    return user


def make_world() -> tuple[Tenant, Tenant]:
    """(ours, theirs): tenant A with a member of every role, tenant B with its owner only."""
    ours = make_tenant("A")
    for role in ROLES[1:]:
        add_staff(ours, role)
    theirs = make_tenant("B")
    return ours, theirs
