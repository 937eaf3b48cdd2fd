"""Every recoverer of an interrupted cross-database flow, run by ``python manage.py recover_flows``.

A recoverer is a callable ``recoverer(*, older_than_seconds: int) -> report`` that finishes or undoes the flows of
one kind a crash left half done, and changes nothing when run again. Its report (orders.contract) has a ``name``, its
counters and ``errors``; the command prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orders.services.purchase import purchase_recover
from orders.services.resale import resale_recover
from orders.services.transfer import transfer_recover

Recoverer = Callable[..., Any]

RECOVERERS: list[Recoverer] = [purchase_recover, transfer_recover, resale_recover]
