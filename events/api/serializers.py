"""Lean read serializers for the buyer's event API."""

from __future__ import annotations

from rest_framework import serializers

from events.models import Event
from events.selectors import sales_open


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


class SectionAvailabilitySerializer(serializers.Serializer):
    section_id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    tier_id = serializers.UUIDField()
    tier_name = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    colour = serializers.CharField()
    capacity = serializers.IntegerField()
    map_x = serializers.IntegerField()
    map_y = serializers.IntegerField()
    available = serializers.IntegerField()
    held = serializers.IntegerField()
    sold = serializers.IntegerField()
    blocked = serializers.IntegerField()


class SeatMapSeatSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    row = serializers.CharField()
    number = serializers.IntegerField()
    x = serializers.IntegerField()
    y = serializers.IntegerField()
    status = serializers.CharField()
    tier_id = serializers.UUIDField(allow_null=True)
    accessible = serializers.BooleanField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
