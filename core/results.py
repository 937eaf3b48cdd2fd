"""One way to build a domain's result type (a frozen dataclass) from a model instance or a row mapping.

Every domain hands plain dataclasses to its callers (``UserInfo``, ``SeatInfo``, ``OrderInfo``...). Their fields
are named like the columns they come from, so one helper fills them; a field whose value is computed or named
differently is passed as an override.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache, partial
from typing import Any, TypeVar

from django.db import connections

T = TypeVar("T")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls) if field.init)


def from_prefixed(cls: type[T], source: Any, prefix: str) -> T:
    """``cls`` filled from the attributes of ``source`` named ``prefix`` + each field (``map_x`` for ``x``): a value
    object made of some columns of a wider row."""
    return cls(**{name: getattr(source, prefix + name) for name in _field_names(cls)})


def from_row(cls: type[T], source: Any, /, **overrides: Any) -> T:
    """``cls`` filled from ``source`` (attributes of a model instance, or keys of a mapping), then ``overrides``.

    Every field without an override must exist on the source: a missing one is a programming error and raises.
    """
    # getattr, not source.__getattribute__: a proxy (the request's lazy user) answers through __getattr__.
    get = source.__getitem__ if isinstance(source, Mapping) else partial(getattr, source)
    values = {name: overrides[name] if name in overrides else get(name) for name in _field_names(cls)}
    return cls(**values)


def fetch_as(cls: type[T], sql: str, params: list[Any], *, using: str) -> T | None:
    """The first row of ``sql`` on database ``using`` as ``cls`` (its columns in the dataclass's field order), or
    None: the one-row reads a hot path writes once as SQL instead of compiling a queryset per request."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else cls(*row)
