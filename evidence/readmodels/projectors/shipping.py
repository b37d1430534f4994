"""Keeps `ShippedChange` rows: projectors mark what changed, and after each projection run the
marked series are derived again (`shipping.refresh_shipped`), whatever order the entries came in.

A series is marked when one of its deployments is saved (`shipping.mark_series`, from the
deployments projector). A pull request's entry can change the series deploying from its repository (a merge
inside a range, a new head) and the series whose deployments name its commits (it arrived after
them); a provenance entry, the series deploying its digest; a review, only the first-approval
columns. Marks are rows, written in the projector's transaction, so a crash before the settler
runs leaves them for the next run. After `rebuild_projections` every series is marked.
"""

from __future__ import annotations

import json
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Length, Lower

from evidence.readmodels.models import (
    Deployment,
    Provenance,
    PullRequest,
    PullRequestCommit,
    ShippedChange,
    ShippingMark,
)
from evidence.readmodels.projectors import Run, after_projection, projection_model, projects
from evidence.readmodels.shipping import chunks, mark, refresh_first_approvals, refresh_shipped
from evidence.sources import kinds
from evidence.sources.forges.base import Approvals, Change, Dismissal
from ledger.models import Entry

projection_model(ShippedChange)
projection_model(ShippingMark)
EVERYTHING = 2000  # more pull requests marked than this (a rebuild, a first harvest): derive every series
LIKES = 200  # commits or digests per substring query


@projects(*kinds.entry_kinds(Change))
def mark_change(entry: Entry) -> None:
    forge, change = kinds.read_entry(entry.kind, entry.data)
    mark("pull", [forge.name, change.repository, change.number])


@projects(*kinds.entry_kinds(Approvals), *kinds.entry_kinds(Dismissal))
def mark_approvals(entry: Entry) -> None:
    forge, found = kinds.read_entry(entry.kind, entry.data)
    mark("approvals", [forge.name, found.repository, found.number])


@projects("oci.provenance")
def mark_provenance(entry: Entry) -> None:
    digest = str(entry.data.get("digest") or "")
    if digest:
        mark("digest", digest)


@after_projection
def settle_shipping(run: Run | None = None) -> None:
    """Derive again every series the marks can change, then drop the marks."""
    with transaction.atomic():
        marks = list(ShippingMark.objects.select_for_update().order_by("id").values_list("id", "scope", "key"))
        if not marks:
            return
        keys: dict[str, list[Any]] = {scope: [] for scope in ShippingMark.SCOPES}
        for _, scope, key in marks:
            keys[scope].append(json.loads(key))
        series = {(e, a) for e, a in keys["series"]}
        if len(keys["pull"]) > EVERYTHING:
            environments = sorted(set(Deployment.objects.values_list("environment", flat=True).distinct()))
            for environment in environments:
                refresh_shipped(environment)
            stale = ShippedChange.objects.exclude(environment__in=environments)
            stale.delete()
        else:
            series |= _series_of_pulls(keys["pull"]) | _series_of_digests({str(k) for k in keys["digest"]})
            for environment, application in sorted(series):
                refresh_shipped(environment, application)
            if keys["approvals"]:
                refresh_first_approvals(set(_pulls(keys["approvals"]).values_list("id", flat=True)))
        ShippingMark.objects.filter(id__in=[m[0] for m in marks]).delete()


def _pulls(keys: list[Any]) -> QuerySet[PullRequest]:
    return PullRequest.objects.filter(reduce(or_, (Q(forge=f, repository=r, number=n) for f, r, n in keys)))


def _series_of_pulls(keys: list[Any]) -> set[tuple[str, str]]:
    """The series a changed pull request can alter: those shipping from its repository, and those
    whose deployments name one of its commits, in their revision or through provenance."""
    if not keys:
        return set()
    pulls = _pulls(keys)
    found = set()
    repositories = set(pulls.values_list("repository", flat=True))
    shipped = ShippedChange.objects.filter(repository__in=sorted(repositories))
    found |= set(shipped.values_list("environment", "application").distinct())
    shas = {s for row in pulls.values_list("merge_commit_sha", "squash_commit_sha") for s in row}
    shas |= set(PullRequestCommit.objects.filter(pull_request__in=pulls).values_list("sha", flat=True))
    shas = {s.lower() for s in shas if s}
    found |= _series_naming_commits(shas)
    provenance = Provenance.objects.annotate(commit=Lower("source_commit")).filter(commit__in=sorted(shas))
    return found | _series_of_digests(set(provenance.values_list("digest", flat=True)))


def _series_of_digests(digests: set[str]) -> set[tuple[str, str]]:
    return _series_naming(Deployment.objects.all(), Cast("image_digests", TextField()), digests)


def _series_naming_commits(shas: set[str]) -> set[tuple[str, str]]:
    """Series with a deployment whose revision names one of these commits (lowercase SHAs), as the
    rule reads revisions (`ancestry.revision_shas`). A revision that is one SHA, as Argo CD writes
    it, is matched by equality on its index; only the others (Flux `main@sha1:<sha>`, several
    sources, capitals) are searched by substring, so a pull request's entry does not scan every
    deployment."""
    found: set[tuple[str, str]] = set()
    for part in chunks(shas):
        rows = Deployment.objects.filter(revision__in=part).order_by()
        found |= set(rows.values_list("environment", "application").distinct())
    # One SHA: 40 or 64 characters, all lowercase hex (what is left after trimming them is empty);
    # cheap per row where a regular expression took 4 us.
    hex_left = Func(F("revision"), Value("0123456789abcdef"), function="LTRIM", output_field=TextField())
    written_otherwise = Deployment.objects.annotate(size=Length("revision"), rest=hex_left).exclude(
        size__in=(40, 64), rest=""
    )
    return found | _series_naming(written_otherwise, Lower("revision"), shas)


def _series_naming(rows: QuerySet[Deployment], column: Func, needles: set[str]) -> set[tuple[str, str]]:
    """Series with a deployment among rows whose column holds one of the needles as a substring: a
    superset of the deployments that name them however the revision is written."""
    found: set[tuple[str, str]] = set()
    ordered = sorted(needles)
    for i in range(0, len(ordered), LIKES):
        which = reduce(or_, (Q(text__contains=n) for n in ordered[i : i + LIKES]))
        named = rows.annotate(text=column).filter(which).order_by()
        found |= set(named.values_list("environment", "application").distinct())
    return found
