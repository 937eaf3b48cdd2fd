"""The transfer disputes page: the organization's open disputes with both parties and the reverse action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import MembershipFactory
from core.databases import ALL_DATABASES
from orders import services as svc
from orders.models import Transfer
from orders.tests.factories import make_event
from orders.tests.helpers import accepted, confirm_both, page_client

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

URL = "admin:orders_transfer_disputes"


@pytest.fixture
def disputed(ticket, owner, friend):
    clerk = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="BOX_OFFICE").user
    done = confirm_both(accepted(ticket, owner, friend, price="20.00"), owner, friend)
    svc.transfer_dispute(transfer_id=done.id, actor_id=clerk.pk, reason="Buyer says it was stolen")
    return {"transfer": done, "clerk": clerk}


def test_the_page_lists_an_open_dispute_with_both_parties_and_its_reason(disputed, owner, friend):
    html = page_client(disputed["clerk"]).get(reverse(URL)).content.decode()
    assert f'data-transfer="{disputed["transfer"].id}"' in html
    assert owner.email in html and friend.email in html and "Buyer says it was stolen" in html
    assert 'value="reverse_transfers"' in html


def test_the_reverse_button_leads_to_the_reverse_action_which_gives_the_ticket_back(disputed):
    client = page_client(disputed["clerk"])
    transfer_id = str(disputed["transfer"].id)
    changelist = reverse("admin:orders_transfer_changelist")
    ask = client.post(changelist, {"action": "reverse_transfers", "_selected_action": [transfer_id]})
    assert ask.status_code == 200 and "Reverse transfers" in ask.content.decode()
    client.post(
        changelist,
        {"action": "reverse_transfers", "_selected_action": [transfer_id], "apply": "1", "reason": "Confirmed fraud"},
    )
    assert transfer_id not in client.get(reverse(URL)).content.decode()
    assert Transfer.objects.get(pk=disputed["transfer"].id).status == "REVERSED"


def test_other_organizations_and_roles_without_the_capability_see_nothing(disputed):
    outsider = MembershipFactory(organization_id=make_event().event.organization_id, role="OWNER").user
    html = page_client(outsider).get(reverse(URL)).content.decode()
    assert str(disputed["transfer"].id) not in html
    manager = MembershipFactory(organization_id=disputed["transfer"].organization_id, role="MANAGER").user
    assert page_client(manager).get(reverse(URL)).status_code == 403
