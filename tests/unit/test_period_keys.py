"""Period keys are four-digit years, so every key ``period_key`` makes ``period_bounds`` reads back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pointsapp import periods

UTC = dt.timezone.utc


@pytest.mark.parametrize("moment", [dt.datetime(2, 3, 1, tzinfo=UTC), dt.datetime(999, 6, 1, tzinfo=UTC)])
@pytest.mark.parametrize("kind", periods.PERIODS)
def test_a_key_before_the_year_1000_is_zero_padded_and_reads_back(kind, moment):
    tz = ZoneInfo("Asia/Shanghai")
    key = periods.period_key(kind, moment, tz)
    assert key[:4].isdigit() and key[:4] == f"{periods.local(moment, tz).year:04d}"
    start, end = periods.period_bounds(kind, key, tz)
    assert start <= moment < end
