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


@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_a_database_error_on_a_killed_connection_counts_as_unavailable_but_a_query_bug_does_not():
    """Behind a pooler a killed backend can surface as a generic DatabaseError: it must be a 503, not a 500."""
    import psycopg
    from django.conf import settings
    from django.db import DatabaseError, connections

    from core.errors import database_unavailable

    connection = connections["orders"]
    connection.ensure_connection()
    assert not database_unavailable(DatabaseError("syntax error at or near ..."))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    config = settings.DATABASES["orders"]
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"],
        user=config["USER"],
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert database_unavailable(DatabaseError("received 2 results from command 'COMMIT'"))
    connection.close()


def test_a_database_error_wrapped_by_the_job_queue_still_means_unavailable():
    """Queueing a job on a connection the server just ended: procrastinate raises its own ConnectorException from
    psycopg's AdminShutdown (the chaos run's terminated backends)."""
    import psycopg
    from procrastinate.exceptions import ConnectorException

    from core.errors import database_unavailable

    try:
        try:
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")
        except psycopg.Error as error:
            raise ConnectorException("Database error.") from error
    except ConnectorException as wrapped:
        assert database_unavailable(wrapped)
    assert not database_unavailable(ConnectorException("no database behind it"))
    assert not database_unavailable(ValueError("a bug"))


def test_liveness_answers_without_touching_a_database(client):
    response = client.get("/livez")  # no django_db mark: any database access would raise
    assert response.status_code == 200 and response.json() == {"status": "ok"}
