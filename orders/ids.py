"""Ids from user input (paths, query strings, form fields), parsed once at the edges of orders: its pages and API.

Services take ``uuid.UUID``. A malformed id in a path names nothing the caller may see, so it is a 404 like an unknown
one; a malformed id in a form field is a validation error on that field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import Http404
from django.utils.translation import gettext

from core.errors import InvalidInput, NotFound
from core.ids import as_uuid


def id_or_not_found(value: Any, *, name: str) -> uuid.UUID:
    """The id, or NotFound ("No such <name>.") for anything that is not one."""
    pk = as_uuid(value)
    if pk is None:
        raise NotFound(gettext("No such %(name)s.") % {"name": name})
    return pk


def id_or_404(value: Any, *, name: str) -> uuid.UUID:
    """For pages: the id, or Http404 ("No such <name>.") for anything that is not one."""
    pk = as_uuid(value)
    if pk is None:
        raise Http404(f"No such {name}.")
    return pk


@contextmanager
def missing_as_404(message: str) -> Iterator[None]:
    """For pages: a lookup's NotFound (an object the user may not see, or none) as Http404(``message``)."""
    try:
        yield
    except NotFound:
        raise Http404(message) from None


def id_or_invalid(value: Any, *, field: str) -> uuid.UUID:
    """The id of a form field, or a validation error naming the field."""
    pk = as_uuid(value)
    if pk is None:
        raise InvalidInput(
            gettext("%(field)s is not a valid id.") % {"field": field}, fields={field: [gettext("Not a valid UUID.")]}
        )
    return pk


def ids_or_invalid(values: Iterable[Any], *, field: str) -> list[uuid.UUID]:
    """Every id of a multi-valued form field, or a validation error naming the field."""
    return [id_or_invalid(value, field=field) for value in values]
