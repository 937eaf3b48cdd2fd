"""Buyer-facing event pages (placeholder list until the buyer-journey issue lands its browse page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from events.models import Event


def event_list(request: HttpRequest) -> HttpResponse:
    events = Event.objects.filter(status=Event.Status.PUBLISHED).select_related("venue")[:50]
    return render(request, "events/event_list.html", {"events": events})


def event_detail(request: HttpRequest, event_id) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("venue"), pk=event_id, status=Event.Status.PUBLISHED)
    return render(request, "events/event_detail.html", {"event": event})
