"""CSRF on every page form.

With Django's test Client(enforce_csrf_checks=True) each state-changing page POST is tried three ways: without the
token (as a forged cross-site form would post it), with a token taken from another browser, and with the token the
form page itself rendered. The first two must be refused with 403 and change nothing; the third must be accepted
with the view's own answer and make the change. A walk over every template makes sure each <form method="post">
carries {% csrf_token %}, and a guard makes sure every POST page of the authorization matrix has a case here.

The API is not in scope: token-authenticated requests carry no ambient credentials, and DRF's SessionAuthentication
enforces CSRF itself (tested at the end).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from accounts.models import TopUp, User
from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.testing import cleared_around_each_test
from inventory import DB_ALIAS as SEATS
from inventory import services as inventory_services
from inventory.models import Seat
from orders.models import ResaleListing, Transfer, WaitingListEntry
from tests.reliability.personas import PASSWORD, World, committed_world
from tests.reliability.test_authorization_matrix import PAGES

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases=ALL_DATABASES)]

TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from committed_world(django_db_blocker)


# Login throttling and DRF throttles keep their counts in the process cache.
_no_throttle_history = cleared_around_each_test(cache.clear)


def _seat_status(seat_id) -> str:
    return Seat.objects.using(SEATS).get(pk=seat_id).status


@dataclass(frozen=True)
class FormCase:
    name: str
    persona: str  # a persona of the world, "anonymous", or "unverified" (a fresh unverified account)
    route: str  # the Django route posted to (the authorization matrix's spelling)
    form_page: str  # the page that renders the form (its token is the one a real browser would send)
    data: Any  # dict, or a function of the world returning one
    accepted: int  # the view's answer when the token is right
    changed: Callable[[World], bool] | None = None  # did the state change happen?
    params: dict = field(default_factory=dict)


def _user(world: World, email: str) -> User:
    return User.objects.get(email=email)


CASES = [
    FormCase(
        "hold seats",
        "buyer",
        "events/<uuid:event_id>/hold/",
        "/events/{event_id}/",
        lambda w: {"seat_ids": [str(w.free_seat_id)]},
        302,
        lambda w: _seat_status(w.free_seat_id) == "HELD",
    ),
    FormCase(
        "release holds",
        "buyer",
        "events/<uuid:event_id>/holds/release/",
        "/events/{event_id}/",
        {},
        302,
        lambda w: _seat_status(w.held_seat_id) == "AVAILABLE",
    ),
    FormCase(
        "checkout",
        "buyer",
        "checkout/",
        "/checkout/?event={event_id}",
        lambda w: {"event": str(w.event.pk), "idempotency_key": "csrf-test-key"},
        302,
        lambda w: _seat_status(w.held_seat_id) == "SOLD",
    ),
    FormCase(
        "offer a transfer",
        "buyer",
        "transfers/offer/<str:seat_id>/",
        "/transfers/offer/{seat_id}/",
        lambda w: {"to_email": w.users["other_buyer"].email, "price": "0"},
        302,
        lambda w: Transfer.objects.filter(seat_id=w.ticket_id, status="OFFERED").exists(),
    ),
    FormCase(
        "join the waiting list",
        "buyer",
        "events/<uuid:event_id>/waiting-list/join/",
        "/events/{event_id}/",
        {"quantity": "1"},
        302,
    ),
    FormCase(
        "leave the waiting list",
        "buyer",
        "waiting-list/<uuid:entry_id>/leave/",
        "/waiting-list/{entry_id}/",
        {},
        302,
        lambda w: WaitingListEntry.objects.get(pk=w.waiting_entry_id).status == "LEFT",
    ),
    FormCase(
        "confirm a transfer",
        "buyer",
        "transfers/<str:transfer_id>/confirm/",
        "/transfers/{transfer_id}/",
        {"code": "123456"},
        302,
    ),
    FormCase(
        "cancel a transfer",
        "buyer",
        "transfers/<str:transfer_id>/<str:action>/",
        "/transfers/{transfer_id}/",
        {},
        302,
        lambda w: Transfer.objects.get(pk=w.transfer_id).status == "CANCELLED",
        params={"action": "cancel"},
    ),
    FormCase(
        "list for resale",
        "buyer",
        "resale/sell/<str:seat_id>/",
        "/resale/sell/{seat_id}/",
        {"price": "20.00"},
        302,
        lambda w: _seat_status(w.ticket_id) == "LISTED",
    ),
    FormCase(
        "buy a listing",
        "other_buyer",
        "resale/<str:listing_id>/buy/",
        "/resale/events/{event_id}/",
        {},
        302,
        lambda w: ResaleListing.objects.get(pk=w.listing_id).status == "SOLD",
    ),
    FormCase(
        "withdraw a listing",
        "buyer",
        "resale/<str:listing_id>/withdraw/",
        "/resale/mine/",
        {},
        302,
        lambda w: ResaleListing.objects.get(pk=w.listing_id).status == "WITHDRAWN",
    ),
    FormCase(
        "scan at the gate",
        "gate",
        "gate/<uuid:event_id>/",
        "/gate/{event_id}/?gate=North",
        lambda w: {
            "gate": "North",
            "token": inventory_services.ticket_qr(seat_id=w.ticket_id, owner_id=w.buyer.pk)[0],
        },
        200,
        lambda w: _seat_status(w.ticket_id) == "CHECKED_IN",
    ),
    FormCase(
        "start a top-up",
        "buyer",
        "accounts/wallet/topup/",
        "/accounts/wallet/topup/",
        {"amount": "10.00"},
        302,
        lambda w: TopUp.objects.filter(user_id=w.buyer.pk).count() == 2,
    ),
    # The world's credits were not bought by card, so the accepted request refunds nothing: it answers the wallet
    # with a message. What matters here is that the forged and foreign-token posts never reach the view.
    FormCase(
        "refund credits to the card",
        "buyer",
        "accounts/wallet/card-refund/",
        "/accounts/wallet/",
        {"amount": "10.00", "idempotency_key": "csrf-card-refund"},
        302,
    ),
    FormCase(
        "pay at the test provider",
        "buyer",
        "accounts/pay/<str:provider_reference>/",
        "/accounts/pay/{provider_reference}/",
        {"action": "pay"},
        302,
        lambda w: TopUp.objects.get(provider_reference=w.topup_ref).status == "SUCCEEDED",
    ),
    FormCase(
        "edit the profile",
        "buyer",
        "accounts/profile/",
        "/accounts/profile/",
        {"full_name": "Changed By Form"},
        302,
        lambda w: _user(w, w.buyer.email).full_name == "Changed By Form",
    ),
    FormCase(
        "sign up",
        "anonymous",
        "accounts/signup/",
        "/accounts/signup/",
        {"email": "csrf-new@example.com", "full_name": "New", "password": "a long enough passphrase 42"},
        302,
        lambda w: User.objects.filter(email="csrf-new@example.com").exists(),
    ),
    FormCase(
        "log in",
        "anonymous",
        "accounts/login/",
        "/accounts/login/",
        lambda w: {"email": w.buyer.email, "password": PASSWORD},
        302,
    ),
    FormCase("log out", "buyer", "accounts/logout/", "/accounts/profile/", {}, 302),
    FormCase(
        "ask for a password reset",
        "anonymous",
        "accounts/password-reset/",
        "/accounts/password-reset/",
        lambda w: {"email": w.buyer.email},
        302,
    ),
    FormCase(
        "reset the password with a code",
        "anonymous",
        "accounts/password-reset/confirm/",
        "/accounts/password-reset/confirm/",
        lambda w: {"email": w.buyer.email, "code": "000000", "new_password": "another long passphrase 42"},
        400,
    ),
    FormCase("step up with a code", "buyer", "accounts/step-up/", "/accounts/step-up/", {"code": "000000"}, 400),
    FormCase("verify the email", "unverified", "accounts/verify/", "/accounts/verify/", {"code": "000000"}, 400),
    FormCase("resend the verification code", "unverified", "accounts/verify/resend/", "/accounts/verify/", {}, 302),
    FormCase(
        "log in to the browsable API",
        "anonymous",
        "api-auth/login/",
        "/api-auth/login/",
        lambda w: {"username": w.buyer.email, "password": PASSWORD},
        302,
    ),
    FormCase("log out of the browsable API", "buyer", "api-auth/logout/", "/accounts/profile/", {}, 302),
    FormCase("switch the language", "anonymous", "i18n/setlang/", "/", {"language": "de"}, 302),
]


def _values(world: World, case: FormCase) -> dict[str, str]:
    return {**world.values(), **case.params}


def _action(world: World, case: FormCase) -> str:
    values = _values(world, case)
    return "/" + _PARAM.sub(lambda match: values[match.group(1)], case.route)


def _browser(world: World, case: FormCase) -> Client:
    client = Client(enforce_csrf_checks=True)
    if case.persona == "unverified":
        client.force_login(UserFactory(email="unverified@example.com", is_verified=False))
    elif world.users[case.persona] is not None:
        client.force_login(world.users[case.persona])
    return client


def _form_token(client: Client, world: World, case: FormCase) -> str:
    """Open the form page as a browser would and read the token its form carries."""
    page = client.get(case.form_page.format(**_values(world, case)))
    assert page.status_code == 200, (case.form_page, page.status_code)
    tokens = TOKEN_FIELD.findall(page.content.decode())
    assert tokens, f"{case.form_page} renders no csrf token"
    return tokens[0]


def _data(world: World, case: FormCase) -> dict:
    return dict(case.data(world) if callable(case.data) else case.data)


def _assert_unchanged(world: World, case: FormCase) -> None:
    if case.changed is not None:
        assert not case.changed(world), f"{case.name}: the forged post changed the state"


CASE_IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_page_post_without_the_csrf_token_is_refused_and_changes_nothing(world, case):
    client = _browser(world, case)
    _form_token(client, world, case)  # the victim's browser has the cookie; the forged form lacks the field
    response = client.post(_action(world, case), _data(world, case))
    assert response.status_code == 403, (response.status_code, response.content[:200])
    _assert_unchanged(world, case)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_page_post_with_a_token_from_another_browser_is_refused(world, case):
    attacker = Client(enforce_csrf_checks=True)
    attacker_token = TOKEN_FIELD.findall(attacker.get("/accounts/login/").content.decode())[0]
    client = _browser(world, case)
    _form_token(client, world, case)
    response = client.post(_action(world, case), {**_data(world, case), "csrfmiddlewaretoken": attacker_token})
    assert response.status_code == 403, (response.status_code, response.content[:200])
    _assert_unchanged(world, case)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_page_post_with_the_forms_own_token_is_accepted(world, case):
    client = _browser(world, case)
    token = _form_token(client, world, case)
    response = client.post(_action(world, case), {**_data(world, case), "csrfmiddlewaretoken": token})
    assert response.status_code == case.accepted, (response.status_code, response.content[:300])
    if case.changed is not None:
        assert case.changed(world), f"{case.name}: accepted but nothing changed"


def test_every_post_page_of_the_authorization_matrix_has_a_csrf_case():
    posted = {row.route for row in PAGES if row.method == "POST"}
    covered = {case.route for case in CASES}
    assert not posted - covered, f"add CSRF cases for: {sorted(posted - covered)}"


# --- Every template form carries the token -----------------------------------------------------------------------

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.IGNORECASE | re.DOTALL)
METHOD_POST = re.compile(r"""\bmethod\s*=\s*["']?post\b""", re.IGNORECASE)


def _template_files() -> list[Path]:
    base = Path(settings.BASE_DIR)
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [base / app / "templates" for app in ("accounts", "events", "inventory", "orders", "core", "ops")]
    return sorted({path for root in roots if root.is_dir() for path in root.rglob("*.html")})


def posting_forms_without_token(text: str) -> list[str]:
    return [
        match.group(0)[:120]
        for match in FORM.finditer(text)
        if METHOD_POST.search(match.group(1)) and "{% csrf_token %}" not in match.group(2)
    ]


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    files = _template_files()
    assert len(files) > 20, files  # the walk really found the project's templates
    missing = {
        str(path.relative_to(settings.BASE_DIR)): forms
        for path in files
        if (forms := posting_forms_without_token(path.read_text()))
    }
    assert not missing, f"<form method=post> without {{% csrf_token %}}: {missing}"


def test_the_template_check_catches_a_form_without_the_token():
    assert posting_forms_without_token('<form method="post" action="/x/"><button>Go</button></form>')
    assert posting_forms_without_token("<FORM class='a' METHOD='POST'>\n<input name=a></FORM>")
    assert not posting_forms_without_token('<form method="post">{% csrf_token %}<button>Go</button></form>')
    assert not posting_forms_without_token('<form method="get"><input name="q"></form>')


# --- The API -----------------------------------------------------------------------------------------------------


def test_the_api_with_a_session_cookie_but_no_csrf_token_is_refused(world):
    """A logged-in browser visiting a hostile page must not be able to move money through the API either."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["other_buyer"])
    response = client.post(f"/api/v1/listings/{world.listing_id}/buy/", {}, content_type="application/json")
    assert response.status_code == 403, response.content[:200]
    assert ResaleListing.objects.get(pk=world.listing_id).status == "ACTIVE"
    assert _user(world, world.users["other_buyer"].email).credit_balance == Decimal("500.00")


def test_the_api_with_a_token_header_needs_no_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/api/v1/listings/{world.listing_id}/buy/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {world.tokens['other_buyer']}",
    )
    assert response.status_code == 200, response.content[:200]
