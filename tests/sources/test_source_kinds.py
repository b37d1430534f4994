"""One registry lists every kind of source; each resolves its harvester, schema and webhook receiver."""

from __future__ import annotations

import pytest
from django.test import Client

from evidence.readmodels.models import Approval, ProtectionObservation, ProtectionSnapshot, PullRequest
from evidence.sources import kinds
from evidence.sources.admin import SourceForm
from evidence.sources.forges.base import Approvals, Change, Dismissal, Protection
from evidence.sources.harvesters import Harvester, HarvestError
from evidence.sources.kinds import get_harvester
from evidence.sources.schemas import SourceConfig
from evidence.sources.sources_file import parse_sources

EVERY_KIND = ["github", "gitlab", "oci", "argocd", "flux", "kubernetes"]


def test_it_lists_every_kind_once():
    assert list(kinds.KINDS) == EVERY_KIND
    assert [k.name for k in kinds.KINDS.values()] == EVERY_KIND
    assert list(kinds.FORGES) == ["github", "gitlab"]
    # What needs the list reads it from the registry: the Source form's choices and the read models'.
    assert [value for value, _ in SourceForm.base_fields["kind"].choices] == EVERY_KIND
    for model in (PullRequest, Approval, ProtectionSnapshot, ProtectionObservation):
        assert list(model._meta.get_field("forge").choices) == [("github", "GitHub"), ("gitlab", "GitLab")], model


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_it_resolves_each_kinds_harvester_and_schema(kind):
    harvester = get_harvester(kind)
    schema = kinds.KINDS[kind].schema

    assert isinstance(harvester, Harvester) and harvester.kind == kind
    assert issubclass(schema, SourceConfig) and schema.model_config["extra"] == "forbid"
    assert schema.model_validate({}) is not None  # nothing is required: an empty config is valid
    assert parse_sources(f"- {{name: a-{kind}, kind: {kind}}}\n", "test") == [{"name": f"a-{kind}", "kind": kind}]


def test_it_refuses_a_kind_it_does_not_list():
    with pytest.raises(HarvestError, match="no harvester for sources of kind 'bitbucket'"):
        get_harvester("bitbucket")
    assert kinds.check_config("bitbucket", {}) == f"'kind' must be one of {', '.join(sorted(EVERY_KIND))}"


def test_it_reads_every_forge_entry_kind_into_one_kind_of_record():
    assert kinds.entry_kinds(Change) == ["github.pull_request", "gitlab.merge_request"]
    assert kinds.entry_kinds(Approvals) == ["github.review", "gitlab.approval"]
    assert kinds.entry_kinds(Dismissal) == ["github.review_dismissal"]
    assert kinds.entry_kinds(Protection) == ["github.branch_protection", "gitlab.protected_branch"]


@pytest.mark.parametrize(
    ("forge", "header"),
    [("github", "missing X-Hub-Signature-256"), ("gitlab", "missing X-Gitlab-Token")],
)
def test_it_routes_each_forges_webhook_to_its_receiver(db, forge, header):
    receiver = kinds.FORGES[forge].load_receiver()
    assert receiver.__qualname__.startswith("Receiver.view") and receiver.__module__ == "evidence.sources.webhooks.base"

    answer = Client(enforce_csrf_checks=True).post(f"/hooks/{forge}/", b"{}", content_type="application/json")

    assert answer.status_code == 401  # the forge's own receiver answered, past CSRF (a webhook has none)
    assert header in answer.json()["detail"]
