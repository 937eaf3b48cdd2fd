"""Named crash points in the cross-database flows, for crash-injection tests and chaos runs.

Flows call ``fault_point("purchase.after_debit")`` between their steps. It does nothing unless
settings.FAULT_INJECTION_ENABLED is on (tests, chaos runs) and the point is armed, either in-process with
:func:`arm` (tests) or through the environment (chaos runs against a real server)::

    TICKETREMASTER_FAULTS="purchase.after_debit=kill,transfer.after_payment=raise:0.2"

``raise`` raises :class:`InjectedFault`; ``kill`` sends SIGKILL to the current process (a worker dying mid-flow);
an optional ``:p`` makes it fire with probability p.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
from collections.abc import Iterator

from django.conf import settings

_armed: dict[str, tuple[str, float]] = {}


class InjectedFault(Exception):  # noqa: N818 - it is a fault, not an error of the code under test
    """Raised at an armed crash point."""


def _from_environment() -> dict[str, tuple[str, float]]:
    points: dict[str, tuple[str, float]] = {}
    for item in filter(None, os.environ.get("TICKETREMASTER_FAULTS", "").split(",")):
        name, _, spec = item.partition("=")
        action, _, probability = (spec or "raise").partition(":")
        points[name.strip()] = (action.strip(), float(probability or 1))
    return points


def fault_point(name: str) -> None:
    if not settings.FAULT_INJECTION_ENABLED:
        return
    action, probability = _armed.get(name) or _from_environment().get(name) or ("", 0.0)
    if not action or random.random() >= probability:  # noqa: S311 - not cryptographic
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFault(name)


@contextlib.contextmanager
def arm(name: str, action: str = "raise", probability: float = 1.0) -> Iterator[None]:
    """Arm one crash point for the duration of a ``with`` block (tests)."""
    _armed[name] = (action, probability)
    try:
        yield
    finally:
        _armed.pop(name, None)
