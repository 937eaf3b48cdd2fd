"""Form fields every staff page shares (domain-free)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

AUDITED = gettext_lazy("Required; audited.")


class ReasonField(forms.CharField):
    """Why a staff member acts, written to the audit log: required, in a small text area.

    The field strips what is typed before the required check, so a reason of spaces only is refused as missing.
    """

    def __init__(self, *, max_length: int = 255, rows: int = 3, help_text: Any = AUDITED, **kwargs):
        super().__init__(
            max_length=max_length, widget=forms.Textarea(attrs={"rows": rows}), help_text=help_text, **kwargs
        )
