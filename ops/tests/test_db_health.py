"""The database health page: platform staff (superusers) only, live figures of every database."""

from __future__ import annotations

import pytest
from django.test import Client

from core.databases import ALL_DATABASES
from ops import db_health

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
PAGE = "/admin/database-health/"


def _client_for(**flags) -> Client:
    from accounts.tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(is_staff=True, **flags))
    return client


def test_only_superusers_see_the_database_health_page():
    assert Client().get(PAGE).status_code == 302  # to the admin login
    assert _client_for().get(PAGE).status_code == 403
    page = _client_for(is_superuser=True).get(PAGE)
    assert page.status_code == 200
    for alias in ALL_DATABASES:
        assert f'data-alias="{alias}"' in page.content.decode()


def test_every_database_reports_its_figures():
    for health in db_health.all_database_health():
        assert health.error == ""
        assert health.size_bytes > 0 and health.version.startswith("PostgreSQL")
        assert health.connections.rows, "this very connection at least"
        assert health.statements.unavailable or health.statements.columns[:2] == ["query", "calls"]
        assert health.table_bloat.columns == ["table", "size", "bloat"]
