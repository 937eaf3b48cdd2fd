"""Serializers of the event sections and seat map answers (orders/api/event_views.py)."""

from __future__ import annotations

from rest_framework import serializers

from core.api import MoneyField


class SectionAvailabilitySerializer(serializers.Serializer):
    section_id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    tier_id = serializers.UUIDField()
    tier_name = serializers.CharField()
    price = MoneyField()
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
    price = MoneyField()
