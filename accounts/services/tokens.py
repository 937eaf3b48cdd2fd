"""API tokens: one per person, issued at login, valid for API_TOKEN_TTL_DAYS (0: until revoked), revoked by its
owner (or by a password reset)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import DB_ALIAS


def api_token_expired(token: Token) -> bool:
    days = settings.API_TOKEN_TTL_DAYS
    return bool(days) and token.created + timedelta(days=days) <= timezone.now()


def api_token_issue(*, user_id: uuid.UUID) -> str:
    """The person's token; an expired one is replaced by a new key."""
    with transaction.atomic(using=DB_ALIAS):
        token = Token.objects.using(DB_ALIAS).select_for_update().filter(user_id=user_id).first()
        if token is not None and api_token_expired(token):
            token.delete()
            token = None
        if token is None:
            token = Token.objects.using(DB_ALIAS).create(user_id=user_id)
    return token.key


def api_token_revoke(*, user_id: uuid.UUID) -> bool:
    """Delete the person's token: every client using it must log in again. False if there was none."""
    with transaction.atomic(using=DB_ALIAS):
        return Token.objects.using(DB_ALIAS).filter(user_id=user_id).delete()[0] > 0
