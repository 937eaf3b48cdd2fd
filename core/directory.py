"""Display names of other domains' objects, for staff pages of a domain that may not import the other.

The inventory admin lists entry logs and wants the event's title and the holder's name; the accounts admin lists
memberships and wants the organization's name. Those domains are independent of each other (import-linter
enforces it), so each domain *provides* the names it owns, once, from its ``AppConfig.ready()``::

    directory.provide(directory.EVENT, events.selectors.event_titles)

and any page *asks* by kind and ids::

    titles = directory.names(directory.EVENT, {log.event_id for log in page})

This is for labels on screen only. A business rule never depends on it: work that spans domains is driven by
``orders``, which imports the domains' services and selectors directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import Any

from core.ids import as_uuid

EVENT = "event"  # event id -> title
EVENTS_OF_ORGANIZATIONS = "organization.events"  # organization ids (None: all) -> {event id: "title — date"}
ORGANIZATION = "organization"  # organization id -> name; asked with ids=None: every organization
SECTION = "section"  # section id -> name
SEAT = "seat"  # seat id -> "Row A, seat 3"
USER = "user"  # user id -> "Full Name <email>"

Resolver = Callable[[Collection[uuid.UUID] | None], dict[uuid.UUID, str]]
_resolvers: dict[str, Resolver] = {}


def provide(kind: str, resolver: Resolver) -> None:
    """Register the function that names objects of ``kind`` (one query for a whole set of ids)."""
    _resolvers[kind] = resolver


def names(kind: str, ids: Collection[Any] | None) -> dict[uuid.UUID, str]:
    """id -> display name for each id that exists; ``ids=None`` asks for every object the kind allows listing."""
    resolver = _resolvers.get(kind)
    if resolver is None:
        return {}
    if ids is None:
        return resolver(None)
    wanted = {parsed for parsed in (as_uuid(value) for value in ids) if parsed is not None}
    return resolver(wanted) if wanted else {}


def name(kind: str, object_id: Any, default: str = "") -> str:
    """One object's display name (prefer :func:`names` for a page of them)."""
    parsed = as_uuid(object_id)
    if parsed is None:
        return default
    return names(kind, [parsed]).get(parsed, default)
