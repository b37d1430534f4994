"""An existing database, migrated across the split of `evidence` into sources, readmodels and compliance:
its rows stay where they were and are read through the new apps' models, foreign keys included,
and no content type (nor a group's permission) is left on the old `evidence` app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from evidence.compliance.models import Finding
from evidence.core.access import grant_all
from evidence.core.permissions import AUDITORS, ENGINEERS
from evidence.readmodels.models import Deployment, DeploymentImage, PullRequest
from evidence.sources.models import HarvestRun, Source

# The last state before the split (check with `manage.py showmigrations`): the new apps unapplied.
BEFORE_SPLIT = [
    ("evidence", "0008_projection_errors"),
    ("ledger", "0002_append_only"),
    ("exports", "0001_initial"),
    ("sources", None),
    ("readmodels", None),
    ("compliance", None),
]
T = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)


def migrate(targets):
    """Migrate the test database to targets; returns the historical apps of that state."""
    executor = MigrationExecutor(connection)
    if targets is None:
        targets = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    applied = [(app, name) for app, name in targets if name is not None]
    return MigrationExecutor(connection).loader.project_state(applied).apps


def write_old_rows(apps) -> dict[str, int]:
    """What an engineer's old database held, written with the models as they were before the split."""
    old = {name: apps.get_model("evidence", name) for name in ("Source", "HarvestRun", "Deployment")}
    source = old["Source"].objects.create(name="acme-argocd", kind="argocd", url="https://argocd.example.com")
    run = old["HarvestRun"].objects.create(source=source, target="acme/payments", started_at=T, status="ok")
    deployment = old["Deployment"].objects.create(
        identity="argocd:prod:payments:41",
        controller="argocd",
        source="acme-argocd",
        subject="argocd/prod/payments",
        environment="prod",
        application="payments",
        revision="a" * 40,
        started_at=T,
        outcome="succeeded",
        first_seq=7,
    )
    image = apps.get_model("evidence", "DeploymentImage").objects.create(
        deployment=deployment,
        digest="sha256:" + "b" * 64,
        image="registry.example.com/acme/payments",
        origin="sync",
        entry_seq=7,
    )
    pull = apps.get_model("evidence", "PullRequest").objects.create(
        forge="github", repository="acme/payments", number=12, base="main", source="acme-github", entry_seq=3
    )
    finding = apps.get_model("evidence", "Finding").objects.create(
        deployment=deployment,
        key="f" * 64,
        environment="prod",
        application="payments",
        deployed_at=T,
        code="unsigned-image",
        severity="high",
        explanation="no signature on the image",
        entry_seqs=[7],
    )
    return {
        "source": source.pk,
        "run": run.pk,
        "deployment": deployment.pk,
        "image": image.pk,
        "pull": pull.pk,
        "finding": finding.pk,
    }


@pytest.fixture
def before_split(committed_db):
    """The database as the last release left it: the old app's rows, content types and grants."""
    apps = migrate(BEFORE_SPLIT)
    grant_all(apps, connection.alias)  # as evidence.0006_groups and post_migrate did then
    ContentType.objects.clear_cache()
    yield apps
    migrate(None)  # the latest state again, even when the test stopped before migrating forward
    ContentType.objects.clear_cache()


def test_it_reads_the_old_rows_through_the_new_apps_after_migrating(before_split):
    ids = write_old_rows(before_split)
    assert ContentType.objects.filter(app_label="evidence", model="deployment").exists()

    migrate(None)

    source = Source.objects.get(pk=ids["source"])
    assert (source.name, source.kind) == ("acme-argocd", "argocd")
    run = HarvestRun.objects.get(pk=ids["run"])
    assert run.source == source and run.target == "acme/payments"
    deployment = Deployment.objects.get(pk=ids["deployment"])
    assert (deployment.environment, deployment.application, deployment.started_at) == ("prod", "payments", T)
    assert list(deployment.images.values_list("pk", "digest")) == [(ids["image"], "sha256:" + "b" * 64)]
    assert DeploymentImage.objects.get(pk=ids["image"]).deployment == deployment
    assert PullRequest.objects.get(pk=ids["pull"]).repository == "acme/payments"
    finding = Finding.objects.get(pk=ids["finding"])
    assert finding.deployment == deployment and finding.code == "unsigned-image"
    assert list(deployment.findings.all()) == [finding]


def test_it_leaves_no_content_type_or_grant_on_the_old_app(before_split):
    from django.contrib.auth.models import Group

    assert Group.objects.get(name=AUDITORS).permissions.filter(content_type__app_label="evidence").exists()

    migrate(None)

    assert list(ContentType.objects.filter(app_label="evidence").values_list("model", flat=True)) == []
    for group in (AUDITORS, ENGINEERS):
        assert not Group.objects.get(name=group).permissions.filter(content_type__app_label="evidence").exists()
