"""Running intervals: each live deployment runs from its finish until the next one's, whatever order
the entries are projected in, and running-at answers from them as a query over deployments would."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from devkit.sandbox.argocd import application, history_item, operation_state
from evidence.compliance.running import running_at
from evidence.readmodels.models import Deployment, DeploymentCommit, RunningInterval
from evidence.readmodels.projectors import _PROJECTORS, projection_models
from evidence.readmodels.projectors.deployments.intervals import commit_shas, refresh_intervals
from ledger.models import Entry
from tests.support.gitops import at, digest, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")
REPO = "https://git.example.test/acme/deploy.git"


def deploy(name: str, environment: str, items: list[tuple[int, int, int]], **kwargs) -> None:
    history = [history_item(i, sha(r), at(m - 1), at(m), REPO) for i, r, m in items]
    images = [f"registry.example.test/acme/{name}@{digest(items[-1][1])}"]
    record_argocd(application(name, history=history, images=images, **kwargs), environment)


def intervals() -> list[tuple]:
    """The rows by what they mean (deployment identity, not ids, which depend on the order)."""
    rows = RunningInterval.objects.values_list(
        "environment", "application", "deployment__identity", "started", "ended"
    ).order_by("environment", "application", "started")
    return list(rows)


def story() -> None:
    deploy("payments", "prod", [(1, 1, 10), (2, 2, 20), (3, 1, 30)])
    failed = operation_state("Error", sha(5), at(40), at(41), "timeout")
    deploy("cart", "prod", [(1, 7, 15), (2, 8, 35)], operation=failed)
    deploy("payments", "staging", [(1, 3, 12)])


def test_it_runs_each_live_deployment_until_the_next_one(db):
    story()
    assert [(app, started, ended) for env, app, _, started, ended in intervals() if env == "prod"] == [
        ("cart", at(15), at(35)),
        ("cart", at(35), None),
        ("payments", at(10), at(20)),
        ("payments", at(20), at(30)),
        ("payments", at(30), None),
    ]
    failed = Deployment.objects.get(revision=sha(5))
    assert failed.outcome == "failed" and not RunningInterval.objects.filter(deployment=failed).exists()
    copied = ["revision", "image_digests", "running_since", "outcome", "controller", "entry_seqs"]
    for row in RunningInterval.objects.select_related("deployment"):
        assert [getattr(row, c) for c in copied] == [getattr(row.deployment, c) for c in copied]
        assert row.started == row.deployment.finished_at
    assert RunningInterval.objects.get(deployment__external_id="3", application="payments").outcome == "rolled_back"


def test_it_gives_the_same_rows_in_any_projection_order_and_after_a_rebuild(db):
    story()
    expected = intervals()
    call_command("rebuild_projections", stdout=io.StringIO())
    assert intervals() == expected
    entries = list(Entry.objects.order_by("seq"))
    for seed in (1, 2, 3):
        for model in reversed(projection_models()):
            model.objects.all().delete()
        random.Random(seed).shuffle(entries)
        for entry in entries:
            for project in _PROJECTORS.get(entry.kind, ()):
                project(entry)
        assert intervals() == expected, f"order {seed}"


def test_it_writes_only_what_changed(db):
    story()
    assert refresh_intervals() == 0  # derived again from the same deployments: nothing to write
    RunningInterval.objects.filter(application="cart").delete()
    assert refresh_intervals("prod") == 2
    assert refresh_intervals() == 0


def test_it_answers_running_at_as_a_query_over_deployments_would(db):
    """Random histories (ties, failures, several environments): the interval answer equals the
    latest live deployment by finish time, for many moments."""
    rng = random.Random(5)
    for n, name in enumerate(["a", "b", "c", "d"]):
        items, minute = [], 0
        for i in range(1, 8):
            minute += rng.choice([0, 3, 7])  # 0: two deployments finish at the same minute
            items.append((i, 10 * n + i, minute + 1))
        deploy(name, rng.choice(["prod", "staging"]), items)
    for minute in range(0, 60, 2):
        for environment in ("prod", "staging"):
            expected = {}
            for row in Deployment.objects.filter(environment=environment, finished_at__lte=at(minute)).order_by(
                "finished_at", "id"
            ):
                if row.outcome in ("succeeded", "degraded", "rolled_back"):
                    expected[row.application] = row.id
            answer = {a.application: a.deployment for a in running_at(environment, at(minute)).applications}
            assert answer == expected, (environment, minute)


def test_it_reads_the_intervals_through_their_index(db):
    """PostgreSQL: one scan of the GiST index on (environment, period); SQLite: one probe per application."""
    from evidence.compliance.running import RUNNING_SQL

    story()
    sql = RUNNING_SQL.get(connection.vendor, RUNNING_SQL["default"]).format(
        apps="evidence_deployedapplication", deployments="evidence_deployment", intervals="readmodels_runninginterval"
    )
    when = connection.ops.adapt_datetimefield_value(at(25) + timedelta(seconds=1))
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:  # a table this small is best read otherwise: leave the planner only the GiST index
            cursor.execute("SET LOCAL enable_seqscan = off")
            for name in ("running_env_app_started", "running_env_started", "running_now"):
                cursor.execute(f"DROP INDEX {name}")  # undone with the test's transaction
        cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, {"env": "prod", "at": when})
        plan = "\n".join(str(row[-1] if not postgres else row[0]) for row in cursor.fetchall())
    assert ("running_env_period" if postgres else "running_env_app_started") in plan, plan


def test_it_links_each_deployment_to_the_commits_its_revision_names(db):
    assert commit_shas(sha(1)) == [sha(1)]
    assert commit_shas(f"main@sha1:{sha(2)}") == [sha(2)]
    assert commit_shas(f"main/{sha(3)}") == [sha(3)]
    assert commit_shas(f"{sha(4)},{sha(1)}") == sorted([sha(1), sha(4)])
    assert commit_shas("1.4.2") == [] and commit_shas(f"latest@{digest(1)}") == []
    deploy("payments", "prod", [(1, 1, 10), (2, 2, 20)])
    assert set(DeploymentCommit.objects.values_list("deployment__revision", "sha")) == {
        (sha(1), sha(1)),
        (sha(2), sha(2)),
    }
