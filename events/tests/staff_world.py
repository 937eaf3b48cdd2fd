"""A small two-tenant world for the staff tests.

Organization A ("ours") and B ("theirs"), each with a venue, a 3x5 seated section, a published event whose
inventory was made by events.services.event_publish, a confirmed order bought through the real purchase services,
and an entry log. Staff of A hold each role; B has its own owner. Personas are named after their role.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import OrganizationMembership
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from events.models import Event
from events.services import event_publish
from events.tests.factories import EventFactory, EventSectionFactory, OrganizationFactory, SectionFactory, VenueFactory
from inventory.tests.factories import EntryLogFactory

ALL_DBS = ["default", "seats", "orders", "events"]
ROLES = ["OWNER", "MANAGER", "BOX_OFFICE", "GATE"]


@dataclass
class Tenant:
    organization: object
    venue: object
    section: object
    event: object
    tier: object
    buyer: object
    order_id: uuid.UUID
    seat_ids: list
    entry_log: object
    owner: object
    staff: dict = field(default_factory=dict)


def _seat_ids(event_id) -> list:
    from inventory.selectors import seat_map, section_availability

    sections = section_availability(event_id=event_id)
    ids = []
    for section_id in sections:
        ids += [row["id"] for row in seat_map(event_id=event_id, section_id=section_id)]
    return ids


def buy(*, buyer, event_id, seat_ids) -> uuid.UUID:
    from orders.services import hold_seats, order_checkout

    hold_seats(buyer_id=buyer.pk, event_id=event_id, seat_ids=seat_ids)
    return order_checkout(buyer_id=buyer.pk, event_id=event_id, idempotency_key=uuid.uuid4().hex).id


def make_tenant(label: str, *, superuser=None) -> Tenant:
    org = OrganizationFactory(name=f"Org {label}")
    venue = VenueFactory(organization=org, name=f"Hall {label}")
    section = SectionFactory(venue=venue, name=f"Stalls {label}", rows=3, seats_per_row=5)
    event = EventFactory(venue=venue, organization=org, title=f"Show {label}", status=Event.Status.DRAFT)
    es = EventSectionFactory(event=event, section=section, tier__price=Decimal("25.00"), tier__name="Standard")
    owner = StaffFactory(email=f"owner-{label.lower()}@example.com", full_name=f"Owner {label}")
    MembershipFactory(user=owner, organization_id=org.pk, role=OrganizationMembership.Role.OWNER)
    event_publish(event_id=event.pk, actor_id=owner.pk)
    event.refresh_from_db()
    seats = _seat_ids(event.pk)
    buyer = UserFactory(email=f"buyer-{label.lower()}@example.com", full_name=f"Buyer {label}", credits="200.00")
    order_id = buy(buyer=buyer, event_id=event.pk, seat_ids=seats[:2])
    log = EntryLogFactory(event_id=event.pk, organization_id=org.pk, staff_id=owner.pk, gate=f"Gate {label}")
    tenant = Tenant(org, venue, section, event, es.tier, buyer, order_id, seats, log, owner)
    tenant.staff["OWNER"] = owner
    return tenant


def add_staff(tenant: Tenant, role: str):
    user = StaffFactory(email=f"{role.lower()}-{tenant.organization.name[-1].lower()}@example.com", full_name=role)
    MembershipFactory(user=user, organization_id=tenant.organization.pk, role=role)
    tenant.staff[role] = user
    return user


def make_world() -> tuple[Tenant, Tenant]:
    ours = make_tenant("A")
    for role in ROLES[1:]:
        add_staff(ours, role)
    theirs = make_tenant("B")
    return ours, theirs
