from decimal import Decimal

import pytest

from core import config
from core.models import SystemSetting

pytestmark = pytest.mark.django_db(databases=["default"])


def test_defaults_apply_when_nothing_is_stored():
    assert config.get("hold_seconds") == 300
    assert config.get("max_tickets_per_order") == 8
    assert config.get("qr_lifetime_seconds") == 60
    assert config.get("platform_fee_percent") == Decimal("5")


def test_a_stored_value_is_typed_and_wins_over_the_default():
    config.set_value("hold_seconds", "120")
    assert config.get("hold_seconds") == 120
    config.set_value("platform_fee_percent", 7.5)
    assert config.get("platform_fee_percent") == Decimal("7.5")


@pytest.mark.parametrize(
    "key, value",
    [
        ("hold_seconds", 5),
        ("hold_seconds", "soon"),
        ("hold_seconds", True),
        ("hold_seconds", 1.5),
        ("platform_fee_percent", "NaN"),
        ("platform_fee_percent", 99),
        ("max_tickets_per_order", None),
    ],
)
def test_values_outside_type_or_range_are_refused(key, value):
    with pytest.raises(ValueError):
        config.set_value(key, value)
    assert not SystemSetting.objects.filter(key=key).exists()


def test_an_invalid_value_written_behind_the_accessor_falls_back_to_the_default():
    SystemSetting.objects.create(key="hold_seconds", value="forever")
    config.clear_cache()
    assert config.get("hold_seconds") == 300
