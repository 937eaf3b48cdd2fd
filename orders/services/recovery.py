"""Recovery of interrupted cross-database flows (SPEC 4.5), run by ``python manage.py recover_flows``.

Every recoverer is a callable ``recoverer(*, older_than_seconds: int) -> report`` that finishes or undoes the flows
of one kind a crash left half done, and changes nothing when run again. The report is any object with a ``name``
and counters; the command prints ``vars(report)``. Other flows (transfers, resale) append their recoverers here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orders.services.purchase import purchase_recover
from orders.services.resale import resale_recover
from orders.services.transfer import transfer_recover

Recoverer = Callable[..., Any]

RECOVERERS: list[Recoverer] = [purchase_recover, transfer_recover, resale_recover]


def recover_all(*, older_than_seconds: int) -> list[Any]:
    """Run every recoverer in order and return their reports."""
    return [recoverer(older_than_seconds=older_than_seconds) for recoverer in RECOVERERS]
