"""Request ids, JSON log lines and the Prometheus endpoint: who may scrape it and what it counts."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.test import Client
from django.urls import get_resolver
from prometheus_client import REGISTRY

from core import metrics
from core.observability import JsonFormatter, RequestIdFilter, bound_request_id, current_request_id


def _record(message: str, **extra) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "test", "levelname": "WARNING", "msg": message, **extra})
    RequestIdFilter().filter(record)
    return record


def test_a_request_keeps_a_sane_caller_id_and_replaces_anything_else():
    client = Client()
    assert client.get("/livez", HTTP_X_REQUEST_ID="lb-42.a")["X-Request-ID"] == "lb-42.a"
    forged = client.get("/livez", HTTP_X_REQUEST_ID='x" \n{"level": "INFO"}')["X-Request-ID"]
    assert len(forged) == 32 and forged.isalnum()
    assert client.get("/livez")["X-Request-ID"] != client.get("/livez")["X-Request-ID"]


def test_log_lines_are_one_json_object_with_the_request_id_and_extras():
    with bound_request_id("job-7") as request_id:
        assert current_request_id() == request_id == "job-7"
        line = JsonFormatter().format(_record("paid %s", args=("order-1",), order_id="order-1"))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "paid order-1" and entry["level"] == "WARNING"
    assert entry["request_id"] == "job-7" and entry["order_id"] == "order-1"
    assert current_request_id() == "-"


def test_a_job_gets_a_fresh_id_when_its_request_had_none():
    with bound_request_id(None) as request_id:
        assert len(request_id) == 32


def test_metrics_answer_direct_local_scrapers_and_bearer_tokens_only(settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 403
    # Through the load balancer (it sets X-Forwarded-For) even a local address is refused: the internet is behind it.
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    remote = Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_requests_are_counted_by_route_name_not_by_path():
    before = REGISTRY.get_sample_value(
        "ticketremaster_http_requests_total", {"route": "unmatched", "method": "GET", "status": "4xx"}
    )
    Client().get(f"/no/such/{uuid.uuid4()}/")
    after = REGISTRY.get_sample_value(
        "ticketremaster_http_requests_total", {"route": "unmatched", "method": "GET", "status": "4xx"}
    )
    assert after == (before or 0) + 1
    assert "/no/such/" not in Client().get("/metrics").content.decode()


@pytest.mark.django_db(databases=["default", "events"])
def test_a_refused_operation_is_counted_with_its_error_code():
    from rest_framework.authtoken.models import Token

    from accounts.tests.factories import UserFactory

    token = Token.objects.create(user=UserFactory())
    labels = {"operation": "hold", "outcome": "NOT_FOUND"}
    before = REGISTRY.get_sample_value("ticketremaster_operations_total", labels) or 0
    answer = Client(HTTP_AUTHORIZATION=f"Token {token.key}").post(
        f"/api/v1/events/{uuid.uuid4()}/holds/", {"quantity": 1}, content_type="application/json"
    )
    assert answer.status_code == 404
    assert REGISTRY.get_sample_value("ticketremaster_operations_total", labels) == before + 1


def test_every_operation_route_exists():
    names = set()

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver())
    assert {route for route, _method in metrics.OPERATION_ROUTES} <= names


def test_a_job_queue_reports_its_depth_and_age_on_the_next_scrape(monkeypatch):
    monkeypatch.setattr(metrics, "_job_queue_stats", [])
    assert b"job_queue_depth" not in metrics.exposition()
    metrics.register_job_queue_stats(lambda: [("default", 12, 3.5)])
    text = metrics.exposition().decode()
    assert 'ticketremaster_job_queue_depth{queue="default"} 12.0' in text
    assert 'ticketremaster_job_queue_oldest_age_seconds{queue="default"} 3.5' in text
