"""Sources (configuration: engineers edit them) and harvest runs (what each harvest asked and got)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest

from evidence.core.admin_base import ProjectionAdmin
from evidence.sources.kinds import check_config, kind_choices
from evidence.sources.models import HarvestRun, Source
from evidence.sources.tasks import harvest_source


class SourceForm(forms.ModelForm):
    """The config is checked against its kind's schema, as the sources file is: unknown keys refused."""

    # Django's default scheme for a URL typed without one, said out loud (6.0 changes it to https).
    url = forms.URLField(max_length=500, required=False, assume_scheme="http")
    kind = forms.ChoiceField(choices=kind_choices)

    class Meta:
        model = Source
        fields = ["name", "kind", "url", "credential_env", "environment", "config", "schedule", "enabled"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, config = cleaned.get("kind"), cleaned.get("config")
        if kind and config is not None:  # None: the field itself says what is missing
            problem = check_config(kind, config)
            if problem:
                self.add_error("config", f"source {cleaned.get('name') or self.instance.name!r}: {problem}")
        return cleaned


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = [
        "name",
        "kind",
        "environment",
        "enabled",
        "schedule",
        "runs_n",
        "failed_n",
        "last_run",
        "last_status",
    ]
    list_filter = ["kind", "enabled", "environment"]
    search_fields = ["name", "url"]
    readonly_fields = ["from_file", "updated_at"]
    actions = ["harvest_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        latest = HarvestRun.objects.filter(source=OuterRef("pk")).order_by("-started_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                run_total=Count("runs"),
                failed_total=Count("runs", filter=Q(runs__status__in=["failed", "partial"])),
                last_started=Max("runs__started_at"),
                last_state=Subquery(latest.values("status")[:1]),
            )
        )

    @admin.display(description="runs", ordering="run_total")
    def runs_n(self, obj: Source) -> int:
        return obj.run_total

    @admin.display(description="failed or partial", ordering="failed_total")
    def failed_n(self, obj: Source) -> int:
        return obj.failed_total

    @admin.display(description="last run", ordering="last_started")
    def last_run(self, obj: Source) -> Any:
        return obj.last_started

    @admin.display(description="last status")
    def last_status(self, obj: Source) -> str:
        return obj.last_state or "-"

    @admin.action(description="Harvest now", permissions=["harvest"])
    def harvest_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        started = []
        for source in queryset.filter(enabled=True):
            # Enqueued once the request's transaction commits, so the worker sees what we see.
            transaction.on_commit(lambda pk=source.pk: harvest_source.delay(pk))
            started.append(source.name)
        skipped = queryset.filter(enabled=False).count()
        if started:
            self.message_user(request, f"Harvest started: {', '.join(started)}.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} disabled source(s) skipped.", messages.WARNING)

    def has_harvest_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("sources.harvest_source")


@admin.register(HarvestRun)
class HarvestRunAdmin(ProjectionAdmin):
    """Operational record of harvests (the ledger's harvest.run entries are the evidence): read-only."""

    list_display = [
        "started_at",
        "source",
        "target",
        "status",
        "duration_s",
        "requests",
        "records",
        "appended",
        "error_count",
    ]
    list_filter = ["status", "source"]
    search_fields = ["target", "source__name"]
    list_select_related = ["source"]
    show_full_result_count = False
    date_hierarchy = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[HarvestRun]:
        took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        return super().get_queryset(request).annotate(took=took)

    @admin.display(description="duration", ordering="took")
    def duration_s(self, obj: HarvestRun) -> str:
        return "-" if obj.took is None else f"{obj.took.total_seconds():.1f} s"

    @admin.display(description="errors")
    def error_count(self, obj: HarvestRun) -> int:
        return len(obj.errors)
