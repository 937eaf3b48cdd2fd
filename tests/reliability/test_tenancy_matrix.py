"""The tenancy matrix, generated: every admin page and action × every staff role of organization A, against the
rows of organization B (and platform rows), built from the admin registry and the URL resolver.

For each registered ModelAdmin the changelist (plain and searched for B's buyer), the add page, B's object's
change, delete and history pages, every action posted with B's object selected, and every custom admin URL that
names an object. Staff of A must never see B's rows nor change them: object pages answer 403 or 404, changelists
and searches never list B's ids, posts change nothing. A model or a custom page added without a row in the tables
below fails ``test_every_admin_model_and_page_has_a_row``, so a new page cannot go untested.

The API is the authorization matrix's (test_authorization_matrix.py), which walks the URL resolver and the OpenAPI
schema the same way, with staff of the buyer's organization and of another organization among its personas.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from accounts.models import LedgerEntry, OrganizationMembership
from core.databases import ALL_DATABASES
from core.jobs import JOBS_DATABASE
from core.models import AuditLog, SystemSetting
from events.tests.staff_world import ROLES, make_world
from orders.models import Notification, WaitingListEntry
from orders.services import blocks, resale
from orders.services import transfer as transfers

pytestmark = pytest.mark.integration


class TheirRows:
    """Organization B's rows (or platform rows no organization's staff may reach), by admin model label."""

    def __init__(self, ours, theirs):
        self.ours, self.theirs = ours, theirs
        seats = theirs.seat_ids
        listing = resale.listing_create(seat_id=seats[1], seller_id=theirs.buyer.pk, price=theirs.tier.price)
        offer = transfers.transfer_offer(seat_id=seats[0], from_user_id=theirs.buyer.pk, to_email=ours.buyer.email)
        block = blocks.buyer_block(
            organization_id=theirs.organization.pk, user_id=theirs.buyer.pk, reason="r", actor_id=None
        )
        SystemSetting.objects.create(key="hold_seconds", value=300)
        token = Token.objects.create(user=theirs.buyer)
        notice = Notification.objects.using("orders").create(
            kind="ORDER_CONFIRMED",
            object_id=theirs.order_id,
            recipient_id=theirs.buyer.pk,
            organization_id=theirs.organization.pk,
            email=theirs.buyer.email,
        )
        waiting = WaitingListEntry.objects.using("orders").create(
            event_id=theirs.event.pk, organization_id=theirs.organization.pk, buyer_id=theirs.buyer.pk, quantity=2
        )
        self.pks: dict[str, Callable[[], object]] = {
            "events.organization": lambda: theirs.organization.pk,
            "events.venue": lambda: theirs.venue.pk,
            "events.section": lambda: theirs.section.pk,
            "events.event": lambda: theirs.event.pk,
            "inventory.seat": lambda: seats[0],
            "inventory.entrylog": lambda: theirs.entry_log.pk,
            "orders.order": lambda: theirs.order_id,
            "orders.transfer": lambda: offer.id,
            "orders.resalelisting": lambda: listing.id,
            "orders.buyerblock": lambda: block.pk,
            "orders.notification": lambda: notice.pk,
            "orders.waitinglistentry": lambda: waiting.pk,
            "accounts.user": lambda: theirs.buyer.pk,
            "accounts.ledgerentry": lambda: LedgerEntry.objects.filter(user=theirs.buyer).first().pk,
            "accounts.organizationmembership": lambda: OrganizationMembership.objects.get(user=theirs.owner).pk,
            "core.auditlog": lambda: AuditLog.objects.filter(organization_id=theirs.organization.pk).first().pk,
            "core.systemsetting": lambda: SystemSetting.objects.get(key="hold_seconds").pk,
            "authtoken.tokenproxy": lambda: token.pk,
            "procrastinate.procrastinatejob": lambda: _any_job_id(),
        }

    def pk(self, label: str):
        return self.pks[label]()

    def still_there(self, label: str) -> bool:
        model = _admins()[label].model
        return model._default_manager.filter(pk=self.pk(label)).exists()


def _any_job_id():
    with connections[JOBS_DATABASE].cursor() as cursor:
        cursor.execute("SELECT id FROM procrastinate_jobs ORDER BY id LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row else 0


# Custom admin pages that name an object: url name -> the admin model label whose row of B they are asked about.
CUSTOM_PAGES = {
    "events_event_publish": "events.event",
    "events_event_cancel": "events.event",
    "events_event_reprice": "events.event",
    "events_event_dashboard": "events.event",
    "events_event_return_to_sale": "events.event",
    "events_event_waiting_room": "events.event",
    "events_event_exports": "events.event",
    "events_event_export": "events.event",
    "events_event_box_office": "events.event",
    "events_event_box_office_print": "events.event",
    "events_event_comps": "events.event",
    "orders_order_refund_tickets": "orders.order",
    "events_section_grid": "events.section",
    "events_venue_layout": "events.venue",
    "accounts_user_flag": "accounts.user",
    "accounts_user_adjust": "accounts.user",
    "accounts_user_card_refund": "accounts.user",
}
# The arguments a custom page takes after the object's id.
CUSTOM_PAGE_ARGS = {
    "events_event_export": ("attendees", "csv"),
    # Any order: the event is B's, so the page is not found before the order is looked at.
    "events_event_box_office_print": (str(uuid.UUID(int=1)),),
}
# Custom admin pages without an object of their own: who may open them is the authorization matrix's and
# test_admin_tenancy.py's; here they only need to be named.
PAGES_WITHOUT_OBJECT = {
    "index",
    "login",
    "logout",
    "jsi18n",
    "password_change",
    "password_change_done",
    "app_list",
    "view_on_site",
    "autocomplete",
    "orders_transfer_disputes",  # lists only the staff member's organizations (orders/tests/test_disputes_page.py)
    # Offers only the staff member's organizations; another's is an invalid choice
    # (orders/tests/test_organization_exports.py).
    "orders_organization_exports",
    "database_health",
    "events_event_publish_many",
    "events_event_operation",  # an operation of an event: 404 unless the event is the staff member's (below)
    "accounts_two_factor",  # resetting a staff member's second factor: platform superusers only (403 for the rest)
}


def _admins() -> dict[str, admin.ModelAdmin]:
    return {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}


def _admin_url_names(patterns=None, prefix: str = "") -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            names |= _admin_url_names(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and prefix.startswith("admin/") and pattern.name:
            names.add(pattern.name)
    return names


STANDARD_SUFFIXES = ("_changelist", "_add", "_change", "_delete", "_history")


def test_every_admin_model_and_page_has_a_row():
    """A model admin or an admin page added later without a row here fails, instead of going untested."""
    labels = set(_admins())
    missing_models = sorted(label for label in labels if label not in _ROW_LABELS)
    assert not missing_models, f"add these admin models to TheirRows: {missing_models}"
    standard = {f"{label.replace('.', '_')}{suffix}" for label in labels for suffix in STANDARD_SUFFIXES}
    extra = {f"{label.replace('.', '_')}_password_change" for label in labels}
    names = _admin_url_names() - standard - extra
    missing_pages = sorted(name for name in names if name not in CUSTOM_PAGES and name not in PAGES_WITHOUT_OBJECT)
    assert not missing_pages, f"add these admin pages to CUSTOM_PAGES or PAGES_WITHOUT_OBJECT: {missing_pages}"


_ROW_LABELS = {
    "events.organization",
    "events.venue",
    "events.section",
    "events.event",
    "inventory.seat",
    "inventory.entrylog",
    "orders.order",
    "orders.transfer",
    "orders.resalelisting",
    "orders.buyerblock",
    "orders.notification",
    "orders.waitinglistentry",
    "accounts.user",
    "accounts.ledgerentry",
    "accounts.organizationmembership",
    "core.auditlog",
    "core.systemsetting",
    "authtoken.tokenproxy",
    "procrastinate.procrastinatejob",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ours, theirs = make_world()
        rows = TheirRows(ours, theirs)
    yield rows
    with django_db_blocker.unblock():
        for alias in ALL_DATABASES:
            call_command("flush", database=alias, interactive=False, verbosity=0)
        with connections[JOBS_DATABASE].cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")


def _refused(response) -> bool:
    """403 or 404; or, from a third-party admin not built on TenantScopedAdmin (DRF's tokens), Django's own "no such
    object" redirect to the admin index, which shows nothing of the row either."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response.headers.get("Location") == reverse("admin:index")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(label: str, page: str, *args) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_{page}", args=args)


MODELS = sorted(_ROW_LABELS)


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", MODELS)
def test_staff_of_a_reach_no_row_of_b(world, label, role):
    pk = world.pk(label)
    client = _client(world.ours.staff[role])
    where = f"{label} as {role}"

    for query in ("", f"?q={world.theirs.buyer.email}", f"?q={pk}"):
        response = client.get(_url(label, "changelist") + query)
        assert response.status_code in (200, 403), where
        body = response.content.decode().replace(query.replace("@", "%40"), "").replace(f"q={pk}", "")
        body = body.replace(f'value="{pk}"', "") if not query.endswith(str(pk)) else body
        assert _url(label, "change", pk) not in body, f"{where}: the changelist{query} links B's row"
        if not query:
            assert str(pk) not in body, f"{where}: the changelist names B's row"

    for page in ("change", "delete", "history"):
        response = client.get(_url(label, page, pk))
        assert _refused(response), f"{where}: {page} page answered {response.status_code}"
        response = client.post(_url(label, page, pk), {"post": "yes"})
        assert _refused(response), f"{where}: {page} post answered {response.status_code}"
    assert world.still_there(label), f"{where}: B's row was deleted"


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", [label for label in MODELS if label.split(".")[0] != "procrastinate"])
def test_actions_posted_with_b_rows_change_nothing(world, label, role):
    model_admin = _admins()[label]
    actions = [name for name in (model_admin.actions or []) if isinstance(name, str)]
    actions.append("delete_selected")
    pk = world.pk(label)
    model = model_admin.model
    before = list(model._default_manager.filter(pk=pk).values())
    client = _client(world.ours.staff[role])
    for action in actions:
        client.post(
            _url(label, "changelist"), {"action": action, ACTION_CHECKBOX_NAME: [str(pk)], "reason": "x", "apply": "1"}
        )
        client.post(_url(label, "changelist"), {"action": action, ACTION_CHECKBOX_NAME: [str(pk)], "post": "yes"})
    assert list(model._default_manager.filter(pk=pk).values()) == before, f"{label} as {role}: an action changed it"


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(CUSTOM_PAGES))
def test_custom_pages_of_b_objects_are_not_found(world, name, role):
    pk = world.pk(CUSTOM_PAGES[name])
    client = _client(world.ours.staff[role])
    url = reverse(f"admin:{name}", args=[pk, *CUSTOM_PAGE_ARGS.get(name, ())])
    assert client.get(url).status_code in (403, 404), f"{name} as {role}"
    assert client.post(url, {"reason": "x", "confirm": "on", "amount": "5", "price": "1.00"}).status_code in (
        403,
        404,
    ), f"{name} post as {role}"
    operation = reverse("admin:events_event_operation", args=[world.theirs.event.pk, uuid.uuid4()])
    assert client.get(operation).status_code in (403, 404)


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
def test_staff_see_buyers_only_through_their_own_rows(world, role):
    """No ledger, no balance history, no other organization's orders of a buyer who bought from both."""
    client = _client(world.ours.staff[role])
    buyer = world.theirs.buyer
    assert client.get(_url("accounts.user", "change", buyer.pk)).status_code in (403, 404)
    assert client.get(_url("accounts.ledgerentry", "changelist") + f"?user__id__exact={buyer.pk}").status_code == 403
    orders = client.get(_url("orders.order", "changelist") + f"?q={buyer.email}")
    assert str(world.theirs.order_id) not in orders.content.decode()
