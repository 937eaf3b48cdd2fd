"""The read scenarios measure the pages they name: the manager's session passes the second factor, and any answer
other than 200 (a redirect to the login or two-factor page answers fast) is a failure, not a figure."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from bench import dataset
from bench.harness import LeanResponse
from bench.scenarios import ServerMetrics
from core.databases import ALL_DATABASES


def test_a_read_scenario_counts_every_answer_other_than_200_as_a_problem():
    metrics = ServerMetrics()
    metrics.record("dashboard", LeanResponse(200, {}, b"<html>"))
    metrics.record("dashboard", LeanResponse(302, {"Location": "/accounts/two-factor/?next=/admin/"}, b""))
    metrics.record("seat_map", LeanResponse(200, {}, b"[]"))

    assert metrics.not_ok() == [
        "dashboard: answers other than 200: {302: 1} (redirected to /accounts/two-factor/?next=/admin/)"
    ]


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_managers_bench_session_has_passed_the_second_factor(settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True  # as in production: a manager's role logs in with a second factor
    data = dataset.build_people(dataset.SIZES["tiny"], uuid.uuid4().hex[:6], lambda message: None)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = data.manager_session

    response = client.get("/admin/")

    assert response.status_code == 200
