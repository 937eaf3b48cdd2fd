"""Amounts in the active language's format, in one place (core/moneyfmt.py).

{% load money %}
{{ tier.price|credits }}              ->  195.00 credits   (German: 195,00 Credits)
{{ topup.amount|money:"eur" }}        ->  €195.00          (German: 195,00 €)
{{ tier.price|amount }}               ->  195.00           (a table column already headed "Price (credits)")
"""

from __future__ import annotations

from django import template
from django.conf import settings

from core import moneyfmt

register = template.Library()


@register.filter
def credits(value) -> str:
    return moneyfmt.credits(value)


@register.filter
def money(value, currency: str = "") -> str:
    return moneyfmt.money(value, currency or settings.STRIPE_CURRENCY)


@register.filter
def amount(value) -> str:
    return "" if value is None or value == "" else moneyfmt.amount(value)
