"""Token authentication that refuses a token older than API_TOKEN_TTL_DAYS (same single query as DRF's)."""

from __future__ import annotations

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.services.tokens import api_token_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if api_token_expired(token):
            raise AuthenticationFailed("This token has expired: log in again for a new one.")
        return user, token
