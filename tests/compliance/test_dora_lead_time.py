"""Change lead time: every change a deployment shipped, opened -> deployed, with its breakdown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.dora import dora_figures
from evidence.compliance.dora.changes import changes_shipped
from tests.support.dora_world import T0, World, deployment_at, pull

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def period():
    return {"since": T0 - 7 * DAY, "until": T0 + 21 * DAY}


def test_it_ships_every_change_merged_since_the_previous_deployment():
    w = World()
    first = w.change(T0)
    w.deploy(first, T0 + timedelta(hours=2))
    w.change(T0 + DAY)
    w.change(T0 + 2 * DAY)
    third = w.change(T0 + 3 * DAY)
    w.deploy(third, T0 + 3 * DAY + timedelta(hours=4))
    w.append()
    batch = changes_shipped(deployment_at(T0 + 3 * DAY + timedelta(hours=4)))
    assert [p.number for p in batch] == [2, 3, 4]
    assert [p.number for p in changes_shipped(deployment_at(T0 + timedelta(hours=2)))] == [1]


def test_it_measures_each_change_from_opened_to_deployed():
    w = World()
    w.change(T0, opened=timedelta(hours=10))  # #1: 10 h before merge
    second = w.change(T0 + timedelta(hours=1), opened=timedelta(hours=2))  # #2: 2 h
    w.deploy(second, T0 + timedelta(hours=5))
    w.append()
    # First deployment ships only its head (#2): nothing before is known to be new.
    report = dora_figures("prod", **period())
    lead = report.figures["change_lead_time"]
    assert lead.samples == 1
    assert lead.value == "6.00"  # opened T0-1h, deployed T0+5h
    sample = next(s for s in report.samples if s.metric == "change_lead_time")
    assert sample.detail["review"] == 2 * 3600
    assert sample.detail["delivery"] == 4 * 3600
    assert sample.detail["review_to_first_approval"] == 3600
    assert sample.detail["first_approval_to_merge"] == 3600
    assert pull(2).entry_seq in sample.entry_seqs
    assert set(deployment_at(T0 + timedelta(hours=5)).entry_seqs) <= set(sample.entry_seqs)


def test_it_reports_median_and_p90_over_a_batch():
    w = World()
    first = w.change(T0, opened=timedelta(hours=1))
    w.deploy(first, T0 + timedelta(hours=1))  # #1: 2 h
    for hours in (1, 2, 3, 4):
        last = w.change(T0 + timedelta(hours=1 + hours), opened=timedelta(hours=1))
    w.deploy(last, T0 + timedelta(hours=10))  # #2..#5 opened at 1,2,3,4 h: 9, 8, 7, 6 h
    w.append()
    lead = dora_figures("prod", **period()).figures["change_lead_time"]
    assert lead.samples == 5
    assert lead.extra["median"] == "7.00"  # 2, 6, 7, 8, 9
    assert lead.extra["p90"] == "9.00"
    assert lead.band == "elite"  # under a day


def test_a_rollback_ships_nothing_and_a_change_ships_once():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + timedelta(hours=1))
    b = w.change(T0 + timedelta(hours=2))
    w.deploy(b, T0 + timedelta(hours=3))
    w.deploy(a, T0 + timedelta(hours=4))  # rolled back to #1
    w.deploy(b, T0 + timedelta(hours=6))  # #2 again: already shipped at 3 h
    w.append()
    assert changes_shipped(deployment_at(T0 + timedelta(hours=4))) == []
    assert changes_shipped(deployment_at(T0 + timedelta(hours=6))) == []
    assert dora_figures("prod", **period()).figures["change_lead_time"].samples == 2


def test_an_empty_period_has_no_data_not_zero():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + timedelta(hours=1))
    w.append()
    report = dora_figures("prod", since=T0 + 30 * DAY, until=T0 + 60 * DAY)
    for name, figure in report.figures.items():
        assert figure.value is None, name
        assert figure.band is None, name
        assert figure.as_json()["no_data"] is True
