"""After each projection run only the deployments the new entries touch are judged again; a
rebuild of the read models judges them all."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection

from evidence.compliance import judgement as store
from evidence.compliance import targets
from evidence.compliance.models import JudgeCursor
from evidence.readmodels.models import Deployment
from evidence.readmodels.projectors import rebuild_all
from ledger.models import Entry
from tests.conftest import triggers_suspended
from tests.support.custody_story import APP, T0, Story, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


@pytest.fixture
def two_changes():
    prod_policy()
    first = Story("a").clean()
    first.append()
    second = Story("b")
    second.deployed_at = T0 + timedelta(days=1)
    second.clean().append()
    return first, second


@pytest.fixture
def judged(monkeypatch):
    calls: list[list[int] | None] = []
    real = store.refresh_findings

    def spy(ids=None):
        calls.append(ids)
        return real(ids)

    monkeypatch.setattr(store, "refresh_findings", spy)
    return calls


def test_it_judges_again_only_the_deployments_of_the_pull_request_a_new_approval_is_on(two_changes, judged, caplog):
    _, second = two_changes
    of_second = Deployment.objects.get(finished_at=second.deployed_at).pk

    second.review(APP, second.number, "erin", second.head, T0 - timedelta(minutes=20))
    with caplog.at_level(logging.INFO, logger="evidence.compliance.judgement"):
        second.append()

    assert judged == [[of_second]]
    assert "re-judged 1 deployment(s) up to seq" in caplog.text


def test_it_judges_every_deployment_after_a_rebuild(two_changes, judged):
    rebuild_all()

    assert judged == [None]


def test_it_judges_again_only_the_deployments_whose_commit_a_branch_history_adds(two_changes, judged):
    _, second = two_changes
    of_second = Deployment.objects.get(finished_at=second.deployed_at).pk

    # a later harvest walks main again from another known head and lists the second change's merge
    second.history(APP, [(second.merge, [second.head], "lead")], T0 + timedelta(days=2), since="0" * 40)
    second.append()

    assert judged == [[of_second]]


@pytest.fixture
def reads(monkeypatch):
    """Calls of the targets' own read of a window of entries (what a projection run can spare it)."""
    calls: list[tuple[int, int]] = []
    real = targets._read

    def spy(first, last):
        calls.append((first, last))
        return real(first, last)

    monkeypatch.setattr(targets, "_read", spy)
    return calls


def test_it_judges_from_the_entries_the_projection_run_read_without_reading_them_again(two_changes, judged, reads):
    _, second = two_changes
    of_second = Deployment.objects.get(finished_at=second.deployed_at).pk

    second.review(APP, second.number, "erin", second.head, T0 - timedelta(minutes=20))
    second.append()

    assert judged == [[of_second]]
    assert reads == []


def test_it_reads_the_entries_again_when_the_judge_is_behind_what_the_run_read(two_changes, judged, reads):
    _, second = two_changes
    of_second = Deployment.objects.get(finished_at=second.deployed_at).pk
    behind = JudgeCursor.objects.get().last_seq
    second.review(APP, second.number, "erin", second.head, T0 - timedelta(minutes=20))
    JudgeCursor.objects.update(last_seq=behind - 1)  # say a judge run failed after the last entry

    second.append()

    head = Entry.objects.order_by("-seq").values_list("seq", flat=True)[0]
    assert reads == [(behind, head)]
    assert of_second in judged[0]


def test_it_finds_what_an_entry_touches_by_its_payload_kind_not_its_edited_kind_column(two_changes):
    _, second = two_changes
    of_second = Deployment.objects.get(finished_at=second.deployed_at).pk
    second.review(APP, second.number, "erin", second.head, T0 - timedelta(minutes=20))
    second.append()
    seq = Entry.objects.filter(kind="github.review").order_by("-seq").values_list("seq", flat=True)[0]
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET kind = %s WHERE seq = %s", ["probe.hidden", seq])

    assert targets.touched_deployments(seq, seq) == {of_second}
