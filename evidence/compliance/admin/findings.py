"""Findings, policies and risk acceptances in the admin.

Findings are judged rows (read-only). Policies and acceptances are ledger entries: their rows are
read-only; the "add" form proposes a new one and the "approve" action approves another engineer's
proposal, both through `evidence.compliance.findings` and only for users holding add_policy /
add_riskacceptance (engineers); auditors are offered neither.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from evidence.compliance.admin.deployments import EnvironmentFilter
from evidence.compliance.findings import (
    PolicyError,
    approve_acceptance,
    approve_policy,
    propose_acceptance,
    propose_policy,
)
from evidence.compliance.findings.codes import CODES
from evidence.compliance.labels import control_label
from evidence.compliance.models import Finding, Policy, RiskAcceptance
from evidence.compliance.templatetags.compliance import code_label
from evidence.core.admin_base import ProjectionAdmin, entry_links


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open"), ("accepted", "accepted")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        now = timezone.now()
        if self.value() == "accepted":
            return queryset.filter(accepted_until__gt=now)
        if self.value() == "open":
            return queryset.exclude(accepted_until__gt=now)
        return queryset


class CodeFilter(admin.SimpleListFilter):
    """Finding codes by their human label (the catalogue's fixed list: no DISTINCT over findings)."""

    title = "finding"
    parameter_name = "code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, meta.title) for code, meta in CODES.items()]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(code=self.value()) if self.value() else queryset


@admin.register(Finding)
class FindingAdmin(ProjectionAdmin):
    list_display = [
        "deployed_at",
        "severity",
        "finding",
        "environment",
        "application",
        "short_subject",
        "status",
        "deployment_link",
    ]
    # Environments from the small DeployedApplication table, not a DISTINCT over every finding.
    list_filter = ["severity", CodeFilter, StatusFilter, EnvironmentFilter, ("deployed_at", admin.DateFieldListFilter)]
    search_fields = ["=code", "application", "subject", "repository"]
    show_full_result_count = False
    readonly_fields = ["finding", "controls_list", "entries", "accept_link"]
    exclude = ["entry_seqs", "controls"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """ "Record a risk acceptance" only for those who may record one (engineers), never auditors."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("compliance.add_riskacceptance"):
            fields.remove("accept_link")
        return fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [f for f in super().get_fields(request, obj) if f != "code"]
        return ["finding", *[f for f in fields if f != "finding"]]

    @admin.display(description="finding", ordering="code")
    def finding(self, obj: Finding) -> str:
        return code_label(obj.code)

    @admin.display(description="subject", ordering="subject")
    def short_subject(self, obj: Finding) -> str:
        shown = obj.subject if len(obj.subject) <= 40 else obj.subject[:39] + "\u2026"
        return format_html('<code title="{}">{}</code>', obj.subject, shown)

    @admin.display(description="controls")
    def controls_list(self, obj: Finding) -> str:
        return format_html_join("", "<div>{}</div>", ((control_label(c),) for c in obj.controls)) or "-"

    @admin.display(description="status")
    def status(self, obj: Finding) -> str:
        state = obj.status_at(timezone.now())
        return format_html("{} until {}", state, obj.accepted_until.date()) if state == "accepted" else state

    @admin.display(description="deployment")
    def deployment_link(self, obj: Finding) -> str:
        url = reverse("admin:readmodels_deployment_change", args=[obj.deployment_id])
        return format_html('<a href="{}">{} {}</a>', url, obj.application, f"{obj.deployed_at:%Y-%m-%d %H:%M}")

    @admin.display(description="ledger entries")
    def entries(self, obj: Finding) -> str:
        return entry_links(obj.entry_seqs)

    @admin.display(description="risk acceptance")
    def accept_link(self, obj: Finding) -> str:
        url = reverse("admin:compliance_riskacceptance_add") + "?" + urlencode({"finding": obj.key})
        return format_html('<a href="{}">record a risk acceptance</a>', url)


class LedgerRecordedAdmin(ProjectionAdmin):
    """Rows are read-only; "add" records a new entry through the area's write path."""

    form_class: type[forms.Form]
    template = "admin/compliance/policy/record.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.add_{self.opts.model_name}")

    def record(self, request: HttpRequest, data: dict[str, Any]) -> str:
        raise NotImplementedError

    approve_one: Any  # the area's approval function: (proposal seq, approver) -> Appended
    actions = ["approve"]

    @admin.action(description="Approve the selected proposals (four eyes)", permissions=["add"])
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        for row in queryset.order_by("entry_seq"):
            try:
                with transaction.atomic():
                    appended = type(self).approve_one(row.entry_seq, request.user.get_username())
            except PolicyError as exc:
                self.message_user(request, f"#{row.entry_seq} not approved: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"#{row.entry_seq} approved as ledger entry {_seq(appended.seq)}.")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.form_class(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    done = self.record(request, form.cleaned_data)
            except PolicyError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, done, messages.SUCCESS)
                return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.opts,
            "title": f"Record {self.opts.verbose_name}",
        }
        return TemplateResponse(request, self.template, context)


class PolicyForm(forms.Form):
    environment = forms.CharField()
    min_approvals = forms.IntegerField(min_value=0, max_value=20, initial=1)
    require_signature = forms.BooleanField(required=False, initial=True)
    trusted_signers = forms.CharField(required=False, help_text="one per line (fnmatch patterns allowed)")
    require_provenance = forms.BooleanField(required=False, initial=True)
    trusted_builders = forms.CharField(required=False, help_text="builder ids, one per line")
    protection = forms.CharField(
        required=False, initial="{}", help_text='JSON, e.g. {"dismiss_stale_reviews": true, "required_approvals": 1}'
    )
    effective_at = forms.DateTimeField(required=False, help_text="UTC; empty: now")

    def clean_protection(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["protection"] or "{}")
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not JSON: {exc.msg}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("expected a JSON object")
        return value


def _seq(seq: int | None) -> str:
    return f"#{seq}" if seq is not None else "(queued; sequenced shortly)"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@admin.register(Policy)
class PolicyAdmin(LedgerRecordedAdmin):
    form_class = PolicyForm
    list_display = [
        "environment",
        "version",
        "effective_at",
        "min_approvals",
        "require_signature",
        "require_provenance",
        "recorded_by",
        "entry_seq",
        "approved_by",
        "approval_seq",
    ]
    list_filter = ["environment"]
    approve_one = approve_policy
    search_fields = ["environment", "recorded_by"]

    def record(self, request: HttpRequest, data: dict[str, Any]) -> str:
        rules = {
            "min_approvals": data["min_approvals"],
            "require_signature": data["require_signature"],
            "trusted_signers": _lines(data["trusted_signers"]),
            "require_provenance": data["require_provenance"],
            "trusted_builders": _lines(data["trusted_builders"]),
            "protection": data["protection"],
        }
        appended = propose_policy(data["environment"], request.user.get_username(), rules, data["effective_at"])
        if not appended.created:
            return f"Policy for {data['environment']} unchanged (same rules as the current version)."
        return (
            f"Policy for {data['environment']} proposed as ledger entry {_seq(appended.seq)}; "
            "it is in force once another engineer approves it."
        )


class AcceptanceForm(forms.Form):
    finding = forms.CharField(help_text="the finding's key (from the finding's page)")
    reason = forms.CharField(widget=forms.Textarea, help_text="why the risk is accepted")
    until = forms.DateTimeField(help_text="UTC; the acceptance lapses then and the finding is open again")

    def clean_finding(self) -> str:
        key = self.cleaned_data["finding"].strip()
        if not Finding.objects.filter(key=key).exists():
            raise forms.ValidationError(f"no finding with key {key!r}")
        return key


@admin.register(RiskAcceptance)
class RiskAcceptanceAdmin(LedgerRecordedAdmin):
    form_class = AcceptanceForm
    list_display = ["accepted_at", "code", "accepted_by", "until", "reason", "entry_seq", "approved_by", "approval_seq"]
    list_filter = ["code"]
    search_fields = ["=finding_key", "accepted_by", "approved_by", "reason"]
    approve_one = approve_acceptance

    def record(self, request: HttpRequest, data: dict[str, Any]) -> str:
        appended = propose_acceptance(data["finding"], request.user.get_username(), data["reason"], data["until"])
        return (
            f"Risk acceptance proposed as ledger entry {_seq(appended.seq)}; "
            "it takes effect once another engineer, outside the change, approves it."
        )
