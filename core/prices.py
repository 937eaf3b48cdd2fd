"""Prices as every database stores them: NUMERIC(10,2), so from 0 to 99,999,999.99 in steps of a cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from core.errors import InvalidInput

MAX_AMOUNT = Decimal("99999999.99")  # the largest amount NUMERIC(10,2) holds: money columns, balances, prices
PRICE_LIMIT = MAX_AMOUNT + Decimal("0.01")  # the first amount it cannot hold


def price_checked(price: Any, *, detail: str = "") -> Decimal:
    """The price to the cent, or InvalidInput on the ``price`` field (``detail`` says whose) when it is not a finite
    Decimal the column can hold; checked before a write, so a bad price is a 400 and never a database error."""
    if not isinstance(price, Decimal) or not price.is_finite() or price < 0 or price >= PRICE_LIMIT:
        raise InvalidInput(
            detail or gettext("A price must be between 0 and 99,999,999.99."),
            fields={"price": [gettext("Out of range.")]},
        )
    return price.quantize(Decimal("0.01"))
