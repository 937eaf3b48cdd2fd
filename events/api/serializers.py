"""Lean read serializers for the buyer's event API."""

from __future__ import annotations

from rest_framework import serializers

from events.contract import sales_open
from events.models import Event


class VenueSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    city = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    venue = VenueSummarySerializer(read_only=True)
    on_sale = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "title",
            "description",
            "organization_id",
            "venue",
            "starts_at",
            "doors_at",
            "sales_start",
            "sales_end",
            "selection_mode",
            "status",
            "on_sale",
        ]
        read_only_fields = fields

    def get_on_sale(self, event: Event) -> bool:
        return sales_open(event.status, event.sales_start, event.sales_end)
