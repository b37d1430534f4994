"""The Argo CD notifications webhook: authenticated, attributed, merged with what harvests see."""

from __future__ import annotations

import pytest

from devkit.sandbox.argocd import ArgoCDSandbox, application, history_item, notification_body
from evidence.compliance.running import running_at
from evidence.readmodels.models import Deployment, DeploymentGap
from evidence.sources.harvest import harvest_source
from ledger.models import Entry
from tests.support.gitops import ARGO_TOKEN, argocd_source, at, sha

pytestmark = pytest.mark.usefixtures("projected")

REPO = "https://git.example.test/acme/payments-deploy.git"
HOOK_TOKEN = "notifications-token-prod"


def deploys(first: int, last: int) -> list[dict]:
    """History items first..last, one an hour, each a new revision (Argo CD keeps the last ten)."""
    return [history_item(i, sha(i), at(60 * i), at(60 * i + 1), REPO) for i in range(first, last + 1)]


def post(client, body: bytes, token: str | None, query: str = ""):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post(f"/hooks/argocd/{query}", data=body, content_type="application/json", **headers)


@pytest.fixture
def prod(db, monkeypatch, settings):
    settings.ARGOCD_WEBHOOK_TOKEN = HOOK_TOKEN
    return argocd_source("http://127.0.0.1:9", monkeypatch)


def test_it_records_a_delivery_with_the_right_token(client, prod):
    body = notification_body(application("payments", history=deploys(1, 2)))
    response = post(client, body, HOOK_TOKEN)
    assert response.status_code == 202, response.content
    assert response.json()["source"] == "argo-prod"
    entry = Entry.objects.get(kind="argocd.webhook")
    assert (entry.source, entry.subject) == ("argo-prod", "argocd:payments")
    assert entry.data["environment"] == "prod"
    rows = list(Deployment.objects.order_by("started_at").values_list("external_id", "revision", "environment"))
    assert rows == [("1", sha(1), "prod"), ("2", sha(2), "prod")]


def test_it_refuses_a_wrong_token_and_writes_nothing(client, prod):
    response = post(client, notification_body(application("payments", history=deploys(1, 1))), "guess")
    assert response.status_code == 403
    assert "not accepted" in response.json()["detail"]
    assert not Entry.objects.exists()
    assert not Deployment.objects.exists()


def test_it_refuses_a_delivery_without_a_token(client, prod):
    response = post(client, notification_body(application("payments", history=deploys(1, 1))), None)
    assert response.status_code == 401
    assert "Authorization" in response.json()["detail"]
    assert not Entry.objects.exists()


def test_it_refuses_a_body_that_names_no_application(client, prod):
    response = post(client, b'{"app": {"status": {}}}', HOOK_TOKEN)
    assert response.status_code == 400
    assert "app.metadata.name" in response.json()["detail"]
    assert not Entry.objects.exists()


def test_it_attributes_a_delivery_to_the_source_whose_token_verified_it(client, prod, monkeypatch):
    monkeypatch.setenv("STAGING_HOOK_TOKEN", "notifications-token-staging")
    argocd_source(
        "http://127.0.0.1:9",
        monkeypatch,
        name="argo-staging",
        environment="staging",
        webhook_token_env="STAGING_HOOK_TOKEN",
    )
    body = notification_body(application("payments", history=deploys(1, 1)))
    assert post(client, body, "notifications-token-staging").json()["source"] == "argo-staging"
    assert Deployment.objects.get().environment == "staging"
    assert post(client, body, HOOK_TOKEN).json()["source"] == "argo-prod"
    assert set(Deployment.objects.values_list("source", "environment")) == {
        ("argo-staging", "staging"),
        ("argo-prod", "prod"),
    }


def test_it_keeps_one_deployment_seen_by_webhook_and_harvest(client, db, monkeypatch, settings):
    settings.ARGOCD_WEBHOOK_TOKEN = HOOK_TOKEN
    app = application("payments", history=deploys(1, 1))
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        argo.put(app)
        source = argocd_source(argo.url, monkeypatch)
        assert post(client, notification_body(app), HOOK_TOKEN).status_code == 202
        harvest_source(source)
    row = Deployment.objects.get()
    kinds = sorted(Entry.objects.filter(seq__in=row.entry_seqs).values_list("kind", flat=True))
    assert kinds == ["argocd.deployment", "argocd.manifests", "argocd.webhook"]  # the snapshot added nothing new


@pytest.mark.slow
def test_it_loses_nothing_when_history_rolls_over_but_the_webhook_saw_it(client, db, monkeypatch, settings):
    settings.ARGOCD_WEBHOOK_TOKEN = HOOK_TOKEN
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        source = argocd_source(argo.url, monkeypatch)
        argo.put(application("payments", history=deploys(1, 10)))
        harvest_source(source)
        for last in range(11, 23):  # twelve deployments between two harvests; each notified
            app = application("payments", history=deploys(last - 9, last))
            assert post(client, notification_body(app), HOOK_TOKEN).status_code == 202
        argo.put(application("payments", history=deploys(13, 22)))
        [run] = harvest_source(source)
    assert run.status == "succeeded", run.errors
    assert sorted(int(i) for i in Deployment.objects.values_list("external_id", flat=True)) == list(range(1, 23))
    assert not DeploymentGap.objects.exists()


def test_it_records_a_gap_when_history_rolled_over_unseen(db, monkeypatch):
    with ArgoCDSandbox(ARGO_TOKEN) as argo:
        source = argocd_source(argo.url, monkeypatch)
        argo.put(application("payments", history=deploys(1, 10)))
        harvest_source(source)
        argo.put(application("payments", history=deploys(13, 22)))
        [run] = harvest_source(source)
    assert run.status == "partial"
    assert "[11, 12] rolled over unseen" in run.errors[0]
    gap = DeploymentGap.objects.get()
    assert (gap.environment, gap.application, gap.missing) == ("prod", "payments", [11, 12])
    assert (gap.after, gap.before) == (at(601), at(780))
    entry = Entry.objects.get(seq=gap.entry_seq)  # derived, citing the entry that showed the rollover
    assert (entry.kind, entry.data["history"]["id"]) == ("argocd.deployment", 13)
    # An auditor asking about a time inside the gap is told the answer may be incomplete.
    [inside] = running_at("prod", at(700)).applications
    assert (inside.revision, inside.gap) == (sha(10), True)
    [after] = running_at("prod", at(790)).applications
    assert (after.revision, after.gap) == (sha(13), False)


def test_it_asks_which_source_when_two_share_the_token(client, prod, monkeypatch):
    argocd_source("http://127.0.0.1:9", monkeypatch, name="argo-dr", environment="dr")  # global token too
    body = notification_body(application("payments", history=deploys(1, 1)))
    response = post(client, body, HOOK_TOKEN)
    assert response.status_code == 400
    assert "?source=NAME" in response.json()["detail"]
    assert not Entry.objects.exists()
    response = post(client, body, HOOK_TOKEN, query="?source=argo-dr")
    assert (response.status_code, response.json()["source"]) == (202, "argo-dr")
    assert Deployment.objects.get().environment == "dr"


def test_it_refuses_deliveries_when_no_token_is_configured(client, db, monkeypatch, settings):
    settings.ARGOCD_WEBHOOK_TOKEN = ""
    argocd_source("http://127.0.0.1:9", monkeypatch)
    response = post(client, notification_body(application("payments", history=deploys(1, 1))), "")
    assert response.status_code == 401
    response = post(client, notification_body(application("payments", history=deploys(1, 1))), "anything")
    assert response.status_code == 403
    assert not Entry.objects.exists()
