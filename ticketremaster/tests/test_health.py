import pytest
from django.db import connections


@pytest.mark.django_db(databases=["default", "seats", "orders", "events"])
def test_health_is_ok_when_all_four_databases_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["databases"] == {"default": "ok", "seats": "ok", "orders": "ok", "events": "ok"}


@pytest.mark.django_db(databases=["default", "seats", "orders", "events"], transaction=True)
def test_health_names_the_database_that_does_not_answer(client):
    orders = connections["orders"]
    original_port = orders.settings_dict["PORT"]
    orders.close()
    orders.settings_dict["PORT"] = 1  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        orders.close()
        orders.settings_dict["PORT"] = original_port
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "DATABASE_UNAVAILABLE"
    assert body["databases"]["orders"].startswith("unavailable")
    assert body["databases"]["seats"] == "ok"
    assert "orders" in body["detail"]
