"""Schema-based fuzzing of the whole API against the live server, as a buyer and as staff.

Every operation of /api/v1/schema/ gets a bounded number of generated requests (valid and invalid); every answer
must be free of 5xx, carry a status the schema documents, and match the documented response schema and content type.
Raise SCHEMATHESIS_EXAMPLES for a deeper local run.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

ALL = ["default", "seats", "orders", "events"]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def personas(transactional_db, django_db_blocker, settings):
    """A buyer with credits and a superuser (staff) token; Stripe's webhook is configured so that it is fuzzed
    past its signature check instead of answering 503 (not configured)."""
    from rest_framework.authtoken.models import Token

    from accounts.tests.factories import StaffFactory, UserFactory

    settings.STRIPE_WEBHOOK_SECRET = "whsec_schemathesis"
    buyer = UserFactory(credits=Decimal("200.00"))
    staff = StaffFactory(is_superuser=True)
    return {
        "buyer": Token.objects.create(user=buyer).key,
        "staff": Token.objects.create(user=staff).key,
    }


HYPOTHESIS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


def fuzz(schema, *, base_url: str, token: str) -> list[str]:
    """Run every operation's generated cases; return one line per operation that failed (all are tried).

    (Schemathesis' own pytest integration does not load under pytest 9, so the cases are driven directly.)
    """
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @HYPOTHESIS
        def run(case):
            case.call_and_validate(base_url=base_url, headers={"Authorization": f"Token {token}"}, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried, each failure reported
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    return failures


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL, transaction=True)
@pytest.mark.parametrize("persona", ["buyer", "staff"])
def test_the_api_answers_generated_requests_without_5xx_and_as_documented(persona, personas, live_server):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")
    failures = fuzz(schema, base_url=live_server.url, token=personas[persona])
    assert failures == [], "\n\n".join(failures)
