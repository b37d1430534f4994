"""evidence.core.times.parse_time: ISO 8601 text into aware datetimes, with each caller's options."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.core.times import parse_time
from ledger.envelope import format_time

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


def test_it_reads_z_as_utc():
    assert parse_time("2026-03-01T12:00:00Z") == NOON
    assert parse_time("2026-03-01T12:00:00Z").utcoffset() == timedelta(0)
    assert parse_time("2026-03-01T12:00:00.123456Z") == NOON.replace(microsecond=123456)


def test_it_reads_z_after_a_bare_date_as_midnight_utc():
    assert parse_time("2026-03-01Z") == datetime(2026, 3, 1, tzinfo=UTC)


def test_it_keeps_the_offset_the_text_gave():
    moment = parse_time("2026-03-01T13:00:00+01:00")
    assert moment == NOON
    assert moment.isoformat() == "2026-03-01T13:00:00+01:00"


def test_it_converts_to_utc_when_asked():
    assert parse_time("2026-03-01T13:00:00+01:00", to_utc=True).isoformat() == "2026-03-01T12:00:00+00:00"


def test_it_takes_naive_text_as_utc():
    assert parse_time("2026-03-01T12:00:00").isoformat() == "2026-03-01T12:00:00+00:00"
    assert parse_time("2026-03-01").isoformat() == "2026-03-01T00:00:00+00:00"
    assert parse_time("2026-03-01 12:00:00+00") == NOON  # PostgreSQL's text form


def test_it_reads_none_and_empty_text_as_no_time():
    for lenient in (False, True):
        assert parse_time(None, lenient=lenient) is None
        assert parse_time("", lenient=lenient) is None


def test_it_refuses_unreadable_text():
    with pytest.raises(ValueError):
        parse_time("yesterday")
    with pytest.raises(ValueError):
        parse_time("2026-13-01T00:00:00Z", to_utc=True)


def test_it_gives_no_time_for_unreadable_or_non_text_values_when_lenient():
    assert parse_time("yesterday", lenient=True) is None
    assert parse_time(1772366400, lenient=True) is None
    assert parse_time({"time": "2026-03-01T12:00:00Z"}, lenient=True) is None


def test_it_reads_other_values_as_their_text_when_strict():
    assert parse_time(20260301) == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time(True)


def test_it_passes_datetimes_through_under_the_same_rules():
    paris = datetime(2026, 3, 1, 13, 0, tzinfo=PARIS)
    assert parse_time(paris) is paris
    assert parse_time(paris, to_utc=True).isoformat() == "2026-03-01T12:00:00+00:00"
    assert parse_time(datetime(2026, 3, 1, 12, 0)).tzinfo is UTC


@given(st.datetimes(timezones=st.just(UTC)))
def test_it_reads_back_what_the_ledger_and_isoformat_write(moment):
    assert parse_time(format_time(moment)) == moment
    assert parse_time(moment.isoformat()) == moment
    assert parse_time(moment.isoformat().replace("+00:00", "Z"), to_utc=True) == moment
