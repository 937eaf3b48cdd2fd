"""The hot endpoints' principal cache (accounts/api/authentication.py): no users_db round trip per request, same
answers, and revocation within the cache's seconds (at once in the process that revoked)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.api import authentication
from accounts.api.authentication import PrincipalCache, principal_cache
from accounts.services import api_token_issue, api_token_revoke
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "seats", "orders", "events"])


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(principal_cache, "_clock", fake)
    principal_cache.clear()
    yield fake
    principal_cache.clear()


def _release(client: Client):
    return client.post("/api/v1/holds/release/", {}, content_type="application/json")


def _client(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def test_a_cached_principal_costs_no_users_query_and_gets_the_same_answer(clock):
    user = UserFactory()
    client = _client(api_token_issue(user_id=user.pk))
    first = _release(client)
    with CaptureQueriesContext(connections["default"]) as users_queries:
        second = _release(client)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"released": 0}
    assert len(users_queries) == 0


def test_a_revocation_in_this_process_takes_effect_at_once(clock):
    user = UserFactory()
    client = _client(api_token_issue(user_id=user.pk))
    assert _release(client).status_code == 200
    api_token_revoke(user_id=user.pk)
    answer = _release(client)
    assert answer.status_code == 401
    assert answer.json()["code"] == _release(_client("not-a-token")).json()["code"]


def test_a_revocation_elsewhere_takes_effect_when_the_entry_ages_out(clock):
    user = UserFactory()
    key = api_token_issue(user_id=user.pk)
    client = _client(key)
    assert _release(client).status_code == 200
    # Another process deletes the token: no signal reaches this one.
    with connections["default"].cursor() as cursor:
        cursor.execute(f"DELETE FROM {Token._meta.db_table} WHERE key = %s", [key])  # noqa: S608 - fixed SQL
    clock.now += principal_cache.seconds - 0.5
    assert _release(client).status_code == 200  # the documented window
    clock.now += 1
    assert _release(client).status_code == 401


def test_a_deactivated_account_is_refused_at_once_in_this_process(clock):
    user = UserFactory()
    client = _client(api_token_issue(user_id=user.pk))
    assert _release(client).status_code == 200
    user.is_active = False
    user.save()
    assert _release(client).status_code == 401


def test_each_request_gets_its_own_copy_of_the_user(clock):
    user = UserFactory()
    key = api_token_issue(user_id=user.pk)
    auth = authentication.ExpiringTokenAuthentication()
    auth.use_cache = True
    first, _ = auth.authenticate_credentials(key)
    first.full_name = "Changed by one request"
    second, _ = auth.authenticate_credentials(key)
    assert second.full_name == user.full_name
    assert first is not second


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    clock = FakeClock()
    cache = PrincipalCache(seconds=5, size=2, clock=clock)
    users = [UserFactory.build(id=uuid.uuid4()) for _ in range(3)]
    for index, user in enumerate(users):
        cache.put(f"k{index}", user, Token(key=f"k{index}", user=user))
        if index == 1:
            assert cache.get("k0") is not None  # k0 used: k1 is now the least recently used
    assert len(cache) == 2
    assert cache.get("k1") is None
    assert cache.get("k0") is not None and cache.get("k2") is not None
    clock.now += 5
    assert cache.get("k0") is None


def test_a_zero_lifetime_turns_the_cache_off():
    cache = PrincipalCache(seconds=0, size=10)
    user = UserFactory.build(id=uuid.uuid4())
    cache.put("k", user, Token(key="k", user=user))
    assert cache.get("k") is None and len(cache) == 0
