"""evidence.core.jsonvalues.without_floats: ledger data carries decimal strings, never floats."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from evidence.core.jsonvalues import without_floats


def test_it_turns_floats_into_the_decimal_text_python_reads():
    assert without_floats(1.5) == "1.5"
    assert without_floats(0.1 + 0.2) == "0.30000000000000004"
    assert without_floats(1e20) == "1e+20"
    assert without_floats(2.0) == "2.0"


def test_it_keeps_other_json_values_as_they_are():
    value = {"n": 7, "yes": True, "no": False, "none": None, "text": "1.5", "big": 2**60}
    assert without_floats(value) == value
    assert without_floats(True) is True  # a bool is not a float


def test_it_goes_through_objects_lists_and_tuples():
    value = {"a": [1.5, {"b": (2.25, "c")}], 3: 4.0}
    assert without_floats(value) == {"a": ["1.5", {"b": ["2.25", "c"]}], "3": "4.0"}


def test_it_leaves_dates_alone_unless_asked():
    day = date(2026, 3, 1)
    assert without_floats({"since": day}) == {"since": day}
    assert without_floats(
        {"since": day, "at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "daily": time(3, 30), "n": [0.5]},
        dates=True,
    ) == {"since": "2026-03-01", "at": "2026-03-01T12:00:00+00:00", "daily": "03:30:00", "n": ["0.5"]}
