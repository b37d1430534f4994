"""The admin's "what was running at T" page: a form (environment, at) and the answer as a table."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from evidence.compliance.running import BadTime, parse_at, running_at
from evidence.readmodels.models import DeployedApplication, Deployment


class RunningForm(forms.Form):
    environment = forms.ChoiceField(choices=[])
    at = forms.CharField(
        initial="now",
        help_text="ISO 8601 (2026-03-01T12:00Z), now, yesterday, 3 weeks ago, 2.months.ago, ~N (N deployments back) "
        "or #N (the N-th snapshot)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = DeployedApplication.objects.order_by("environment").values_list("environment", flat=True).distinct()
        self.fields["environment"].choices = [(n, n) for n in names]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "environment" in data and "at" in data:
            try:
                data["when"] = parse_at(data["at"], data["environment"])
            except BadTime as exc:
                self.add_error("at", str(exc))
        return data


def running_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("readmodels.view_deployment"):
        raise PermissionDenied
    form = RunningForm(request.GET or None)
    state = None
    if form.is_bound and form.is_valid():
        state = running_at(form.cleaned_data["environment"], form.cleaned_data["when"])
    context = {
        **admin.site.each_context(request),
        "title": "What was running at T",
        "opts": Deployment._meta,
        "form": form,
        "state": state,
    }
    return TemplateResponse(request, "admin/readmodels/deployment/running.html", context)
