"""fetch_together: the rows of several querysets in one round trip (PostgreSQL), exactly as the ORM
would give them one by one."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F, OuterRef, Subquery
from django.test.utils import CaptureQueriesContext

from evidence.core.fetch import fetch_together
from evidence.readmodels.models import Deployment, DeploymentImage

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _world() -> None:
    for n in range(3):
        d = Deployment.objects.create(
            identity=f"argocd:app{n}:{n}",
            controller="argocd",
            source="argocd",
            subject=f"argocd:app{n}",
            environment="prod",
            application=f"app{n}",
            revision=f"{n:040x}",
            image_refs=[f"reg/app{n}:1.{n}", "50% off"],  # a literal % in the data, not a placeholder
            image_digests=[f"sha256:{n:064x}"],
            started_at=T0 + timedelta(hours=n),
            finished_at=None if n == 2 else T0 + timedelta(hours=n, minutes=3),
            outcome="succeeded",
            message="it's 100%",
            entry_seqs=[n + 1],
            first_seq=n + 1,
        )
        DeploymentImage.objects.create(deployment=d, digest=f"sha256:{n:064x}", origin="controller", entry_seq=n + 1)


def _fields(objects: list) -> list:
    return [{k: v for k, v in vars(o).items() if k != "_state"} if hasattr(o, "_state") else o for o in objects]


def _querysets():
    first_image = DeploymentImage.objects.filter(deployment_id=OuterRef("id")).values("digest")[:1]
    return (
        Deployment.objects.filter(message__contains="100%").order_by("id"),  # a % in a parameter
        Deployment.objects.annotate(first_digest=Subquery(first_image), hour=F("first_seq")).order_by("-id"),
        Deployment.objects.filter(id__in=[]),  # the ORM asks nothing: neither do we
        DeploymentImage.objects.order_by("digest").only("id", "digest", "deployment_id"),
        Deployment.objects.filter(application="app0")
        .order_by()
        .values_list("application", "started_at")
        .union(
            Deployment.objects.filter(application="app2").order_by().values_list("application", "finished_at"),
            all=True,
        )
        .order_by("application"),
    )


def test_it_gives_the_same_rows_as_evaluating_each_queryset():
    _world()
    together = fetch_together(*_querysets())
    alone = [list(qs) for qs in _querysets()]
    assert [_fields(rows) for rows in together] == [_fields(rows) for rows in alone]
    assert [len(rows) for rows in together] == [3, 3, 0, 3, 2]
    # Converters applied as the ORM applies them: JSON decoded, times aware, annotations set.
    assert together[0][0].image_refs == ["reg/app0:1.0", "50% off"]
    assert together[1][0].first_digest == f"sha256:{2:064x}"
    assert together[4] == [("app0", T0), ("app2", None)]
    # Deferred fields stay deferred, and load when read, as with the ORM.
    assert together[3][0].get_deferred_fields() == {"image", "origin", "entry_seq"}
    assert together[3][0].origin == "controller"


def test_it_reads_them_in_one_round_trip_on_postgresql_and_one_by_one_elsewhere():
    _world()
    with CaptureQueriesContext(connection) as captured:
        fetch_together(*_querysets())
    # Four querysets ask the database (the empty `__in` asks nothing).
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 4)
