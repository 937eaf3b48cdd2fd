import uuid

import pytest

from bench import dataset


@pytest.fixture
def world():
    """A published stadium (two 100-seat sections) and an arena (four 100-seat sections, 200 places sold), with the
    benchmark's people: gate staff, a manager and buyers with API tokens."""
    data = dataset.build_people(dataset.SIZES["tiny"], uuid.uuid4().hex[:6], lambda message: None)
    dataset.build_stadium(data, lambda message: None)
    dataset.build_big_event(data, lambda message: None)
    dataset.sell_big_event(data, lambda message: None)
    return data
