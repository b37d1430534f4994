"""Deployments in the admin: the auditor's main list, and each deployment's page with its evidence.

Fast on large tables: filters read their choices from the small DeployedApplication table,
search terms become indexed subqueries (no DISTINCT over joins), computed columns come from
annotations on the page's queryset, and the full (unfiltered) count is never taken.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from evidence.compliance.admin.chain_view import chain_steps
from evidence.compliance.admin.running import running_view
from evidence.compliance.custody import build_custody
from evidence.compliance.models import DeploymentVerdict, Finding
from evidence.compliance.templatetags.compliance import verdict_badge
from evidence.core.admin_base import ProjectionAdmin, ReadOnlyInline, entry_links
from evidence.readmodels.models import (
    Approval,
    DeployedApplication,
    Deployment,
    DeploymentContainer,
    DeploymentGap,
    DeploymentImage,
    Provenance,
    PullRequest,
    PullRequestCommit,
    SignatureVerdict,
    WorkloadSnapshot,
)

MANY = 100  # choices a filter lists at most
HEX = re.compile(r"^[0-9a-f]{7,64}$")
PR_NUMBER = re.compile(r"^(?:(?P<repo>[\w.-]+/[\w./-]+))?[#!]?(?P<number>\d{1,9})$")


class EnvironmentFilter(admin.SimpleListFilter):
    title = "environment"
    parameter_name = "environment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = DeployedApplication.objects.order_by("environment").values_list("environment", flat=True).distinct()
        return [(n, n) for n in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(environment=self.value()) if self.value() else queryset


class ApplicationFilter(admin.SimpleListFilter):
    title = "application"
    parameter_name = "application"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """The applications of the chosen environment; across all, only when few (hundreds of links
        cost more to render than the page's rows). ?application= works either way."""
        rows = DeployedApplication.objects.all()
        if environment := request.GET.get("environment"):
            rows = rows.filter(environment=environment)
        names = list(rows.order_by("application").values_list("application", flat=True).distinct()[: MANY + 1])
        if len(names) > MANY and not environment:
            return []
        return [(n, n) for n in names[:MANY]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(application=self.value()) if self.value() else queryset


class ControllerFilter(admin.SimpleListFilter):
    """Fixed choices: a DISTINCT over every deployment on each page load is what it would cost otherwise."""

    title = "controller"
    parameter_name = "controller"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("argocd", "Argo CD"), ("flux", "Flux")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(controller=self.value()) if self.value() else queryset


class HasFindingsFilter(admin.SimpleListFilter):
    title = "has findings"
    parameter_name = "findings"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "yes"), ("no", "no")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        found = Q(pk__in=Finding.objects.values("deployment_id"))  # one pass over findings, not a probe per row
        if self.value() == "yes":
            return queryset.filter(found)
        if self.value() == "no":
            return queryset.exclude(found)
        return queryset


def pull_requests_matching(term: str) -> QuerySet[PullRequest] | None:
    """Pull requests a search term names: `123`, `#123`, `owner/repo#123`; None if it names none."""
    match = PR_NUMBER.match(term)
    if not match:
        return None
    found = PullRequest.objects.filter(number=int(match.group("number")))
    return found.filter(repository=match.group("repo")) if match.group("repo") else found


def deployments_of_pull_requests(pulls: QuerySet[PullRequest]) -> Q:
    """Deployments of a revision these pull requests merged (or contained), or of an image built from
    one. The SHAs and ids are read first, so the deployment query is index lookups on literal values."""
    merged = {sha for pair in pulls.values_list("merge_commit_sha", "squash_commit_sha") for sha in pair if sha}
    contained = set(PullRequestCommit.objects.filter(pull_request__in=pulls).values_list("sha", flat=True))
    built = Provenance.objects.filter(source_commit__in=merged).values("digest")
    images = set(DeploymentImage.objects.filter(digest__in=built).values_list("deployment_id", flat=True))
    return Q(revision__in=sorted(merged | contained)) | Q(pk__in=sorted(images))


def search_term(term: str) -> Q:
    """One search term: a digest, a commit SHA (prefix), a pull request, or a person or application.
    Each kind looks only where it can match, through indexed columns."""
    lowered = term.lower()
    if lowered.startswith("sha256:"):
        whole = len(lowered) == len("sha256:") + 64
        images = DeploymentImage.objects.filter(**{"digest" if whole else "digest__startswith": lowered})
        return Q(pk__in=images.values("deployment"))
    if HEX.match(lowered):
        images = DeploymentImage.objects.filter(digest__startswith=f"sha256:{lowered}").values("deployment")
        return Q(revision__startswith=lowered) | Q(pk__in=images)
    if (pulls := pull_requests_matching(term)) is not None:
        return deployments_of_pull_requests(pulls)
    # A person: who started the sync, or who wrote, merged or approved what it deployed.
    people = PullRequest.objects.filter(Q(author=term) | Q(merged_by=term))
    approved = Approval.objects.filter(reviewer=term, state="APPROVED").values("pull_request")
    pulls = people | PullRequest.objects.filter(pk__in=approved)
    return Q(application=term) | Q(initiated_by=term) | deployments_of_pull_requests(pulls)


class DeploymentChangeList(ChangeList):
    """The page's rows come from the plain (filtered, ordered) query; its computed columns from two
    queries over the page only (pull requests by SHA, findings per deployment), so no database
    evaluates them for rows it then sorts away, and the query count does not grow with the page."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        add_columns(rows)
        self.result_list = rows


def add_columns(rows: list[Deployment]) -> None:
    """Set .pull_request (the latest merged with that SHA) and .findings_n on each deployment."""
    revisions = {row.revision for row in rows if row.revision}
    merged_by_sha: dict[str, PullRequest] = {}
    pulls = PullRequest.objects.filter(Q(merge_commit_sha__in=revisions) | Q(squash_commit_sha__in=revisions))
    fields = ["forge", "repository", "number", "merge_commit_sha", "squash_commit_sha", "merged_at"]
    for pull in pulls.order_by("merged_at", "id").only(*fields):  # a later merge of the same SHA wins
        for sha in (pull.merge_commit_sha, pull.squash_commit_sha):
            if sha in revisions:
                merged_by_sha[sha] = pull
    found = Finding.objects.filter(deployment_id__in=[row.pk for row in rows]).values("deployment_id")
    counts = dict(found.annotate(n=Count("*")).values_list("deployment_id", "n"))
    judged = DeploymentVerdict.objects.filter(deployment_id__in=[row.pk for row in rows])
    verdicts = {pk: (v, reason) for pk, v, reason in judged.values_list("deployment_id", "verdict", "reason")}
    for row in rows:
        row.pull_request = merged_by_sha.get(row.revision)
        row.findings_n = counts.get(row.pk, 0)
        row.verdict_judged = verdicts.get(row.pk)


class DeploymentImageInline(ReadOnlyInline):
    model = DeploymentImage
    fields = ["short_digest", "image_name", "origin", "entry_seq"]

    @admin.display(description="digest")
    def short_digest(self, obj: DeploymentImage) -> str:
        return format_html('<code title="{}">{}</code>', obj.digest, obj.digest[:19] + "\u2026")

    @admin.display(description="image")
    def image_name(self, obj: DeploymentImage) -> str:
        return obj.image.split("@", 1)[0]


class DeploymentContainerInline(ReadOnlyInline):
    model = DeploymentContainer
    fields = ["workload", "container", "container_type", "image", "digest", "resolved_by", "entry_seq", "resolved_seq"]


@admin.register(Deployment)
class DeploymentAdmin(ProjectionAdmin):
    # Eight columns that fit 1,280 px: the verdict next to the time, the PR and findings on screen.
    list_display = [
        "started_at",
        "verdict",
        "environment",
        "application",
        "short_revision",
        "outcome",
        "pull_request_link",
        "finding_count",
    ]
    list_filter = [
        EnvironmentFilter,
        ApplicationFilter,
        "outcome",
        ("started_at", admin.DateFieldListFilter),  # the period
        HasFindingsFilter,
        ControllerFilter,
    ]
    search_fields = ["application"]  # the search box; get_search_results reads terms its own way
    search_help_text = "digest, commit SHA (prefix), pull request (123, owner/repo#123), person, application"
    show_full_result_count = False  # COUNT(*) over every deployment on each page is wasted work
    list_per_page = 50
    inlines = [DeploymentImageInline, DeploymentContainerInline]
    change_form_template = "admin/readmodels/deployment/change_form.html"
    readonly_fields = ["entries"]
    exclude = ["entry_seqs"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return DeploymentChangeList

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term_text: str) -> tuple[Any, bool]:
        for term in search_term_text.split():
            queryset = queryset.filter(search_term(term))
        return queryset, False  # subqueries, no joins: no duplicates to remove

    @admin.display(description="revision", ordering="revision")
    def short_revision(self, obj: Deployment) -> str:
        return format_html('<code title="{}">{}</code>', obj.revision, obj.revision[:12])

    @admin.display(description="images")
    def image_count(self, obj: Deployment) -> int:
        return len(obj.image_digests)

    @admin.display(description="pull request")
    def pull_request_link(self, obj: Deployment) -> str:
        pull = getattr(obj, "pull_request", None)
        if pull is None:
            return "-"
        url = reverse("admin:readmodels_pullrequest_change", args=[pull.pk])
        name = f"{pull.repository}#{pull.number}"
        return format_html(
            '<a href="{}" title="{}">{}#{}</a>', url, name, pull.repository.rpartition("/")[2], pull.number
        )

    @admin.display(description="verdict")
    def verdict(self, obj: Deployment) -> str:
        judged = getattr(obj, "verdict_judged", None)
        if judged is None:
            return "not judged yet"
        return format_html('<span title="{}">{}</span>', judged[1], verdict_badge(judged[0]))

    @admin.display(description="findings")
    def finding_count(self, obj: Deployment) -> str:
        if not getattr(obj, "findings_n", 0):
            return "0"
        url = reverse("admin:compliance_finding_changelist") + f"?deployment__id__exact={obj.pk}"
        return format_html('<a href="{}" style="color:#ba2121">{}</a>', url, obj.findings_n)

    @admin.display(description="ledger entries")
    def entries(self, obj: Deployment) -> str:
        return entry_links(obj.entry_seqs)

    def get_urls(self) -> list[Any]:
        running = path("running/", self.admin_site.admin_view(running_view), name="evidence_running")
        return [running, *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        extra_context = {**(extra_context or {}), **self.evidence_context(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    class Media:
        css = {"all": ["compliance/ux.css"]}

    def evidence_context(self, object_id: str) -> dict[str, Any]:
        """What the page shows beside the fields: each image with its signatures and provenance."""
        deployment = Deployment.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if deployment is None:
            return {}
        digests = list(deployment.image_digests)
        verdicts = SignatureVerdict.objects.filter(digest__in=digests).order_by("entry_seq")
        provenance = Provenance.objects.filter(digest__in=digests).order_by("entry_seq")
        images = [
            {
                "digest": digest,
                "signatures": [v for v in verdicts if v.digest == digest],
                "provenance": [p for p in provenance if p.digest == digest],
            }
            for digest in digests
        ]
        custody = build_custody(deployment)
        now = timezone.now()
        findings = list(Finding.objects.filter(deployment=deployment).order_by("severity", "code", "subject"))
        for finding in findings:
            state = finding.status_at(now)
            finding.status_text = (
                f"risk accepted by {finding.accepted_by} until {finding.accepted_until:%Y-%m-%d}"
                if state == "accepted"
                else "open"
            )
        # The page's title says what was deployed where and when (the row's own str is the sync outcome).
        subtitle = f"{deployment.application} in {deployment.environment}, {deployment.started_at:%Y-%m-%d %H:%M} UTC"
        return {
            "images": images,
            "custody": custody,
            "steps": chain_steps(custody, deployment),
            "findings": findings,
            "subtitle": subtitle,
        }


@admin.register(DeploymentGap)
class DeploymentGapAdmin(ProjectionAdmin):
    list_display = ["environment", "application", "subject", "missing", "after", "before", "entry_seq"]
    list_filter = ["environment", "controller"]
    search_fields = ["application", "subject"]


@admin.register(WorkloadSnapshot)
class WorkloadSnapshotAdmin(ProjectionAdmin):
    list_display = ["observed_at", "environment", "application", "namespace", "digests", "entry_seq"]
    list_filter = ["environment"]
    search_fields = ["application", "namespace"]
    show_full_result_count = False


@admin.register(DeployedApplication)
class DeployedApplicationAdmin(ProjectionAdmin):
    list_display = ["environment", "application", "first_finished_at"]
    list_filter = ["environment"]
    search_fields = ["application"]
