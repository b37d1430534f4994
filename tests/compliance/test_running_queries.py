"""The query forms Kosli users know: prod@{3.weeks.ago}, prod#N, prod~N, relative times; a form that
cannot be read is a 400 naming it, an unknown environment a 404 listing the known ones."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from devkit.sandbox.argocd import application, history_item
from evidence.compliance.running import BadTime, UnknownEnvironment, parse_at, parse_query, resolve
from tests.support.gitops import at, digest, record_argocd, sha

pytestmark = pytest.mark.usefixtures("projected")
REPO = "https://git.example.test/acme/deploy.git"
NOW = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)


@pytest.fixture
def prod(db):
    """payments: revisions 1, 2, 3 at minutes 10, 20, 30; cart: revision 7 at minute 15."""
    history = [history_item(i, sha(i), at(m - 1), at(m), REPO) for i, m in ((1, 10), (2, 20), (3, 30))]
    record_argocd(application("payments", history=history, images=[f"r.example.test/p@{digest(3)}"]), "prod")
    cart = [history_item(1, sha(7), at(14), at(15), REPO)]
    record_argocd(application("cart", history=cart, images=[f"r.example.test/c@{digest(7)}"]), "prod")


def test_it_splits_the_query_forms():
    assert parse_query("prod") == ("prod", None)
    assert parse_query("prod@{3.weeks.ago}") == ("prod", "3.weeks.ago")
    assert parse_query("prod@{2026-03-01T12:00Z}") == ("prod", "2026-03-01T12:00Z")
    assert parse_query("prod#42") == ("prod", "#42")
    assert parse_query(" prod~2 ") == ("prod", "~2")
    for bad in ("prod@{yesterday", "prod#", "prod~x", "@{now}"):
        with pytest.raises(BadTime, match=r"expected ENV, ENV@\{TIME\}, ENV#N or ENV~N"):
            parse_query(bad)


def test_it_reads_relative_times_as_people_write_them(db):
    assert parse_at("yesterday", "prod", now=NOW) == NOW - timedelta(days=1)
    assert parse_at("today", "prod", now=NOW) == datetime(2026, 3, 31, tzinfo=UTC)
    assert parse_at("3.weeks.ago", "prod", now=NOW) == NOW - timedelta(weeks=3)
    assert parse_at("3 weeks ago", "prod", now=NOW) == NOW - timedelta(weeks=3)
    assert parse_at("1.day.ago", "prod", now=NOW) == NOW - timedelta(days=1)
    assert parse_at("2 months ago", "prod", now=NOW) == datetime(2026, 1, 31, 15, 30, tzinfo=UTC)
    assert parse_at("1 month ago", "prod", now=NOW) == datetime(2026, 2, 28, 15, 30, tzinfo=UTC)  # calendar month
    assert parse_at("1.year.ago", "prod", now=NOW) == datetime(2025, 3, 31, 15, 30, tzinfo=UTC)
    assert parse_at("@{2026-03-01}", "prod") == datetime(2026, 3, 1, tzinfo=UTC)


def test_it_counts_snapshots_from_the_first_and_deployments_back_from_the_latest(prod):
    # snapshots in order: payments 1 (10), cart (15), payments 2 (20), payments 3 (30)
    assert resolve("prod#1") == ("prod", at(10))
    assert resolve("prod#2") == ("prod", at(15))
    assert resolve("prod#4") == ("prod", at(30))
    assert resolve("prod~0") == ("prod", at(30))
    assert resolve("prod~3") == ("prod", at(10))
    assert resolve("prod", "#3") == ("prod", at(20))
    assert resolve("prod@{2026-03-01T09:16Z}") == ("prod", datetime(2026, 3, 1, 9, 16, tzinfo=UTC))
    with pytest.raises(BadTime, match="snapshots are numbered from #1"):
        resolve("prod#0")
    with pytest.raises(BadTime, match="has only 4 deployments"):
        resolve("prod#5")
    with pytest.raises(BadTime, match="already says when"):
        resolve("prod~1", "now")


def test_it_answers_a_query_form_in_the_api(auditor, prod):
    body = auditor.get("/api/v1/running/", {"environment": "prod#3"}).json()
    assert {a["application"]: a["revision"] for a in body["applications"]} == {"payments": sha(2), "cart": sha(7)}
    body = auditor.get("/api/v1/running/", {"environment": "prod", "at": "~3"}).json()
    assert {a["application"]: a["revision"] for a in body["applications"]} == {"payments": sha(1)}
    diff = auditor.get("/api/v1/running/diff/", {"from_environment": "prod#1", "to_environment": "prod~0"}).json()
    assert [a["application"] for a in diff["added"]] == ["cart"]
    assert [(c["from"]["revision"], c["to"]["revision"]) for c in diff["changed"]] == [(sha(1), sha(3))]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"environment": "prod", "at": "last tuesday"}, "expected an ISO 8601 time"),
        ({"environment": "prod@{soon"}, "ENV@{TIME}"),
        ({"environment": "prod", "at": "~99999999999999999999999"}, "has only 4 deployments"),
        ({"environment": "prod#99999999999999999999999"}, "has only 4 deployments"),
        ({"environment": "prod", "at": "999999999999 years ago"}, "too far back"),
        ({"environment": "prod", "at": "99999999999 weeks ago"}, "too far back"),
        ({"environment": "prod", "at": "9999999999999999 days ago"}, "expected an ISO 8601 time"),
        ({"environment": "prod", "at": "99999-01-01"}, "expected an ISO 8601 time"),
    ],
)
def test_it_answers_400_naming_the_form_for_what_it_cannot_read(auditor, prod, params, named):
    response = auditor.get("/api/v1/running/", params)
    assert response.status_code == 400, response.content
    assert named in response.json()["detail"]


def test_it_answers_404_listing_the_known_environments(auditor, prod):
    history = [history_item(1, sha(9), at(1), at(2), REPO)]
    record_argocd(application("payments", history=history), "staging", source="argo-staging")
    response = auditor.get("/api/v1/running/", {"environment": "prdo", "at": "now"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "unknown environment 'prdo'; known environments: prod, staging",
        "known_environments": ["prod", "staging"],
    }
    assert auditor.get("/api/v1/running/", {"environment": "prdo~1"}).status_code == 404
    assert auditor.get("/api/v1/running/diff/", {"from_environment": "prod", "to_environment": "qa"}).status_code == 404


def test_the_command_takes_the_query_forms_and_fails_in_one_line(prod):
    out = io.StringIO()
    call_command("running", "prod#3", stdout=out)
    assert f"payments  {sha(2)[:12]}" in out.getvalue()
    with pytest.raises(CommandError, match=r"^running: unknown environment 'prdo'; known environments: prod$"):
        call_command("running", "prdo", stdout=io.StringIO())
    with pytest.raises(CommandError, match=r"^running: at '~9': environment 'prod' has only 4 deployments$"):
        call_command("running", "prod~9", stdout=io.StringIO())
    with pytest.raises(UnknownEnvironment):
        resolve("nowhere")
