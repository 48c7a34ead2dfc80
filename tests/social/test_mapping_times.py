"""Timestamps in the protos social builds are exactly protobuf's own conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.social.mapping import _set_time

MOMENTS = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1901, 5, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 11, 25, 17, 3, 26, 123_456, tzinfo=UTC),
    datetime(2026, 11, 25, 20, 3, 26, 654_321, tzinfo=timezone(timedelta(hours=3))),
    datetime(2026, 11, 25, 17, 3, 26, 5),  # naive: taken as UTC, as FromDatetime does
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_set_time_is_from_datetime(moment: datetime) -> None:
    expected, got = Timestamp(), Timestamp()
    expected.FromDatetime(moment)
    _set_time(got, moment)
    assert got == expected


def test_none_leaves_the_field_unset() -> None:
    field = Timestamp()
    _set_time(field, None)
    assert field == Timestamp()
