"""The database owner edits a denormalised column of an entry: verify_ledger names the seq and the
column, and the projectors go by the payload (which the hashes prove), not by the edited column."""

import io
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from evidence.readmodels.models import Approval, ProjectionError, PullRequest
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.envelope import Record
from ledger.keys import load_verifiers
from ledger.verification import verify_ledger

from ..conftest import triggers_suspended
from .helpers import T0, records

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(10))
    sign_checkpoint()
    return ledger_key


def owner_sets(column, value, seq=6):
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE ledger_entry SET {column} = %s WHERE seq = %s", [value, seq])


def broken(column):
    report = verify_ledger(load_verifiers())
    assert not report.ok
    assert report.bad_seq == 6
    assert report.problem.startswith(f"column {column} is ")
    return report


def test_it_names_the_seq_when_the_kind_column_is_changed(ledger):
    owner_sets("kind", "probe.hidden")
    report = broken("kind")
    assert "'probe.hidden' but the payload says 'test.fact'" in report.problem


def test_it_names_the_seq_when_the_subject_column_is_changed(ledger):
    owner_sets("subject", "repo/elsewhere")
    broken("subject")


def test_it_names_the_seq_when_the_source_column_is_changed(ledger):
    owner_sets("source", "another-source")
    broken("source")


def test_it_names_the_seq_when_the_observed_at_column_is_changed(ledger):
    owner_sets("observed_at", datetime(2020, 1, 1, tzinfo=UTC))
    report = broken("observed_at")
    assert "2020-01-01T00:00:00.000000Z" in report.problem


def test_it_names_the_seq_when_the_observed_at_column_moves_one_microsecond(ledger):
    owner_sets("observed_at", T0.replace(minute=6, microsecond=1))
    broken("observed_at")


def test_it_names_the_seq_when_the_occurred_at_column_is_changed(ledger):
    owner_sets("occurred_at", datetime(2027, 1, 1, tzinfo=UTC))
    broken("occurred_at")


def test_it_names_the_seq_when_the_occurred_at_column_is_emptied(ledger):
    owner_sets("occurred_at", None)
    report = broken("occurred_at")
    assert "is None but the payload says" in report.problem


def test_it_names_the_seq_when_the_idempotency_key_column_is_changed(ledger):
    owner_sets("idempotency_key", "test:test.fact:free-again")
    broken("idempotency_key")


def test_it_exits_non_zero_naming_the_column(ledger):
    owner_sets("kind", "probe.hidden")
    with pytest.raises(CommandError, match=r"^ledger BROKEN at seq 6: column kind is 'probe.hidden'"):
        call_command("verify_ledger", stdout=io.StringIO())


def review(seq_hint: int) -> Record:
    return Record(
        kind="github.review",
        source="github-acme",
        subject="github:acme/payments#7",
        idempotency_key=f"github:review:{seq_hint}:c0ffee",
        data={
            "repository": "acme/payments",
            "number": 7,
            "id": seq_hint,
            "state": "APPROVED",
            "reviewer": "bob",
            "commit_id": "a" * 40,
            "submitted_at": "2026-03-01T12:00:00Z",
        },
        observed_at=T0,
    )


def test_it_still_projects_an_approval_whose_kind_column_was_changed(db):
    append_entries([*records(3), review(71)])
    owner_sets("kind", "probe.hidden", seq=3)
    call_command("rebuild_projections", stdout=io.StringIO())
    approval = Approval.objects.get()
    assert (approval.review_id, approval.state, approval.entry_seq) == ("71", "APPROVED", 3)
    error = ProjectionError.objects.get(seq=3)
    assert error.projector == "ledger.columns" and error.kind == "github.review"
    assert "column kind says 'probe.hidden'" in error.error


def test_it_projects_the_source_the_payload_names_not_the_column(db):
    pull = Record(
        kind="github.pull_request",
        source="github-acme",
        subject="github:acme/payments#7",
        idempotency_key="github:pr:7:beef",
        data={"repository": "acme/payments", "number": 7, "title": "Fix", "base": "main", "head_sha": "b" * 40},
        observed_at=T0,
    )
    append_entries([pull])
    owner_sets("source", "forged-source", seq=0)
    call_command("rebuild_projections", stdout=io.StringIO())
    assert PullRequest.objects.get().source == "github-acme"
    assert ProjectionError.objects.filter(seq=0, projector="ledger.columns").exists()


def test_it_records_no_projection_error_for_an_untouched_ledger(db):
    append_entries([*records(3), review(71)])
    call_command("rebuild_projections", stdout=io.StringIO())
    assert Approval.objects.count() == 1
    assert not ProjectionError.objects.exists()
