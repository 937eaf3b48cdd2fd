"""Test support shared by every app's tests: racing threads on their own connections, the run's database URLs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connections


def race_timed(functions: Iterable[Callable[[], Any]], *, connect: str | None = None) -> list[tuple[Any, float]]:
    """Run the callables at the same instant, each on its own thread and connections.

    Returns ``(result or exception, seconds taken)`` in order. With ``connect``, each thread opens that database's
    connection before the start line, so the seconds measure the operation, not connection set-up under load.
    """
    functions = list(functions)
    barrier = threading.Barrier(len(functions))
    outcomes: list = [None] * len(functions)

    def run(index: int, function: Callable[[], Any]) -> None:
        try:
            if connect:
                connections[connect].ensure_connection()
            barrier.wait()
            started = time.monotonic()
            try:
                outcome = function()
            except Exception as exc:  # noqa: BLE001 - the racer's error is its result, inspected by the test
                outcome = exc
            outcomes[index] = (outcome, time.monotonic() - started)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, function)) for index, function in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError("a racing thread hung (deadlock?)")
    return outcomes


def race(*functions: Callable[[], Any]) -> list:
    """Run the callables at the same instant; each one's result or exception, in order."""
    return [outcome for outcome, _seconds in race_timed(functions)]


def cleared_around_each_test(clear: Callable[[], Any]):
    """An autouse fixture that runs ``clear`` before and after every test in its scope: a per-process cache (config,
    throttle history, display names) must carry nothing from one test into the next."""
    import pytest

    @pytest.fixture(autouse=True)
    def _cleared():
        clear()
        yield
        clear()

    return _cleared


def factory_base(alias: str) -> type:
    """An abstract factory-boy base whose factories write to the database ``alias``: each domain's tests declare their
    database once (``DomainFactory = factory_base(DB_ALIAS)``), their factories then only name their model."""
    from factory.django import DjangoModelFactory

    meta = type("Meta", (), {"abstract": True, "database": alias})
    return type(f"{alias.title()}Factory", (DjangoModelFactory,), {"Meta": meta})


def database_urls() -> dict[str, str]:
    """This run's databases (the test ones under pytest) as the *_DATABASE_URL variables another process reads."""
    urls = {}
    for alias, (variable, _name) in settings.DATABASE_URL_VARIABLES.items():
        db = connections[alias].settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        urls[variable] = f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return urls
