"""The demo: a seeded, coherent world, `manage.py demo` harvesting it end to end, and a second run
over the same ledger that appends only harvest runs."""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter
from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command

from devkit.demo.run import DemoSandboxes, digest_of, moments
from devkit.demo.seeded import judge_seeded
from devkit.demo.world import ARGO_OUTAGE, END, START, build_world
from evidence.readmodels.models import (
    Approval,
    Deployment,
    DeploymentGap,
    DeploymentImage,
    PullRequest,
    PullRequestCommit,
    WorkloadSnapshot,
)
from ledger.models import Checkpoint, Entry

REGISTRY = shutil.which("docker-registry") or shutil.which("registry")
needs_registry = pytest.mark.skipif(
    REGISTRY is None, reason="docker-registry not installed (apt-get install -y docker-registry)"
)


def test_it_builds_the_same_world_from_the_same_seed():
    first, second = build_world(), build_world()
    assert first == second
    assert [digest_of(i) for i in first.images] == [digest_of(i) for i in second.images]
    assert build_world(seed=7).changes != first.changes


def test_it_spreads_a_few_hundred_merged_changes_over_the_quarter():
    world = build_world()
    assert 200 <= len(world.changes) <= 300
    assert all(START <= c.merged_at <= END for c in world.changes)
    assert {c.forge for c in world.changes} == {"github", "gitlab"}
    assert 20 <= len(world.images) <= 45
    assert 40 <= len(world.deployments) <= 80
    assert {d.environment for d in world.deployments} == {"staging", "prod"}
    built = {c.merge_commit for c in world.changes}
    # every image but the direct push and the ancestry cases' (built from a change's first commit, and
    # from its head before the merge) is built from a merge commit, and provenance says so
    orphans = sorted(i.tag for i in world.images if i.commit not in built)
    assert [t.rsplit("-", 1)[-1] for t in orphans] == ["wip", "preview", "hotfix"]


def test_it_gives_every_unseeded_change_the_approvals_its_protection_asks_for_at_the_merge():
    world = build_world()
    seeded = {c.revision for c in world.seeded if c.revision}
    for change in world.changes:
        if change.merge_commit in seeded:
            continue
        rules = [p for p in world.protections if p.repository == change.repository and p.since <= change.merged_at]
        required = rules[-1].settings["required_approving_review_count"] if rules else 1
        others = {login for login, commit in change.approvers if login != change.author and commit == change.head}
        assert len(others) >= required, f"{change.repository}#{change.number}"


def test_it_seeds_a_hotfix_a_revert_and_an_incident_for_the_dora_figures():
    world = build_world()
    titles = [c.title for c in world.changes]
    assert sum(t.startswith("Hotfix: ") for t in titles) == 1
    assert sum(t.startswith('Revert "') for t in titles) == 1
    [incident] = world.incidents
    assert incident.resolved_at - incident.started_at == timedelta(minutes=50)
    assert set(world.delivery_events) == {"hotfix", "revert", "incident"}


def test_it_seeds_each_violation_in_the_world():
    world = build_world()
    assert set(world.violations) >= {
        "direct-push",
        "author-approval",
        "stale-approval",
        "unsigned-image",
        "untrusted-key",
        "provenance-mismatch",
        "drift",
        "manual-sync",
        "evidence-gap",
        "rollback",
        "approver-committed",
        "author-merged",
        "direct-push-under-merge",
        "intermediate-commit",
        "deployed-before-merge",
        "author-deployed",
    }
    stale = [c for c in world.changes if any(commit != c.head for _, commit in c.approvers)]
    assert len(stale) == 1
    own = [c for c in world.changes if [login for login, _ in c.approvers] == [c.author]]
    assert len(own) == 1
    assert [i.signer for i in world.images].count("") == 1
    assert [i.signer for i in world.images].count("rogue") == 1
    assert len([i for i in world.images if i.claimed_commit != i.commit]) == 1
    assert len([d for d in world.deployments if d.failed]) == 1
    deployed = {digest_of(d.image) for d in world.deployments}
    assert world.drift is not None and digest_of(world.drift[1]) not in deployed
    # the outage swallows more payments-staging syncs than its history keeps
    lost = [d for d in world.deployments if d.app == "payments-staging" and ARGO_OUTAGE[0] <= d.at < ARGO_OUTAGE[1]]
    assert len(lost) > 2
    assert not [m for m in moments(world, True) if m[1] == "argocd" and ARGO_OUTAGE[0] <= m[0] < ARGO_OUTAGE[1]]


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.PACK_SIGNING_CERT = str(tmp_path / "pack.crt")
    settings.PACK_SIGNING_KEY = str(tmp_path / "pack.key")
    settings.PACK_SIGNING_KEY_PASSWORD = ""
    settings.PACK_TSA_URL = ""
    settings.PACK_STORAGE_DIR = str(tmp_path / "packs")
    return tmp_path / "demo"


def run_demo(directory, *args: str) -> str:
    out = io.StringIO()
    call_command("demo", f"--dir={directory}", *args, stdout=out)
    return out.getvalue()


# One test, so the quarter is replayed once: the first run tells the whole story (pack included),
# and the second run over the same ledger is the one the demo invites ("run the demo again").
@pytest.mark.slow
@needs_registry
def test_it_runs_the_whole_story_once_and_adds_only_harvest_runs_when_run_again(db, demo_settings, projected):
    world = build_world()
    output = run_demo(demo_settings)

    # the demo world is exact: the findings on prod and staging are the seeded ones, each on the
    # deployment it was seeded on, and nothing else; every deployment that took effect has digests
    report = judge_seeded(world)
    assert not report.unmatched
    assert report.found == report.expected, "\n".join(report.lines())
    assert {name for name, landed in report.cases.items() if landed} == {c.name for c in world.seeded}
    without = Deployment.objects.filter(environment__in=["prod", "staging"], image_digests=[])
    assert list(without.values_list("outcome", flat=True)) == ["failed"]  # only the failed sync
    assert "findings no seeded case explains: none" in output
    for case in world.seeded:
        assert re.search(rf"^  {re.escape(case.name)}\s+\S+/\S+ deployment \d+", output, re.M), case.name

    # harvested through the sources file, checkpointed, verified, packed
    assert "sources.yaml loaded (demo-github, demo-gitlab, demo-argocd, demo-flux, demo-pods, demo-registry)" in output
    assert "ledger OK" in output
    assert "pack OK" in output and (demo_settings / "packs" / "latest.pdf").exists()
    assert re.search(r"demo finished in \d+\.\d s", output)
    # the packs' entries too: the demo leaves no unsigned tail
    assert Checkpoint.objects.order_by("-size").values_list("size", flat=True).first() == Entry.objects.count()
    assert "DRIFT: pods also run" in output, output
    kinds = Counter(Entry.objects.values_list("kind", flat=True))
    assert kinds["github.pull_request"] == len([c for c in world.changes if c.forge == "github"])
    assert kinds["gitlab.merge_request"] == len([c for c in world.changes if c.forge == "gitlab"])
    assert kinds["oci.artifact"] == len(world.images) + 1  # and the drift image
    assert kinds["source.configuration"] == 1

    # direct push: deployed to prod, but no pull request knows the commit
    direct = next(i for i in world.images if i.tag == "1.99.0-hotfix").commit
    assert Deployment.objects.filter(environment="prod", revision=direct).exists()
    assert not PullRequestCommit.objects.filter(sha=direct).exists()
    assert not PullRequest.objects.filter(merge_commit_sha=direct).exists()

    # author-only and stale approvals are recorded as given
    own = next(c for c in world.changes if [login for login, _ in c.approvers] == [c.author])
    reviewers = Approval.objects.filter(repository=own.repository, number=own.number).values_list("reviewer", flat=True)
    assert list(reviewers) == [own.author]
    stale = next(c for c in world.changes if any(commit != c.head for _, commit in c.approvers))
    approval = Approval.objects.get(repository=stale.repository, number=stale.number)
    assert approval.commit_id != stale.head and not approval.dismissed

    # signatures and provenance: unsigned, untrusted key, another commit
    def verdicts(image):
        # subjects carry the registry's host:port; the digest names the image
        rows = Entry.objects.filter(kind__in=["oci.signature", "oci.provenance"], subject__endswith=digest_of(image))
        return {(e.kind, e.data["verdict"]) for e in rows}

    unsigned = next(i for i in world.images if i.signer == "")
    assert ("oci.signature", "no_signature") in verdicts(unsigned)
    rogue = next(i for i in world.images if i.signer == "rogue")
    assert ("oci.signature", "untrusted_signer") in verdicts(rogue)
    other = next(i for i in world.images if i.claimed_commit != i.commit)
    provenance = Entry.objects.get(kind="oci.provenance", subject__endswith=digest_of(other))
    assert other.claimed_commit in str(provenance.data["provenance"]) and other.commit not in str(provenance.data)
    assert Deployment.objects.filter(environment="prod", revision=other.commit).exists()

    # drift: a pod runs a digest no deployment produced
    drift = digest_of(world.drift[1])
    snapshots = WorkloadSnapshot.objects.filter(environment="prod", application="payments")
    assert any(drift in row.digests for row in snapshots)
    assert not DeploymentImage.objects.filter(digest=drift).exists()

    # manual sync, rollback, failed sync, evidence gap
    assert Deployment.objects.filter(application="checkout", environment="prod", automated=False).exists()
    assert Deployment.objects.filter(application="payments", environment="prod", outcome="rolled_back").exists()
    assert Deployment.objects.filter(application="web", environment="prod", outcome="failed").exists()
    [gap] = DeploymentGap.objects.all()  # exactly once, derived from the ledger
    assert (gap.subject, gap.environment, gap.application) == ("argocd:payments-staging", "staging", "payments")
    assert gap.missing == [12, 13]
    assert not Entry.objects.filter(kind="deploy.gap").exists()

    # the GitLab project's service goes out through Flux; the pods resolve what it deployed
    flux = Deployment.objects.filter(controller="flux", environment="prod", application="inventory")
    assert flux.count() == len([d for d in world.deployments if d.app == "inventory-prod"])
    assert all(row.image_digests for row in flux)

    # DORA: the five figures, an incident through /hooks/incident/, the gate on a good and a bad digest
    assert "DORA metrics for prod, 2026-01-01 00:00 to 2026-04-01 00:00 UTC" in output
    assert kinds["incident.report"] == len(world.incidents) == 1
    assert kinds["gate.decision"] == 2
    assert re.search(r"gate prod sha256:\w+ \(compliant\): allow", output), output
    assert re.search(r"gate prod sha256:\w+ \(unsigned\): deny \(.*signature violated", output), output

    # run again over the same ledger: the final state harvested anew, and nothing but harvest runs
    last = Entry.objects.order_by("-seq").values_list("seq", flat=True).first()

    again = run_demo(demo_settings, "--no-pack")

    assert "harvesting the final state only" in again
    assert "second run: only harvest-run entries were appended" in again
    added = set(Entry.objects.filter(seq__gt=last).values_list("kind", flat=True))
    assert added == {"harvest.run"}


def test_it_serves_the_world_without_a_registry_and_keeps_its_ports(tmp_path):
    world = build_world()
    with DemoSandboxes(world, tmp_path, with_registry=False) as boxes:
        sources = yaml.safe_load(boxes.sources_yaml())
        ports = dict(boxes.ports)
    assert boxes.registry is None and boxes.registry_note == "registry disabled"
    assert [s["kind"] for s in sources] == ["github", "gitlab", "argocd", "flux", "kubernetes"]
    with DemoSandboxes(world, tmp_path, with_registry=False) as again:
        assert again.ports == ports  # same URLs, so a second run is served byte-identical answers
        assert yaml.safe_load(again.sources_yaml()) == sources


def test_it_prints_custody_and_findings_through_the_custody_interface_when_installed(db, monkeypatch):
    from datetime import UTC, datetime
    from types import ModuleType, SimpleNamespace

    from devkit.management.commands.demo import Command

    when = datetime(2026, 3, 1, tzinfo=UTC)
    deployment = Deployment.objects.create(
        identity="argocd:demo:payments-prod:1",
        controller="argocd",
        source="demo-argocd",
        subject="argocd:payments-prod",
        environment="prod",
        application="payments",
        revision="ab" * 20,
        image_digests=["sha256:" + "cd" * 32],
        started_at=when,
        finished_at=when,
        outcome="succeeded",
        entry_seqs=[3],
        first_seq=3,
    )
    link = SimpleNamespace(
        name="pull request", status="missing", explanation="no pull request merged it", entry_seqs=[3]
    )
    finding = SimpleNamespace(code="direct-push", severity="high")
    custody = ModuleType("evidence.compliance.custody")
    custody.build_custody = lambda d: SimpleNamespace(links=[link], findings=[finding] if d == deployment else [])
    monkeypatch.setitem(__import__("sys").modules, "evidence.compliance.custody", custody)
    lines: list[str] = []
    Command().print_custody(lines.append)
    text = "\n".join(lines)
    assert f"custody of prod deployment {deployment.pk} (payments {'ab' * 6})" in text
    assert re.search(r"pull request\s+missing\s+no pull request merged it\s+\[seqs 3\]", text)
    assert re.search(r"high\s+direct-push\s+1", text)
