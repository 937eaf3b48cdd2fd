"""Amounts as people read them in the active language: ``195.00 credits`` / ``195,00 Credits``, ``€195.00`` /
``195,00 €``. Pages use the ``credits`` and ``money`` filters (core/templatetags/money.py); views and emails call
these. Where the symbol goes is the translation's choice (the msgid ``%(symbol)s%(amount)s``)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import gettext, ngettext

# Symbols of the currencies credits are bought in (settings.STRIPE_CURRENCY); any other shows its ISO code.
_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF", "jpy": "¥"}


def amount(value: Decimal | int | float | str) -> str:
    """``1234.50`` in English, ``1234,50`` in German: two decimals, the language's decimal separator (thousands
    grouped only where settings.USE_THOUSAND_SEPARATOR asks for it)."""
    return numberformat.format(
        Decimal(value),
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=2,
        grouping=get_format("NUMBER_GROUPING"),
        thousand_sep=get_format("THOUSAND_SEPARATOR"),
        use_l10n=True,
    )


def credits(value: Decimal | int | float | str | None) -> str:
    """``195.00 credits`` (``1.00 credit``)."""
    if value is None or value == "":
        return ""
    number = Decimal(value)
    return ngettext("%(amount)s credit", "%(amount)s credits", 1 if number == 1 else 2) % {"amount": amount(number)}


def money(value: Decimal | int | float | str | None, currency: str) -> str:
    """``€195.00`` in English, ``195,00 €`` in German."""
    if value is None or value == "":
        return ""
    symbol = _SYMBOLS.get(currency.lower(), currency.upper())
    return gettext("%(symbol)s%(amount)s") % {"symbol": symbol, "amount": amount(value)}
