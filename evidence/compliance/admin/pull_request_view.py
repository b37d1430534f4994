"""What a pull request's page shows besides its fields: who authored, committed, approved and
merged it (self-approval flagged), the protection in force at the merge, the deployments that
shipped it and the findings about it. A few queries per page, none per row."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from evidence.compliance.models import DeploymentVerdict, Finding
from evidence.core.wording import describe_settings
from evidence.readmodels.models import Deployment, ProtectionSnapshot, PullRequest

SHIPPED_SHOWN = 50


def pull_request_context(pull: PullRequest) -> dict[str, Any]:
    from evidence.compliance.admin.deployments import deployments_of_pull_requests

    approvals = list(pull.approvals.order_by("submitted_at", "id"))
    approvers = [a for a in approvals if a.state == "APPROVED" or a.submitted_state == "APPROVED"]
    self_approved = [a for a in approvers if a.reviewer and a.reviewer == pull.author]
    protection = None
    if pull.merged_at is not None:
        state = ProtectionSnapshot.in_force(pull.forge, pull.repository, pull.base, pull.merged_at)
        settings = state.settings
        protection = {
            "lines": describe_settings(settings) if isinstance(settings, dict) else [f"Settings: {settings}"],
            "backed": state.backed,
            "entry_seqs": state.entry_seqs,
            "recorded_at": state.snapshot.observed_at if state.snapshot else None,
            "timeline_url": reverse("admin:evidence_protection_timeline")
            + "?"
            + urlencode({"forge": pull.forge, "repository": pull.repository, "branch": pull.base}),
        }
    shipped = list(
        Deployment.objects.filter(deployments_of_pull_requests(PullRequest.objects.filter(pk=pull.pk)))
        .order_by("-started_at", "-id")
        .only("id", "environment", "application", "started_at", "outcome")[:SHIPPED_SHOWN]
    )
    verdicts = dict(
        DeploymentVerdict.objects.filter(deployment_id__in=[d.pk for d in shipped]).values_list(
            "deployment_id", "verdict"
        )
    )
    for deployment in shipped:
        deployment.verdict_value = verdicts.get(deployment.pk, "")
    branch = f"{pull.repository}@{pull.base}"
    about = Q(subject=str(pull)) | Q(subject=branch, deployment_id__in=[d.pk for d in shipped])
    now = timezone.now()
    findings = list(Finding.objects.filter(about).order_by("-deployed_at", "code")[:SHIPPED_SHOWN])
    for finding in findings:
        finding.status_text = finding.status_at(now)
    return {
        "pull": pull,
        "approvers": approvers,
        "self_approved": self_approved,
        "commit_shas": list(pull.commits),
        "protection": protection,
        "shipped": shipped,
        "pr_findings": findings,
        "subtitle": f"{pull}: {pull.title}",
    }
