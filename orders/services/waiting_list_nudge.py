"""The prompt half of the waiting list's matching: queue a run right after places came back.

Its own module, beside ``waiting_list``, because the paths that free places (holds, refunds) are below the
waiting list's service, which uses their checks.
"""

from __future__ import annotations

import uuid

from django.db import transaction

from core import jobs
from orders import DB_ALIAS
from orders.contract import WaitingListStatus
from orders.models import WaitingListEntry

MATCH_NOW_TASK = "waiting_list.match_now"
MATCH_NOW_LOCK = "waiting-list-match-now"


def waiting_list_nudge(*, event_id: uuid.UUID) -> bool:
    """Queue a matching run now if anyone waits for the event (called after places came back and that committed).

    One indexed EXISTS, and one job insert only when someone waits; a run already queued makes it unnecessary."""
    if (
        not WaitingListEntry.objects.using(DB_ALIAS)
        .filter(event_id=event_id, status=WaitingListStatus.WAITING)
        .exists()
    ):
        return False
    with transaction.atomic(using=DB_ALIAS):
        jobs.job_defer(MATCH_NOW_TASK, queueing_lock=MATCH_NOW_LOCK)
    return True
