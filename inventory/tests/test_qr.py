"""QR codes of tickets: what a token carries, how long it lives, and who may have one."""

import datetime as dt

import pytest
from django.utils import timezone

from core import config
from core.errors import NotFound
from inventory import services
from inventory.tests.factories import BUYER, OTHER, sell

db = pytest.mark.django_db(databases=["default", "seats"])


@db
def test_qr_token_carries_seat_owner_version_and_expires_after_the_configured_lifetime(venue):
    sell(venue=venue, buyer_id=BUYER)

    token, expires_at = services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=BUYER)

    payload = services.qr_token_read(token)
    assert (payload.seat_id, payload.owner_id, payload.qr_version) == (venue.ids(0)[0], BUYER, 1)
    assert abs(expires_at - timezone.now() - dt.timedelta(seconds=60)) < dt.timedelta(seconds=2)
    svg = services.ticket_qr_svg(token=token)
    assert svg.startswith("<svg") and "</svg>" in svg


@db
def test_qr_lifetime_comes_from_configuration(venue):
    config.set_value("qr_lifetime_seconds", 30)
    sell(venue=venue, buyer_id=BUYER)

    _token, expires_at = services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=BUYER)

    assert expires_at - timezone.now() < dt.timedelta(seconds=31)


@db
def test_no_qr_for_another_persons_ticket_or_an_unsold_seat(venue):
    sell(venue=venue, buyer_id=BUYER)

    with pytest.raises(NotFound):
        services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=OTHER)
    with pytest.raises(NotFound):
        services.ticket_qr(seat_id=venue.ids(1)[0], owner_id=BUYER)


@db
def test_no_qr_while_the_ticket_is_listed(venue):
    sell(venue=venue, buyer_id=BUYER)
    services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=BUYER, listed=True)

    with pytest.raises(services.QrUnavailable):
        services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=BUYER)
