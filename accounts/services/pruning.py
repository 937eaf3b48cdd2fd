"""Deleting what no longer serves any purpose: used or long-expired one-time codes, and failed logins too old to
lock anyone. Idempotent; run by the job queue every hour (docs/JOBS.md)."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt
from django.utils import timezone

from accounts import DB_ALIAS
from accounts.models import LoginAttempt, OneTimeCode

# A code is kept a day after it was used or expired: support can still see that one was sent.
CODE_RETENTION = dt.timedelta(days=1)
# Failed logins count for the lockout for minutes; a day is far beyond any window.
LOGIN_ATTEMPT_RETENTION = dt.timedelta(days=1)


def one_time_codes_prune(*, now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - CODE_RETENTION
    used = OneTimeCode.objects.using(DB_ALIAS).filter(consumed_at__lt=cutoff)
    expired = OneTimeCode.objects.using(DB_ALIAS).filter(consumed_at__isnull=True, expires_at__lt=cutoff)
    return used.delete()[0] + expired.delete()[0]


def login_attempts_prune(*, now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - LOGIN_ATTEMPT_RETENTION
    # The throttle's rows (axes' AccessAttempt, one per account, address and browser, updated on each failure) and
    # the rows of the throttle this project used before axes, no longer written.
    throttled = AccessAttempt.objects.using(DB_ALIAS).filter(attempt_time__lt=cutoff).delete()[0]
    return throttled + LoginAttempt.objects.using(DB_ALIAS).filter(created_at__lt=cutoff).delete()[0]
