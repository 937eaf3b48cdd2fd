"""Browse filters for GET /api/v1/events/ (django-filter)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from events.models import Event


class EventFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text", max_length=100, help_text=gettext_lazy("Text in the title or description.")
    )
    venue = django_filters.UUIDFilter(field_name="venue_id", help_text=gettext_lazy("Venue id."))
    organization = django_filters.UUIDFilter(field_name="organization_id", help_text=gettext_lazy("Organization id."))
    date_from = django_filters.DateFilter(
        method="filter_from", help_text=gettext_lazy("Starts on or after this day (YYYY-MM-DD).")
    )
    date_to = django_filters.DateFilter(
        method="filter_to", help_text=gettext_lazy("Starts on or before this day (YYYY-MM-DD).")
    )

    class Meta:
        model = Event
        fields = ["q", "venue", "organization", "date_from", "date_to"]

    def filter_text(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value)) if value else queryset

    def filter_from(self, queryset, name, value):
        start = dt.datetime.combine(value, dt.time.min, tzinfo=timezone.get_current_timezone())
        return queryset.filter(starts_at__gte=start)

    def filter_to(self, queryset, name, value):
        end = dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
        return queryset.filter(starts_at__lt=end)
