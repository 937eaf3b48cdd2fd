"""Record every SQL statement (with its parameters and transaction boundaries) that one request sends, per database.

Used by bench/ceiling.py to replay exactly what a purchase and a scan send, and by hand to read a hot path::

    with capture.Recorder() as recorder:
        client.post(...)
    print(recorder.describe())

Statements are taken with ``connection.execute_wrapper`` (what Django's CaptureQueriesContext sees, plus the
parameters), and the transaction boundaries by wrapping each connection's ``_set_autocommit`` / ``_commit`` /
``_rollback``: Django's ``atomic`` turns autocommit off (the driver then opens a transaction before the next
statement) and commits at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections


@dataclass(frozen=True)
class Statement:
    alias: str
    sql: str  # "BEGIN" / "COMMIT" / "ROLLBACK" for boundaries
    params: Any = None
    many: bool = False

    @property
    def is_boundary(self) -> bool:
        return self.sql in ("BEGIN", "COMMIT", "ROLLBACK")


class Recorder:
    def __init__(self, aliases: list[str] | None = None) -> None:
        self.aliases = aliases or list(connections)
        self.statements: list[Statement] = []
        self._saved: list[tuple[Any, str, Any]] = []
        self._wrappers: list = []

    def __enter__(self) -> Recorder:
        for alias in self.aliases:
            connection = connections[alias]
            self._wrap(connection, alias)
            wrapper = connection.execute_wrapper(self._executor(alias))
            wrapper.__enter__()
            self._wrappers.append(wrapper)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for wrapper in reversed(self._wrappers):
            wrapper.__exit__(None, None, None)
        for connection, name, original in reversed(self._saved):
            if original is None:
                delattr(connection, name)
            else:
                setattr(connection, name, original)
        self._wrappers.clear()
        self._saved.clear()

    def _executor(self, alias: str):
        def execute(execute_, sql, params, many, context):
            self.statements.append(Statement(alias, sql, params, many))
            return execute_(sql, params, many, context)

        return execute

    def _wrap(self, connection, alias: str) -> None:
        recorder = self

        def patch(name: str, make):
            original = connection.__dict__.get(name)
            bound = getattr(connection, name)
            self._saved.append((connection, name, original))
            setattr(connection, name, make(bound))

        def set_autocommit(bound):
            def inner(autocommit):
                if not autocommit:
                    recorder.statements.append(Statement(alias, "BEGIN"))
                return bound(autocommit)

            return inner

        def commit(bound):
            def inner():
                recorder.statements.append(Statement(alias, "COMMIT"))
                return bound()

            return inner

        def rollback(bound):
            def inner():
                recorder.statements.append(Statement(alias, "ROLLBACK"))
                return bound()

            return inner

        patch("_set_autocommit", set_autocommit)
        patch("_commit", commit)
        patch("_rollback", rollback)

    def queries(self) -> list[Statement]:
        """The statements without the transaction boundaries (what X-Query-Count counts)."""
        return [statement for statement in self.statements if not statement.is_boundary]

    def by_alias(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for statement in self.queries():
            counts[statement.alias] = counts.get(statement.alias, 0) + 1
        return counts

    def commits(self) -> int:
        return sum(1 for statement in self.statements if statement.sql == "COMMIT")

    def describe(self, width: int = 160) -> str:
        lines = []
        for statement in self.statements:
            text = " ".join(statement.sql.split())
            lines.append(f"{statement.alias:<8} {text[:width]}")
        return "\n".join(lines)
