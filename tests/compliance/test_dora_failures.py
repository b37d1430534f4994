"""Change fail rate, recovery time and rework rate on histories with known answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.dora import dora_figures
from tests.support.dora_world import T0, World, deployment_at

pytestmark = pytest.mark.django_db
H, DAY = timedelta(hours=1), timedelta(days=1)


def figures(**kw):
    return dora_figures("prod", since=T0 - DAY, until=T0 + 30 * DAY, **kw)


def test_a_rollback_fails_the_deployment_it_replaced_and_is_rework():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    b = w.change(T0 + 2 * H)
    w.deploy(b, T0 + 3 * H)  # bad
    w.deploy(a, T0 + 5 * H)  # rolled back two hours later
    w.append()
    report = figures()
    fail = report.figures["change_fail_rate"]
    assert (fail.extra["failed"], fail.extra["deployments"], fail.value) == (1, 3, "0.3333")
    failed = next(s for s in report.samples if s.metric == "change_fail_rate" and s.value == 1)
    assert failed.detail["deployment"] == deployment_at(T0 + 3 * H).id
    assert set(deployment_at(T0 + 5 * H).entry_seqs) <= set(failed.entry_seqs)  # the rollback's entry
    recovery = report.figures["recovery_time"]
    assert (recovery.value, recovery.samples, recovery.band) == ("2.00", 1, "high")
    rework = report.figures["rework_rate"]
    assert (rework.extra["unplanned"], rework.value, rework.band) == (1, "0.3333", None)


def test_a_hotfix_inside_the_window_fails_the_deployment_before_it(settings):
    settings.DORA_FAILURE_WINDOW_HOURS = 24
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    fix = w.change(T0 + 10 * H, title="Hotfix: refund rounding")
    w.deploy(fix, T0 + 11 * H)  # 10 h after: inside 24 h
    w.append()
    report = figures()
    assert report.figures["change_fail_rate"].extra["failed"] == 1
    assert report.figures["rework_rate"].extra["unplanned"] == 1
    assert report.figures["recovery_time"].value == "10.00"


def test_a_hotfix_outside_the_window_is_rework_but_no_failure(settings):
    settings.DORA_FAILURE_WINDOW_HOURS = 24
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    fix = w.change(T0 + 3 * DAY, title="Hotfix: refund rounding")
    w.deploy(fix, T0 + 3 * DAY + H)
    w.append()
    report = figures()
    assert report.figures["change_fail_rate"].extra["failed"] == 0
    assert report.figures["change_fail_rate"].value == "0.0000"
    assert report.figures["rework_rate"].extra["unplanned"] == 1
    assert report.figures["recovery_time"].value is None  # nothing failed: no data


def test_a_revert_counts_like_a_hotfix():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    revert = w.change(T0 + 2 * H, title='Revert "Change 1"')
    w.deploy(revert, T0 + 3 * H)
    w.append()
    report = figures()
    assert report.figures["change_fail_rate"].extra["failed"] == 1
    causes = [s.detail["causes"] for s in report.samples if s.metric == "change_fail_rate" and s.value]
    assert causes == [
        [{"cause": "followed by a revert", "by": deployment_at(T0 + 3 * H).id, "change": "github:acme/payments#2"}]
    ]


def test_an_incident_without_a_named_deployment_joins_the_one_live_at_its_start():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    b = w.change(T0 + 2 * H)
    w.deploy(b, T0 + 3 * H)
    w.incident("INC-1", T0 + 2 * H, resolved=T0 + 2 * H + timedelta(minutes=30))  # while #1 ran
    w.append()
    report = figures()
    [incident] = report.incidents
    assert (incident.joined_to, incident.joined_by) == (deployment_at(T0 + H).id, "live at start")
    assert report.figures["change_fail_rate"].extra["failed"] == 1
    recovery = report.figures["recovery_time"]
    assert (recovery.value, recovery.band) == ("0.50", "elite")


def test_an_incident_naming_a_deployment_joins_that_one():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    b = w.change(T0 + 2 * H)
    w.deploy(b, T0 + 3 * H)
    w.append()
    named = deployment_at(T0 + H)
    w.incident("INC-2", T0 + 4 * H, deployment=named.identity)  # started while #2 ran, blames #1
    w.append()
    report = figures()
    [incident] = report.incidents
    assert (incident.joined_to, incident.joined_by) == (named.id, "named")
    recovery = report.figures["recovery_time"]
    assert (recovery.value, recovery.extra["not_restored"]) == (None, 1)  # unresolved: no figure


def test_an_incident_blaming_a_commit_joins_the_deployment_that_shipped_it():
    w = World()
    a = w.change(T0)
    b = w.change(T0 + H)  # shipped by the second deployment, with the change merged after it
    c = w.change(T0 + 2 * H)
    w.deploy(a, T0 + 30 * timedelta(minutes=1))
    w.deploy(c, T0 + 3 * H)
    w.deploy(c, T0 + 5 * H)  # the same commit again: it ships nothing, so it is not the one blamed
    w.incident("INC-4", T0 + 6 * H, resolved=T0 + 7 * H, commit=b)
    w.append()
    report = figures()
    [incident] = report.incidents
    assert (incident.joined_to, incident.joined_by) == (deployment_at(T0 + 3 * H).id, "commit")
    assert report.figures["change_fail_rate"].extra["failed"] == 1


def test_an_incident_with_no_application_joins_nothing_but_is_listed():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    w.incident("INC-3", T0 + 2 * H, resolved=T0 + 3 * H, application="")
    w.append()
    report = figures()
    assert [i.joined_to for i in report.incidents] == [None]
    assert report.figures["change_fail_rate"].extra["failed"] == 0
    assert report.figures["recovery_time"].value == "1.00"


def test_failed_syncs_are_attempts_not_deployments():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    w.failed_sync("f" * 40, T0 + 2 * H)
    w.append()
    frequency = figures().figures["deployment_frequency"]
    assert (frequency.extra["deployments"], frequency.extra["attempts"]) == (1, 1)


def test_deployment_frequency_has_a_weekly_trend_and_a_band():
    w = World()
    for day in range(14):  # two a day for two weeks from Monday T0
        merge = w.change(T0 + day * DAY)
        w.deploy(merge, T0 + day * DAY + H)
        w.deploy(merge, T0 + day * DAY + 2 * H)
    w.append()
    monday = T0 - 9 * H  # 00:00 UTC: the weeks are whole
    report = dora_figures("prod", since=monday, until=monday + 14 * DAY, bucket="week")
    frequency = report.figures["deployment_frequency"]
    assert (frequency.value, frequency.band, frequency.samples) == ("2.000", "elite", 28)
    assert [(t["value"], t["samples"]) for t in frequency.trend] == [("2.000", 14), ("2.000", 14)]
    monthly = dora_figures("prod", since=monday, until=monday + 14 * DAY, bucket="month").figures[
        "deployment_frequency"
    ]
    assert len(monthly.trend) == 1
