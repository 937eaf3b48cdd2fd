"""Two staff members of different organizations use the admin at the same moment, on real threads.

A ModelAdmin (and a view module) is one object shared by every thread of a gthread worker. Anything a request
keeps on it (the user's organizations, the names shown on a page) would be seen by the other request. Each page
below must show its own organization's rows and names only, however the two requests interleave.
"""

from __future__ import annotations

import threading

import pytest
from django.test import Client
from django.urls import reverse

from core.databases import ALL_DATABASES
from events.tests.staff_world import make_world

ROUNDS = 15
PAGES = [
    "admin:orders_order_changelist",
    "admin:inventory_entrylog_changelist",
    "admin:inventory_seat_changelist",
    "admin:events_event_changelist",
    "admin:accounts_organizationmembership_changelist",
]

pytestmark = [pytest.mark.django_db(databases=ALL_DATABASES, transaction=True), pytest.mark.concurrency]


def test_concurrent_admin_requests_of_two_organizations_never_see_each_others_data():
    ours, theirs = make_world()
    sessions = {"ours": (ours, theirs, ours.staff["OWNER"]), "theirs": (theirs, ours, theirs.owner)}
    barrier = threading.Barrier(len(sessions))
    leaks: list[str] = []
    errors: list[BaseException] = []

    def browse(name: str) -> None:
        own, other, user = sessions[name]
        client = Client()
        client.force_login(user)
        try:
            for _ in range(ROUNDS):
                for page in PAGES:
                    barrier.wait(timeout=30)  # both requests of this round start together
                    html = client.get(reverse(page)).content.decode()
                    if other.event.title in html or other.organization.name in html or other.buyer.email in html:
                        leaks.append(f"{name} saw the other organization on {page}")
                    if page == "admin:orders_order_changelist" and own.event.title not in html:
                        leaks.append(f"{name} did not see its own event on {page}")
        except BaseException as exc:  # noqa: BLE001 - reported below, on the test's own thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=browse, args=(name,)) for name in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not leaks, leaks[:5]


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_no_model_admin_keeps_anything_from_a_request():
    """Every registered ModelAdmin's attributes are the same after its changelist and change pages were served."""
    from django.contrib import admin

    ours, _theirs = make_world()
    client = Client()
    client.force_login(ours.staff["OWNER"])
    before = {model: dict(vars(model_admin)) for model, model_admin in admin.site._registry.items()}
    for model in before:
        info = (model._meta.app_label, model._meta.model_name)
        client.get(reverse("admin:{}_{}_changelist".format(*info)))
    changed = {
        model._meta.label: sorted(set(vars(model_admin)) ^ set(before[model]))
        for model, model_admin in admin.site._registry.items()
        if vars(model_admin) != before[model]
    }
    assert not changed, changed
