from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from core.results import from_prefixed, from_row


@dataclasses.dataclass(frozen=True)
class Thing:
    id: int
    name: str
    label: str


def test_fields_come_from_attributes_or_keys_and_overrides_win():
    assert from_row(Thing, SimpleNamespace(id=1, name="a", label="x", extra=0)) == Thing(1, "a", "x")
    assert from_row(Thing, {"id": 2, "name": "b"}, label="computed") == Thing(2, "b", "computed")


def test_a_missing_field_is_an_error_not_a_silent_default():
    with pytest.raises(AttributeError):
        from_row(Thing, SimpleNamespace(id=1, name="a"))
    with pytest.raises(KeyError):
        from_row(Thing, {"id": 1, "label": "x"})


def test_a_lazy_proxy_is_read_through_like_the_object_it_wraps():
    """The request's user is a SimpleLazyObject under session authentication."""
    from django.utils.functional import SimpleLazyObject

    lazy = SimpleLazyObject(lambda: SimpleNamespace(id=3, name="c", label="y"))
    assert from_row(Thing, lazy) == Thing(3, "c", "y")


def test_a_value_object_reads_its_fields_under_a_prefix():
    row = SimpleNamespace(id=1, stage_id=7, stage_name="Main", stage_label="south")
    assert from_prefixed(Thing, row, "stage_") == Thing(7, "Main", "south")
