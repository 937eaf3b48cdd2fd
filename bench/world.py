"""The benchmarks' one world builder: an organization, a venue, a published event selling the given sections; and
the people who use it, each with the API token their client sends."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SectionSpec:
    """A seated section of ``rows`` x ``seats_per_row``, or a general-admission one of ``capacity`` places."""

    name: str
    rows: int = 0
    seats_per_row: int = 0
    capacity: int = 0

    @property
    def seated(self) -> bool:
        return self.rows > 0


@dataclass(frozen=True)
class PublishedEvent:
    organization_id: uuid.UUID
    event_id: uuid.UUID
    admin_id: uuid.UUID
    section_ids: dict[str, uuid.UUID]


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    email: str
    token: str


def bench_person(
    email: str,
    *,
    full_name: str = "",
    credits: Decimal = Decimal("0"),
    organization_id: uuid.UUID | None = None,
    role: str = "",
    **extra,
) -> Person:
    """A verified user with an API token, ``credits`` on their balance (one ADJUSTMENT ledger row) and, given a
    ``role``, a membership of ``organization_id``. No password: the benchmark authenticates with API tokens, and
    hashing hundreds of Argon2 passwords would only slow the set-up down."""
    from rest_framework.authtoken.models import Token

    from accounts import services as accounts_services
    from accounts.models import OrganizationMembership, User

    user = User.objects.create_user(email, None, full_name=full_name, is_verified=True, **extra)
    if credits:
        accounts_services.credits_credit(
            user_id=user.pk, amount=credits, kind="ADJUSTMENT", reference=f"bench-{user.pk}", memo="Bench credits"
        )
    if role:
        OrganizationMembership.objects.create(user_id=user.pk, organization_id=organization_id, role=role)
    return Person(id=user.pk, email=user.email, token=Token.objects.create(user=user).key)


def published_event(*, label: str, run: str, sections: list[SectionSpec], price: Decimal) -> PublishedEvent:
    """Sales opened an hour ago and the event starts tomorrow; published through the staff service."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from events import services as events_services
    from events.models import Event, EventSection, Organization, PriceTier, Section, Venue
    from orders import services as orders_services

    now = timezone.now()
    slug = f"{label.lower()}-{run}"
    organization = Organization.objects.create(name=f"{label} {run}", slug=slug)
    venue = Venue.objects.create(organization=organization, name=f"{label} venue {run}")
    event = Event.objects.create(
        organization=organization,
        venue=venue,
        title=f"{label} {run}",
        slug=slug,
        starts_at=now + dt.timedelta(days=1),
        doors_at=now + dt.timedelta(hours=23),
        sales_start=now - dt.timedelta(hours=1),
        sales_end=now + dt.timedelta(days=1),
        status="DRAFT",
    )
    tier = PriceTier.objects.create(event=event, name="Standard", price=price)
    section_ids = {}
    for spec in sections:
        if spec.seated:
            section = Section.objects.create(
                venue=venue,
                name=spec.name,
                kind="SEATED",
                layout=events_services.build_grid_layout(rows=spec.rows, seats_per_row=spec.seats_per_row),
                capacity=spec.rows * spec.seats_per_row,
            )
        else:
            section = Section.objects.create(venue=venue, name=spec.name, kind="GENERAL", capacity=spec.capacity)
        EventSection.objects.create(event=event, section=section, tier=tier)
        section_ids[spec.name] = section.pk
    admin = get_user_model().objects.create_superuser(email=f"{slug}-admin@bench.test", password=None)
    orders_services.event_publish(event_id=event.pk, actor_id=admin.pk)
    return PublishedEvent(
        organization_id=organization.pk, event_id=event.pk, admin_id=admin.pk, section_ids=section_ids
    )
