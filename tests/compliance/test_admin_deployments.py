"""The deployments list an auditor searches and filters, and a deployment's page with its chain of custody."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.compliance.admin.deployments import DeploymentAdmin
from evidence.compliance.custody import build_custody
from evidence.compliance.labels import status_label, verdict_label
from evidence.compliance.models import DeploymentVerdict, Finding
from evidence.readmodels.models import Deployment
from tests.support.admin_world import build_world
from tests.support.gitops import digest, sha

LIST = "/admin/readmodels/deployment/"


@pytest.fixture
def two(db, projected):
    """Deployment 1 of sha(101), which no pull request merged; deployment 2 of sha(1), PR #42."""
    return build_world(deployments=2)


def found(client, **params) -> set[str]:
    page = client.get(LIST, params)
    assert page.status_code == 200
    text = page.content.decode()
    return {name for name, rev in (("pr42", sha(1)), ("direct", sha(101))) if rev in text}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (digest(1), {"pr42"}),  # the image the current sync names
        (digest(2), set()),
        (sha(1)[:10], {"pr42"}),  # commit SHA prefix
        ("42", {"pr42"}),  # pull request number
        ("#42", {"pr42"}),
        ("acme/payments#42", {"pr42"}),
        ("acme/other#42", set()),
        ("erin", {"pr42"}),  # author
        ("frank", {"pr42"}),  # merged it
        ("grace", {"pr42"}),  # approved it
        ("dave", {"pr42", "direct"}),  # started both syncs
        ("mallory", set()),
    ],
)
def test_it_searches_by_digest_commit_pull_request_and_person(client, two, auditor, query, expected):
    client.force_login(auditor.user)
    assert found(client, q=query) == expected


def test_it_lists_each_deployment_with_its_pull_request_and_findings(client, two, auditor):
    client.force_login(auditor.user)
    text = client.get(LIST).content.decode()
    rows = text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    by_revision = {rev: next(r for r in rows if rev in r) for rev in (sha(1), sha(101))}
    pull = two.pull
    link = f'<a href="/admin/readmodels/pullrequest/{pull.pk}/change/" title="acme/payments#42">payments#42</a>'
    assert link in by_revision[sha(1)]
    assert '<td class="field-pull_request_link">-</td>' in by_revision[sha(101)]
    for revision, row in by_revision.items():
        count = Finding.objects.filter(deployment__revision=revision).count()
        assert count and f">{count}</a></td>" in row
        judged = DeploymentVerdict.objects.get(deployment__revision=revision)
        badge = f'<span class="verdict verdict-{judged.verdict}">{verdict_label(judged.verdict)}</span>'
        assert f'<span title="{judged.reason}">{badge}</span>' in row


def test_it_filters_by_environment_application_outcome_period_and_findings(client, two, auditor):
    client.force_login(auditor.user)
    assert found(client, environment="prod") == {"pr42", "direct"}
    assert found(client, environment="staging") == set()
    assert found(client, application="payments", outcome="succeeded") == {"pr42", "direct"}
    assert found(client, outcome="failed") == set()
    assert found(client, started_at__gte="2026-03-01", started_at__lt="2026-03-02") == {"pr42", "direct"}
    assert found(client, started_at__gte="2026-04-01") == set()
    # The filter reads the judged Finding rows: clear PR #42's to have one of each.
    # No forge harvest is in this ledger, so the missing pull request is a gap, not a direct push.
    assert Finding.objects.filter(deployment__revision=sha(101), code="evidence_gap").exists()
    Finding.objects.filter(deployment__revision=sha(1)).delete()
    assert found(client, findings="yes") == {"direct"}
    assert found(client, findings="no") == {"pr42"}


def test_it_shows_the_chain_of_custody_on_the_deployment_page(client, two, auditor):
    client.force_login(auditor.user)
    deployment = Deployment.objects.get(revision=sha(1))
    chain = build_custody(deployment)
    page = client.get(f"{LIST}{deployment.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200 and "Chain of custody" in text
    assert len(chain.links) > 3
    for link in chain.links:
        assert link.name in text
        assert f'status-{link.status}">{status_label(link.status)}</span>' in text
        for seq in link.entry_seqs:
            assert f'href="/admin/ledger/entry/{seq}/change/"' in text
        if link.url:
            assert f'href="{link.url}"' in text
    assert "https://github.test/acme/payments/pull/42" in text


def test_it_runs_the_same_number_of_queries_for_any_page_size(client, db, projected, auditor, monkeypatch):
    client.force_login(auditor.user)
    build_world(deployments=30)
    counts = {}
    for size in (3, 30):
        monkeypatch.setattr(DeploymentAdmin, "list_per_page", size)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(LIST)
        assert page.status_code == 200 and len(page.context["cl"].result_list) == size
        counts[size] = len(queries)
    assert counts[3] == counts[30]
