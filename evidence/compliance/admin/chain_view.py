"""The chain of custody as the deployment page draws it: one step per link, each with a link to
where its evidence is browsed (signature, provenance, pull request, protection timeline...), its
entry seqs, and the finding it raised. All lookups for one chain are a few queries, not one per link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from evidence.compliance.custody.chain import REASONS, Custody
from evidence.compliance.labels import code_label, status_label
from evidence.compliance.models import Finding
from evidence.readmodels.models import Deployment, ProtectionSnapshot, PullRequest
from evidence.sources import kinds

# Link names (without the "config " prefix) -> what the step's own page is called.
TITLES = {
    "deployment": "Deployment",
    "policy": "Policy in force",
    "image": "Image",
    "signature": "Signature",
    "provenance": "Build provenance",
    "commit": "Commit",
    "pull request": "Pull request",
    "approval": "Approval",
    "approvals": "Approvals on the merged head",
    "protection": "Branch protection at merge",
    "protection observed": "Protection observed around the merge",
    "protection bypass": "Protection bypass",
    "running": "What ran",
    "sync": "How it was synced",
    "history": "Controller history",
    "config revision": "Configuration revision",
}


@dataclass
class RaisedFinding:
    code: str
    label: str
    url: str


@dataclass
class Step:
    name: str
    title: str
    status: str
    status_text: str
    reason: str
    explanation: str
    subject: str
    path: str
    entry_seqs: list[int]
    page_url: str = ""
    page_label: str = ""
    upstream_url: str = ""
    findings: list[RaisedFinding] = field(default_factory=list)


def _changelist(model: str, **query: str) -> str:
    return reverse(f"admin:{model}_changelist") + "?" + urlencode(query)


def chain_steps(custody: Custody, deployment: Deployment) -> list[Step]:
    pull_urls = {link.url for link in custody.links if link.url}
    pulls = (
        {p.url: p for p in PullRequest.objects.filter(url__in=pull_urls).only("id", "url", "forge")}
        if pull_urls
        else {}
    )
    branches = {link.subject for link in custody.links if "protection" in link.name and "@" in link.subject}
    forges = _branch_forges(branches)
    found = {
        (code, subject): pk
        for pk, code, subject in Finding.objects.filter(deployment_id=deployment.pk).values_list(
            "id", "code", "subject"
        )
    }
    steps = []
    for link in custody.links:
        base = link.name.removeprefix("config ")
        step = Step(
            name=link.name,
            title=("Configuration: " if link.name.startswith("config ") else "") + TITLES.get(base, base.capitalize()),
            status=link.status,
            status_text=status_label(link.status),
            reason=REASONS.get(link.reason, link.reason) if link.reason else "",
            explanation=link.explanation,
            subject=link.subject,
            path=link.path,
            entry_seqs=sorted(set(link.entry_seqs)),
            upstream_url=link.url,
        )
        step.page_url, step.page_label = _page(base, link, deployment, pulls, forges)
        for code in link.codes:
            pk = found.get((code, link.subject))
            url = reverse("admin:compliance_finding_change", args=[pk]) if pk else ""
            step.findings.append(RaisedFinding(code, code_label(code), url))
        steps.append(step)
    return steps


def _branch_forges(subjects: set[str]) -> dict[str, str]:
    """repository@branch -> the forge whose protection of it was recorded (one query)."""
    out: dict[str, str] = {}
    repositories = {s.rpartition("@")[0] for s in subjects}
    rows = ProtectionSnapshot.objects.filter(repository__in=repositories).values_list("forge", "repository", "branch")
    for forge, repository, branch in rows.distinct():
        out[f"{repository}@{branch}"] = forge
    return out


def _page(
    base: str, link: Any, deployment: Deployment, pulls: dict[str, PullRequest], forges: dict[str, str]
) -> tuple[str, str]:
    """Where the auditor browses this link's evidence in the admin: (url, label), or ("", "")."""
    pull = pulls.get(link.url)
    if base in ("pull request", "approvals", "approval", "protection bypass") and pull is not None:
        anchor = "#approvals-group" if base.startswith("approval") else ""
        return reverse("admin:readmodels_pullrequest_change", args=[pull.pk]) + anchor, "pull request page"
    if base in ("signature", "provenance", "image") and link.subject.startswith("sha"):
        model = {"signature": "readmodels_signatureverdict", "provenance": "readmodels_provenance"}.get(
            base, "readmodels_artifact"
        )
        return _changelist(model, digest=link.subject), f"{base} records of this digest"
    if base == "commit" and link.subject:
        return _changelist("readmodels_pullrequest", q=link.subject), "pull requests with this commit"
    if base.startswith("protection") and "@" in link.subject:
        repository, _, branch = link.subject.rpartition("@")
        forge = forges.get(link.subject) or (pull.forge if pull else kinds.DEFAULT_FORGE)
        query = urlencode({"forge": forge, "repository": repository, "branch": branch})
        return reverse("admin:evidence_protection_timeline") + "?" + query, "protection timeline"
    if base == "policy":
        return _changelist("compliance_policy", environment=deployment.environment), "policy versions"
    if base == "running":
        query = {"environment": deployment.environment, "application": deployment.application}
        return _changelist("readmodels_workloadsnapshot", **query), "pods seen running"
    if base == "history":
        query = {"environment": deployment.environment, "application": deployment.application}
        return _changelist("readmodels_deploymentgap", **query), "history gaps"
    return "", ""
