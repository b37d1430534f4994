"""Which deployments a batch of new entries can change the judgement of.

A chain reads evidence by image digest, by commit (the deployed revision, the commit provenance
names, the commits a branch's first-parent history adds), by pull request (its approvals), by
protection of the base branch at the merge, by the policy of the environment, and by the
application (pods, later deployments, history gaps). Each kind of entry is mapped back along
those keys; kinds no chain reads touch nothing.
`touched_deployments` returns None when the batch asks for everything (judge all).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from evidence.compliance.custody.load import OBSERVATION_WINDOW
from evidence.core.times import parse_time
from evidence.readmodels.models import Deployment, DeploymentImage, Provenance, PullRequest, WorkloadSnapshot
from evidence.readmodels.projectors import Read
from ledger.envelope import envelope_columns, open_envelope
from ledger.models import Entry

CHUNK = 200
NEIGHBOURS = timedelta(days=7)  # a controller entry re-derives rows this far back (rollbacks, running_since)
CONTROLLER_KINDS = ("argocd.", "flux.")
CHANGE_KINDS = ("github.pull_request", "gitlab.merge_request")
REVIEW_KINDS = ("github.review", "github.review_dismissal", "gitlab.approval")
PROTECTION_KINDS = ("github.branch_protection", "gitlab.protected_branch")
HISTORY_KINDS = ("github.branch_history", "gitlab.branch_history")


class _Keys:
    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.digests: set[str] = set()
        self.shas: set[str] = set()
        self.changes: set[tuple[str, str, int]] = set()
        self.branches: list[tuple[str, str, str, datetime, datetime | None]] = []  # merged within [from, to]
        self.subjects: dict[str, datetime] = {}  # controller subject -> earliest time named
        self.live_at: list[tuple[str, str, datetime]] = []  # (environment, application, time)
        self.apps_between: list[tuple[str, str, datetime | None, datetime | None]] = []
        self.policies: dict[str, datetime] = {}
        self.identities: set[str] = set()
        self.gaps_before: datetime | None = None  # coverage arrived: re-judge earlier evidence gaps


def _when(entry: Read) -> datetime:
    return entry.occurred_at or entry.observed_at


def _collect(keys: _Keys, entry: Read) -> None:
    kind = entry.kind
    if kind.startswith(CONTROLLER_KINDS):
        earliest = keys.subjects.get(entry.subject)
        keys.subjects[entry.subject] = min(earliest, _when(entry)) if earliest else _when(entry)
    elif kind == "kubernetes.pods":
        data = entry.data
        for pod in data.get("pods") or []:
            keys.live_at.append((str(pod.get("environment")), str(pod.get("application")), entry.observed_at))
    elif kind == "deploy.gap":
        data = entry.data
        keys.apps_between.append(
            (
                str(data.get("environment") or ""),
                str(data.get("application") or ""),
                parse_time(data.get("after"), to_utc=True),
                parse_time(data.get("before"), to_utc=True),
            )
        )
    elif kind.startswith("oci."):
        data = entry.data
        if data.get("digest"):
            keys.digests.add(str(data["digest"]))
        if kind == "oci.tags" and isinstance(data.get("tags"), dict):  # deployments the tags resolve for
            keys.digests |= {str(d) for d in data["tags"].values()}
    elif kind in CHANGE_KINDS:
        data = entry.data
        keys.shas |= _shas(data.get("merge_commit_sha"), data.get("squash_commit_sha"), data.get("head_sha"))
        keys.shas |= _shas(*(data.get("commits") or []))
    elif kind in HISTORY_KINDS:  # the commits now known on the branch, and how they got there
        data = entry.data
        keys.shas |= _shas(*(str(c.get("sha") or "") for c in data.get("commits") or []))
    elif kind in REVIEW_KINDS:
        data = entry.data
        number = data.get("number", data.get("iid"))
        if number is not None:
            keys.changes.add((kind.split(".")[0], str(data.get("repository")), int(number)))
    elif kind in PROTECTION_KINDS:
        data = entry.data
        forge = kind.split(".")[0]
        keys.branches.append((forge, str(data.get("repository")), str(data.get("branch")), entry.observed_at, None))
    elif kind == "harvest.run" and (data := entry.data).get("source_kind") in ("github", "gitlab"):
        observed = data.get("observed") or {}
        repository = str(observed.get("repository") or data.get("target") or "")
        for branch in sorted(observed.get("protection") or {}):
            low, high = entry.observed_at - OBSERVATION_WINDOW, entry.observed_at + OBSERVATION_WINDOW
            keys.branches.append((str(data["source_kind"]), repository, branch, low, high))
        keys.gaps_before = max(keys.gaps_before, entry.observed_at) if keys.gaps_before else entry.observed_at
    elif kind == "github.rule_suite":
        data = entry.data
        suite = data.get("rule_suite") or {}
        keys.shas |= _shas(suite.get("after_sha"))
    elif kind == "policy.version.approved":  # proposals change nothing until approved
        data = entry.data
        effective = parse_time(data.get("effective_at"), to_utc=True) or entry.observed_at
        environment = str(data.get("environment") or "")
        keys.policies[environment] = min(keys.policies.get(environment, effective), effective)
    elif kind == "finding.acceptance.approved":
        data = entry.data
        keys.identities.add(str(data.get("deployment") or ""))


def _read(first_seq: int, last_seq: int) -> Iterator[Read]:
    window = Entry.objects.filter(seq__gte=first_seq, seq__lte=last_seq).order_by("seq")
    for seq, payload in window.values_list("seq", "payload").iterator():
        try:
            envelope = open_envelope(bytes(payload))
            columns = envelope_columns(envelope)
        except ValueError:
            continue  # unreadable: the projector recorded it and read nothing from it
        if isinstance(columns["kind"], str) and isinstance(columns["observed_at"], datetime):
            yield Read(seq=seq, envelope=envelope, **columns)


def _shas(*values: Any) -> set[str]:
    return {str(v).lower() for v in values if isinstance(v, str) and v}


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(values)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def touched_deployments(first_seq: int, last_seq: int, entries: Iterable[Read] | None = None) -> set[int]:
    """Ids of the deployments whose chains read evidence from entries first_seq..last_seq.

    entries: those entries as a projection run just read them (so they are not read twice); without
    them they are read here. Either way kind, subject and times are the payload's, not the columns'.
    """
    keys = _Keys()
    for entry in _read(first_seq, last_seq) if entries is None else entries:
        _collect(keys, entry)
    ids = keys.ids
    deployments = Deployment.objects.all()

    for subject, earliest in sorted(keys.subjects.items()):
        rows = deployments.filter(subject=subject)
        ids |= set(rows.filter(started_at__gte=earliest - NEIGHBOURS).values_list("id", flat=True))
        before = rows.filter(started_at__lt=earliest - NEIGHBOURS).order_by("-started_at", "-id").first()
        if before is not None:
            ids.add(before.id)
    for environment, application, at in keys.live_at:
        live = (
            deployments.filter(environment=environment, application=application, finished_at__lte=at)
            .order_by("-finished_at", "-id")
            .values_list("id", flat=True)[:2]  # the one live then, and a failed sync just before it
        )
        ids |= set(live)
    for environment, application, after, before in keys.apps_between:
        rows = deployments.filter(environment=environment, application=application)
        if after is not None:
            rows = rows.filter(started_at__gte=after)
        if before is not None:
            rows = rows.filter(started_at__lte=before)
        ids |= set(rows.values_list("id", flat=True))
    for environment, effective in sorted(keys.policies.items()):
        rows = deployments.filter(environment=environment).filter(
            Q(finished_at__gte=effective) | Q(finished_at__isnull=True, started_at__gte=effective)
        )
        ids |= set(rows.values_list("id", flat=True))
    if keys.identities:
        ids |= set(deployments.filter(identity__in=sorted(keys.identities)).values_list("id", flat=True))
    if keys.gaps_before is not None:
        from evidence.compliance.models import Finding

        gaps = Finding.objects.filter(code="evidence_gap", deployed_at__lte=keys.gaps_before)
        ids |= set(gaps.values_list("deployment_id", flat=True))

    shas = set(keys.shas)
    for chunk in _chunks(keys.changes):
        which = Q()
        for forge, repository, number in chunk:
            which |= Q(forge=forge, repository=repository, number=number)
        shas |= _pull_shas(PullRequest.objects.filter(which))
    for forge, repository, branch, low, high in keys.branches:
        pulls = PullRequest.objects.filter(forge=forge, repository=repository, base=branch, merged_at__gte=low)
        if high is not None:
            pulls = pulls.filter(merged_at__lte=high)
        shas |= _pull_shas(pulls)
    digests = set(keys.digests)
    for chunk in _chunks(shas):
        digests |= set(Provenance.objects.filter(source_commit__in=chunk).values_list("digest", flat=True))
        which = Q()
        for sha in chunk:
            which |= Q(revision__contains=sha)
        ids |= set(deployments.filter(which).values_list("id", flat=True))
    for chunk in _chunks(digests):
        ids |= set(DeploymentImage.objects.filter(digest__in=chunk).values_list("deployment_id", flat=True))
    for digest in sorted(keys.digests):  # deployments that named no digest are traced through their pods
        ran = WorkloadSnapshot.objects.filter(digests__icontains=digest)
        for environment, application, at in ran.values_list("environment", "application", "observed_at")[:50]:
            live = deployments.filter(environment=environment, application=application, finished_at__lte=at)
            ids |= set(live.filter(image_digests=[]).order_by("-finished_at", "-id").values_list("id", flat=True)[:1])
    return ids


def _pull_shas(pulls: Any) -> set[str]:
    out: set[str] = set()
    for merge, squash, head, commits in pulls.values_list(
        "merge_commit_sha", "squash_commit_sha", "head_sha", "commits"
    ):
        out |= _shas(merge, squash, head, *(commits or []))
    return out
