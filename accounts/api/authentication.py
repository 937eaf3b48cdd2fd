"""API token authentication: refuses a token older than API_TOKEN_TTL_DAYS; on the hot endpoints, without a database
round trip per request.

``ExpiringTokenAuthentication`` reads the token and its user on every request (one query, as DRF's does).
On the hot endpoints (the on-sale's hold, release and checkout, the seat map, availability and the gate scan: their
views say ``cached_principal = True``) the same class keeps what that query found in a bounded per-process cache for
``API_PRINCIPAL_CACHE_SECONDS`` (default 5 s; 0 turns it off), together with the person's organization roles (what
the gate's permission check asks), so a buyer's burst of requests costs one lookup per worker every few seconds
instead of one per request. The trade-off, documented in docs/PERFORMANCE.md: in another worker process, a revoked
token, a deactivated account or a removed role takes effect within those seconds, not at once; in this process at
once (the deletion of a token and every save of a user or membership evict the person). Expiry by age is checked on
every request. What the hot endpoints decide on with money or limits is never taken from the cache: checkout reads
the buyer afresh (balance, flag), the hold re-reads a buyer the cache says is not verified.

Each request gets its own copy of the cached user, so nothing one request sets on it reaches another.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from accounts.backends import organization_roles
from accounts.models import OrganizationMembership, User
from accounts.services.tokens import api_token_expired

DEFAULT_CACHE_SECONDS = 5.0
DEFAULT_CACHE_SIZE = 10_000


class PrincipalCache:
    """token key -> (user, token, when read): at most ``size`` entries (least recently used go first), each valid
    for ``seconds``. Thread-safe (gthread workers share it)."""

    def __init__(self, *, seconds: float, size: int, clock=time.monotonic) -> None:
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Any, Token, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Any, Token] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            user, token, read_at = entry
            if self._clock() - read_at >= self.seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        return user, token

    def put(self, key: str, user: Any, token: Token) -> None:
        if self.seconds <= 0 or self.size <= 0:
            return
        with self._lock:
            self._entries[key] = (user, token, self._clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def evict_user(self, user_id: Any) -> None:
        with self._lock:
            for key in [key for key, (user, _token, _at) in self._entries.items() if user.pk == user_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


principal_cache = PrincipalCache(
    seconds=float(getattr(settings, "API_PRINCIPAL_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)),
    size=int(getattr(settings, "API_PRINCIPAL_CACHE_SIZE", DEFAULT_CACHE_SIZE)),
)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing expired tokens; on a view with ``cached_principal = True``, answered from
    ``principal_cache`` while the entry is fresh (same answers). One class for both, so the OpenAPI document keeps
    one ``tokenAuth`` scheme."""

    use_cache = False

    def authenticate(self, request):
        view = (getattr(request, "parser_context", None) or {}).get("view")
        self.use_cache = bool(getattr(view, "cached_principal", False))  # an instance per request (DRF)
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        hit = principal_cache.get(key) if self.use_cache else None
        if hit is None:
            user, token = super().authenticate_credentials(key)
            if api_token_expired(token):
                raise AuthenticationFailed("This token has expired: log in again for a new one.")
            if not self.use_cache:
                return user, token
            organization_roles(user)  # read with the user, so a scan's permission check costs no query either
            principal_cache.put(key, user, token)
        else:
            user, token = hit
            if not user.is_active:
                raise AuthenticationFailed("User inactive or deleted.")
            if api_token_expired(token):
                raise AuthenticationFailed("This token has expired: log in again for a new one.")
        return copy.copy(user), token


def _evict_token_owner(sender, instance, **kwargs) -> None:
    principal_cache.evict_user(instance.user_id)


def _evict_user(sender, instance, **kwargs) -> None:
    principal_cache.evict_user(instance.pk)


# In this process a revocation takes effect at once; other processes see it when their entry ages out.
post_delete.connect(_evict_token_owner, sender=Token, dispatch_uid="principal_cache_token_deleted")
post_save.connect(_evict_token_owner, sender=Token, dispatch_uid="principal_cache_token_saved")
post_save.connect(_evict_user, sender=User, dispatch_uid="principal_cache_user_saved")
post_delete.connect(_evict_user, sender=User, dispatch_uid="principal_cache_user_deleted")
post_save.connect(_evict_token_owner, sender=OrganizationMembership, dispatch_uid="principal_cache_member_saved")
post_delete.connect(_evict_token_owner, sender=OrganizationMembership, dispatch_uid="principal_cache_member_deleted")
