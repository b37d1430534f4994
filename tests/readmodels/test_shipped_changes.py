"""The shipped-changes read model: the rows say what the rule derives from the projected history,
whatever order the entries arrived in, and a rebuild gives the same rows and the same figures."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from evidence.compliance.dora import dora_figures
from evidence.readmodels.models import Approval, Deployment, ShippedChange, ShippingMark
from evidence.readmodels.projectors import rebuild_all
from evidence.readmodels.shipping import first_approvals, live_query, load_live, ship_history
from ledger.models import Entry
from tests.support.dora_world import T0, World

pytestmark = pytest.mark.django_db
H, DAY = timedelta(hours=1), timedelta(days=1)


def history(w: World) -> None:
    """Two applications: batches, a rollback and the redeploy after it, a hotfix, a change never opened."""
    first = w.change(T0)
    w.deploy(first, T0 + H)
    w.change(T0 + 2 * H)
    third = w.change(T0 + 3 * H, approved=timedelta(minutes=30))
    w.deploy(third, T0 + 4 * H)
    w.deploy(first, T0 + 5 * H)  # rolled back: ships nothing
    w.deploy(third, T0 + 6 * H)  # again: #2 and #3 shipped already
    fix = w.change(T0 + 7 * H, title="Hotfix: the cart total")
    w.deploy(fix, T0 + 8 * H)
    w.deploy(fix, T0 + 9 * H, application="cart")  # its first deployment ships its head only
    later = w.change(T0 + DAY)
    w.deploy(later, T0 + DAY + H, application="cart")


def key_of(seq: int | None) -> str | None:
    return None if seq is None else Entry.objects.get(seq=seq).idempotency_key


def rows() -> list[tuple]:
    """The rows by what they mean: entries by their idempotency key, not by seq (the order decides seqs)."""
    out = []
    for r in ShippedChange.objects.select_related("deployment").order_by("deployment__identity", "position"):
        out.append(
            (
                r.deployment.identity,
                r.environment,
                r.application,
                r.deployed_at,
                r.position,
                r.repository,
                r.number,
                r.title,
                r.merged_at,
                r.opened_at,
                key_of(r.entry_seq),
                r.first_approval_at,
                key_of(r.first_approval_seq),
                r.lead_seconds,
                r.review_seconds,
                r.delivery_seconds,
                r.approval_seconds,
                r.approval_to_merge_seconds,
            )
        )
    return out


def derived_now() -> list[tuple]:
    """What the rule gives from the rows projected now, computed directly (as the metrics did per call)."""
    out = []
    for environment in sorted(set(Deployment.objects.values_list("environment", flat=True))):
        history = Deployment.objects.filter(environment=environment)
        live = load_live(history)
        shipped = ship_history(live, live_query(history))
        approved = first_approvals({p[0] for pulls in shipped.values() for p in pulls})
        for d in live:
            for position, p in enumerate(shipped.get(d.id, ())):
                out.append((d.identity, position, p[3], approved.get(p[0], (None, None))[1]))
    return sorted(out)


def figures() -> dict:
    report = dora_figures("prod", since=T0 - DAY, until=T0 + 7 * DAY)
    answer = report.as_json()
    for sample in answer["samples"]:
        sample["entry_seqs"] = sorted(key_of(s) for s in sample["entry_seqs"])
        sample["detail"].pop("deployment", None)  # a row id: the order decides it
        sample["detail"].pop("restored_by", None)
        sample["detail"].pop("by", None)
        for cause in sample["detail"].get("causes", []):
            cause.pop("by", None)
    return answer


def test_it_keeps_what_the_rule_derives_from_the_projected_history():
    w = World()
    history(w)
    w.append()
    kept = sorted((r[0], r[4], r[6], r[12]) for r in rows())
    expected = [(identity, position, number, key_of(seq)) for identity, position, number, seq in derived_now()]
    assert kept == expected
    assert len(kept) == 6
    assert not ShippingMark.objects.exists()  # each mark is consumed by the run that left it


def test_a_rebuild_gives_the_same_rows_and_the_same_figures():
    w = World()
    history(w)
    w.append()
    before, answer = rows(), figures()
    ShippedChange.objects.all().delete()  # whatever was kept: the rebuild derives it again
    rebuild_all()
    assert rows() == before
    assert figures() == answer


def shipped_by_time() -> list[tuple]:
    """Per live deployment (application, time after T0, outcome): the numbers of the changes it shipped."""
    by: dict[int, tuple[tuple, list[int]]] = {}
    for d in Deployment.objects.filter(outcome__in=("succeeded", "rolled_back")).order_by("finished_at"):
        by[d.id] = ((d.application, d.finished_at - T0, d.outcome), [])
    for r in ShippedChange.objects.order_by("deployment", "position"):
        by[r.deployment_id][1].append(r.number)
    return sorted(by.values())


def test_it_ships_each_change_once_in_the_story():
    w = World()
    history(w)
    w.append()
    assert shipped_by_time() == IN_THE_STORY
    # Unplanned: the two rollbacks and the hotfix in each application; failed: what each rolled
    # back, and what the payments hotfix followed.
    assert unplanned() == {"rework_rate": 4, "change_fail_rate": 3}


IN_THE_STORY = [
    (("cart", 9 * H, "succeeded"), [4]),  # the application's first deployment: its head only
    (("cart", DAY + H, "succeeded"), [5]),
    (("payments", H, "succeeded"), [1]),
    (("payments", 4 * H, "succeeded"), [2, 3]),
    (("payments", 5 * H, "rolled_back"), []),
    (("payments", 6 * H, "rolled_back"), []),  # #3 again, after the rollback: shipped already
    (("payments", 8 * H, "succeeded"), [4]),
]


def unplanned() -> dict[str, int]:
    metrics = figures()["metrics"]
    return {
        "rework_rate": metrics["rework_rate"]["unplanned"],
        "change_fail_rate": metrics["change_fail_rate"]["failed"],
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_the_rows_do_not_depend_on_the_order_entries_arrive_in(seed):
    w = World()
    history(w)
    records = list(w.records)
    random.Random(seed).shuffle(records)
    for record in records:  # each its own projection run, as webhook deliveries come
        w.records = [record]
        w.append()
    assert shipped_by_time() == IN_THE_STORY
    assert unplanned() == {"rework_rate": 4, "change_fail_rate": 3}
    kept = rows()
    assert sorted((r[0], r[4], r[6], r[12]) for r in kept) == [(i, p, n, key_of(s)) for i, p, n, s in derived_now()]
    answer = figures()
    rebuild_all()
    assert rows() == kept
    assert figures() == answer


def test_a_pull_request_recorded_after_its_deployment_is_shipped_then():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    b = w.change(T0 + 2 * H)
    late = w.records.pop(-2)  # #2's pull request entry, not its review
    w.deploy(b, T0 + 3 * H)
    w.append()
    assert [r[6] for r in rows() if r[3] == T0 + 3 * H] == []  # its head is not known yet
    w.records = [late]
    w.append()
    assert [r[6] for r in rows() if r[3] == T0 + 3 * H] == [2]
    assert figures()["metrics"]["change_lead_time"]["samples"] == 2


@pytest.mark.parametrize(
    "written",
    ["{}", "main@sha1:{}", "{},0000000000000000000000000000000000000000", "HEAD/{}"],
    ids=["one-sha", "flux", "two-sources", "flux-old"],
)
def test_a_pull_request_recorded_after_the_first_deployment_naming_it_is_shipped_then(written):
    """Nothing shipped from its repository yet: only the revision naming its commit says which series."""
    w = World()
    b = w.change(T0 + 2 * H)
    late = w.records.pop(-2)  # the pull request entry, not its review
    w.deploy(written.format(b), T0 + 3 * H)
    w.append()
    assert rows() == []
    w.records = [late]
    w.append()
    assert [(r[3], r[6]) for r in rows()] == [(T0 + 3 * H, 1)]


def test_a_change_merged_inside_a_range_and_recorded_late_ships_with_the_deployment_after_it():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    w.change(T0 + 2 * H)
    middle = w.records[-2:]  # #2 and its review
    del w.records[-2:]
    c = w.change(T0 + 3 * H)
    w.deploy(c, T0 + 4 * H)
    w.append()
    assert [r[6] for r in rows() if r[3] == T0 + 4 * H] == [3]
    w.records = middle
    w.append()
    assert [r[6] for r in rows() if r[3] == T0 + 4 * H] == [2, 3]
    assert sorted((r[0], r[4], r[6], r[12]) for r in rows()) == [(i, p, n, key_of(s)) for i, p, n, s in derived_now()]


def test_a_deployment_recorded_late_takes_its_changes_from_the_one_after_it():
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    b = w.change(T0 + 2 * H)
    w.deploy(b, T0 + 3 * H)
    late = w.records.pop()
    c = w.change(T0 + 4 * H)
    w.deploy(c, T0 + 5 * H)
    w.append()
    assert [r[6] for r in rows() if r[3] == T0 + 5 * H] == [2, 3]
    w.records = [late]
    w.append()
    assert [r[6] for r in rows() if r[3] == T0 + 3 * H] == [2]
    assert [r[6] for r in rows() if r[3] == T0 + 5 * H] == [3]


def test_an_earlier_approval_recorded_late_becomes_the_first_approval():
    w = World()
    a = w.change(T0, opened=10 * H, approved=2 * H)  # approved at T0-2h
    w.deploy(a, T0 + H)
    w.append()
    (row,) = ShippedChange.objects.all()
    assert (row.first_approval_at, row.approval_seconds) == (T0 - 2 * H, 8 * 3600)
    review = Approval.objects.get()
    w._add(
        "github.review",
        "github:acme/payments",
        "github:review:late",
        {
            "repository": "acme/payments",
            "number": 1,
            "id": 7,
            "state": "APPROVED",
            "reviewer": "carol",
            "commit_id": "0" * 40,
            "submitted_at": "2026-03-02T02:00:00Z",  # T0-7h, before bob's
        },
        T0 + 2 * H,
        "github-acme",
    )
    seqs = w.append()
    row.refresh_from_db()
    assert (row.first_approval_at, row.first_approval_seq) == (T0 - 7 * H, seqs[0])
    assert (row.approval_seconds, row.approval_to_merge_seconds) == (3 * 3600, 7 * 3600)
    lead = next(s for s in dora_figures("prod", T0 - DAY, T0 + DAY).samples if s.metric == "change_lead_time")
    assert lead.detail["review_to_first_approval"] == 3 * 3600
    assert seqs[0] in lead.entry_seqs and review.entry_seq not in lead.entry_seqs
