"""Typed access to the system-configuration table, with documented defaults.

    from core import config
    config.get("hold_seconds")  # -> 300 unless staff changed it

Values are cached per process for a few seconds: hot paths (hold, checkout, scan) read them on every request, and a
setting change reaching every worker within CACHE_SECONDS is fine for all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.models import SystemSetting

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    kind: type
    minimum: Any
    maximum: Any
    help: str

    def coerce(self, raw: Any) -> Any:
        """Return the typed value or raise ValueError with a readable reason."""
        if isinstance(raw, bool) or raw is None:
            raise ValueError(f"expected a {self.kind.__name__}")
        try:
            if self.kind is Decimal:
                value = Decimal(str(raw))
                if not value.is_finite():
                    raise ValueError("expected a finite number")
            elif self.kind is int:
                if isinstance(raw, float) and not raw.is_integer():
                    raise ValueError("expected a whole number")
                value = int(raw)
            else:
                value = self.kind(raw)
        except (TypeError, InvalidOperation) as exc:
            raise ValueError(f"expected a {self.kind.__name__}") from exc
        if value < self.minimum or value > self.maximum:
            raise ValueError(f"must be between {self.minimum} and {self.maximum}")
        return value


SETTINGS: dict[str, SettingSpec] = {
    "hold_seconds": SettingSpec(300, int, 30, 3600, "How long a seat hold lasts."),
    "max_tickets_per_order": SettingSpec(8, int, 1, 50, "Most places one buyer may hold or buy per event at once."),
    "qr_lifetime_seconds": SettingSpec(60, int, 10, 900, "How long one QR code stays valid before it rotates."),
    "waiting_list_offer_seconds": SettingSpec(
        900, int, 60, 24 * 3600, "How long places offered to the next buyer on a waiting list stay held for them."
    ),
    "transfer_expiry_hours": SettingSpec(24, int, 1, 24 * 14, "How long a transfer offer stays open."),
    "resale_price_cap_percent": SettingSpec(
        Decimal("100"), Decimal, Decimal("0"), Decimal("500"), "Highest resale price, as a percent of face value."
    ),
    "platform_fee_percent": SettingSpec(
        Decimal("5"), Decimal, Decimal("0"), Decimal("50"), "Fee kept from a resale, as a percent of its price."
    ),
    "otp_lifetime_seconds": SettingSpec(600, int, 60, 3600, "How long a one-time code stays valid."),
    "otp_max_attempts": SettingSpec(5, int, 1, 10, "Wrong guesses allowed for one one-time code."),
    "otp_max_codes_per_day": SettingSpec(
        20, int, 1, 200, "One-time codes one account may be sent in 24 hours (all purposes together)."
    ),
    "webhook_tolerance_seconds": SettingSpec(300, int, 30, 3600, "Accepted clock skew of a signed payment webhook."),
    "max_topup_amount": SettingSpec(
        Decimal("5000"), Decimal, Decimal("1"), Decimal("50000"), "Largest single credit top-up."
    ),
    "login_max_failures": SettingSpec(5, int, 1, 100, "Failed logins per account and address before a lockout."),
    "login_lockout_seconds": SettingSpec(900, int, 10, 86400, "How long a login lockout lasts."),
}

_cache: dict[str, Any] = {}
_cache_loaded_at = 0.0


def _load() -> dict[str, Any]:
    global _cache, _cache_loaded_at
    now = time.monotonic()
    if now - _cache_loaded_at > CACHE_SECONDS:
        _cache = dict(SystemSetting.objects.values_list("key", "value"))
        _cache_loaded_at = now
    return _cache


def get(key: str) -> Any:
    """The typed value of ``key``; the default when unset or when a stored value is invalid."""
    spec = SETTINGS[key]
    raw = _load().get(key)
    if raw is None:
        return spec.default
    try:
        return spec.coerce(raw)
    except ValueError:
        return spec.default


def clear_cache() -> None:
    global _cache_loaded_at
    _cache_loaded_at = 0.0


def set_value(key: str, value: Any, *, updated_by_id=None) -> Any:
    """Validate and store a setting (used by the admin and tests)."""
    spec = SETTINGS[key]
    typed = spec.coerce(value)
    stored = str(typed) if isinstance(typed, Decimal) else typed
    SystemSetting.objects.update_or_create(
        key=key, defaults={"value": stored, "description": spec.help, "updated_by_id": updated_by_id}
    )
    clear_cache()
    return typed
