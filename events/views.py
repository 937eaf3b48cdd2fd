"""Buyer pages of the events domain: browse and search published events.

An event's own page (seat map, holds) combines the seats and the buyer's holds, so it is served by orders
(orders/views/event_page.py).
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from events import selectors

PAGE_SIZE = 12


class BrowseForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    venue = forms.UUIDField(required=False, label=_("Venue"))
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        required=False, label=pgettext_lazy("date range", "To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("The 'from' date must not be after the 'to' date."))
        return cleaned


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form = BrowseForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = selectors.events_search(
        q=filters.get("q", ""),
        venue_id=filters.get("venue"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "events/event_list.html",
        {
            "form": form,
            "page": page,
            "venues": selectors.venues_with_published_events(),
            "query": query.urlencode(),
        },
    )
