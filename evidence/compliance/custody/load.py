"""Everything the chains of a set of deployments read, in a fixed number of queries.

One query per kind of row, whatever the number of deployments, images, approvals or protection
changes; the builder then works from these dictionaries alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, Subquery

from evidence.compliance.models import Policy, RiskAcceptance
from evidence.core.fetch import fetch_together
from evidence.readmodels.ancestry import (
    REBASED,
    Ancestry,
    known_lines,
    load_ancestry,
    pulls_with_commits,
    revision_shas,
)
from evidence.readmodels.models import (
    Approval,
    Artifact,
    Deployment,
    DeploymentContainer,
    DeploymentGap,
    DeploymentImage,
    ForgeHarvest,
    ProtectionObservation,
    ProtectionSnapshot,
    Provenance,
    PullRequest,
    PullRequestCommit,
    SignatureVerdict,
    WorkloadSnapshot,
)
from evidence.readmodels.models.deployments import LIVE_OUTCOMES
from ledger.models import Entry

# How far either side of a merge we look for the harvests that saw the branch; nobody looking
# for longer than this is a gap whatever was recorded.
OBSERVATION_WINDOW = timedelta(days=30)
# Forge harvest runs read in full this long after the deployments; beyond it only each subject's latest.
FORGE_WINDOW = timedelta(days=7)


# How far back a deployment's predecessor (same application and environment) is looked for.
PREVIOUS_WINDOW = timedelta(days=180)
__all__ = ["Loaded", "deployed_at", "load", "load_changes", "revision_shas", "running_snapshots"]


def deployed_at(row: Deployment) -> datetime:
    return row.finished_at or row.started_at


@dataclass
class Loaded:
    images: dict[int, list[DeploymentImage]] = field(default_factory=dict)
    containers: dict[int, list[DeploymentContainer]] = field(default_factory=dict)
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)
    signatures: dict[str, list[SignatureVerdict]] = field(default_factory=dict)
    provenance: dict[str, list[Provenance]] = field(default_factory=dict)
    pulls_by_sha: dict[str, list[PullRequest]] = field(default_factory=dict)
    approvals: dict[int, list[Approval]] = field(default_factory=dict)
    snapshots: dict[tuple[str, str, str], list[ProtectionSnapshot]] = field(default_factory=dict)
    observations: dict[tuple[str, str, str], list[ProtectionObservation]] = field(default_factory=dict)
    bypasses: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    workloads: dict[tuple[str, str], list[WorkloadSnapshot]] = field(default_factory=dict)
    live_times: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    gaps: dict[tuple[str, str], list[DeploymentGap]] = field(default_factory=dict)
    policies: dict[str, list[Policy]] = field(default_factory=dict)
    acceptances: dict[str, list[RiskAcceptance]] = field(default_factory=dict)
    # Registry coverage: when an oci.artifact entry first showed each digest (seq, observed_at).
    artifact_seen: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    # Forge coverage: per harvest-run subject ("github:owner/repo"), runs (seq, observed_at) in time order.
    forge_harvests: dict[str, list[tuple[int, datetime]]] = field(default_factory=dict)
    # Commit ancestry: the protected branches' first-parent lines around the traced commits.
    ancestry: Ancestry = field(default_factory=Ancestry)
    lines: set[tuple[str, str, str]] = field(default_factory=set)  # (forge, repository, branch) recorded
    pull_commits: dict[int, list[PullRequestCommit]] = field(default_factory=dict)  # by pull request id
    previous: dict[int, Deployment] = field(default_factory=dict)  # deployment id -> the one live before it


def _group(rows: Any, key: Any) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        out[key(row)].append(row)
    return dict(out)


def load(deployments: list[Deployment]) -> Loaded:
    """Read in stages, each stage's independent queries in one round trip (`fetch_together`)."""
    out = Loaded()
    if not deployments:
        return out
    ids = [d.id for d in deployments]
    apps = {(d.environment, d.application) for d in deployments}
    which_app = Q()
    for environment, application in apps:
        which_app |= Q(environment=environment, application=application)
    first = min(deployed_at(d) for d in deployments)
    last = max(deployed_at(d) for d in deployments)
    app_key = lambda r: (r.environment, r.application)  # noqa: E731
    starts = [d.started_at for d in deployments]
    since = min(starts) - PREVIOUS_WINDOW
    live_deployments = Deployment.objects.filter(outcome__in=LIVE_OUTCOMES)
    # The same applications' live deployments: those finished after the first of these (what ran
    # next: see running_snapshots) and those started shortly before (predecessors).
    nearby = (
        live_deployments.filter(which_app)
        .filter(Q(finished_at__gt=first) | Q(started_at__gte=since, started_at__lt=max(starts)))
        .order_by("started_at", "id")
        .only("id", "environment", "application", "started_at", "finished_at", "revision")
    )
    images, containers, nearby_rows, pods, gaps, policies, runs = fetch_together(
        DeploymentImage.objects.filter(deployment_id__in=ids).order_by("digest"),
        DeploymentContainer.objects.filter(deployment_id__in=ids).order_by("workload", "container"),
        nearby,
        _pods(apps, first, last),
        DeploymentGap.objects.filter(which_app).order_by("entry_seq"),
        _policies(sorted({d.environment for d in deployments})),
        _forge_runs(starts),
    )
    out.images = _group(images, lambda r: r.deployment_id)
    out.containers = _group(containers, lambda r: r.deployment_id)
    live = sorted((r for r in nearby_rows if r.finished_at is not None and r.finished_at > first), key=deployed_at)
    out.live_times = {k: [r.finished_at for r in v] for k, v in _group(live, app_key).items()}
    out.workloads = _group(pods, app_key)
    out.gaps = _group(gaps, app_key)
    out.policies = _group(policies, lambda r: r.environment)
    by_subject: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    # In time order: the latest runs come after the window, so they stay last for their subject.
    for subject, seq, at in sorted(runs, key=lambda r: (r[2], r[1])):
        by_subject[subject].append((seq, at))
    out.forge_harvests = dict(by_subject)
    earlier = [r for r in nearby_rows if since <= r.started_at < max(starts)]

    digests = sorted(
        {i.digest for rows in out.images.values() for i in rows}
        | {x for d in deployments for x in d.image_digests}
        | {x for d in deployments if not d.image_digests for s in running_snapshots(out, d)[:1] for x in s.digests}
    )
    # Each artifact row with the time its first oci.artifact entry was recorded, in the same query.
    first_recorded = Entry.objects.filter(seq=OuterRef("first_seq")).values("observed_at")[:1]
    artifacts, signatures, provenance = fetch_together(
        Artifact.objects.filter(digest__in=digests)
        .annotate(first_observed_at=Subquery(first_recorded))
        .order_by("entry_seq"),
        SignatureVerdict.objects.filter(digest__in=digests).order_by("entry_seq"),
        Provenance.objects.filter(digest__in=digests).order_by("entry_seq"),
    )
    out.artifacts = _group(artifacts, lambda r: r.digest)
    out.signatures = _group(signatures, lambda r: r.digest)
    out.provenance = _group(provenance, lambda r: r.digest)
    for row in (a for a in artifacts if a.first_observed_at is not None):
        seen = out.artifact_seen.get(row.digest)
        if seen is None or row.first_observed_at < seen[1]:
            out.artifact_seen[row.digest] = (row.first_seq, row.first_observed_at)

    shas = {s for d in deployments for s in revision_shas(d.revision)}
    shas |= {p.source_commit.lower() for rows in out.provenance.values() for p in rows if p.source_commit}
    load_lineage(out, deployments, shas, earlier)
    pulls = _pulls_of(out.ancestry, shas)
    by_sha: dict[str, list[PullRequest]] = defaultdict(list)
    for pull in pulls:
        for sha in {pull.merge_commit_sha, pull.squash_commit_sha, *pull.commits}:
            if sha and sha in shas:
                by_sha[sha].append(pull)
    out.pulls_by_sha = dict(by_sha)
    for sha in sorted(shas - set(by_sha)):  # a rebase merge rewrote the commit: its pull request all the same
        landing = out.ancestry.landing(sha)
        if landing is not None and landing.how == REBASED and landing.pull is not None:
            out.pulls_by_sha[sha] = [landing.pull]
            pulls.append(landing.pull)
    load_changes(out, pulls)
    return out


def _pods(apps: set[tuple[str, str]], first: datetime, last: datetime) -> Any:
    """Pods snapshots of these applications from the first deployment on, each application's up to
    its first live deployment after the last one asked about: later snapshots belong to
    deployments not asked about (see running_snapshots); with none yet, its pods run on."""
    which = Q()
    for environment, application in apps:
        after = Deployment.objects.filter(
            environment=environment, application=application, outcome__in=LIVE_OUTCOMES, finished_at__gt=last
        ).order_by("finished_at")
        bound = Subquery(after.values("finished_at")[:1])
        which |= Q(environment=environment, application=application) & (Q(observed_at__lt=bound) | ~Q(Exists(after)))
    return WorkloadSnapshot.objects.filter(which, observed_at__gte=first).order_by("observed_at", "id")


def _forge_runs(starts: list[datetime]) -> Any:
    """(subject, seq, observed_at) of the forge harvest runs soon after the deployments (the first
    one after each is cited), else the latest of each target."""
    forge = Entry.objects.filter(kind="harvest.run").filter(
        Q(subject__startswith="github:") | Q(subject__startswith="gitlab:")
    )
    window = forge.filter(observed_at__gte=min(starts), observed_at__lte=max(starts) + FORGE_WINDOW)
    latest = ForgeHarvest.objects.filter(last_observed_at__gt=max(starts) + FORGE_WINDOW)  # one row per target
    return (
        window.order_by()
        .values_list("subject", "seq", "observed_at")
        .union(latest.order_by().values_list("subject", "last_seq", "last_observed_at"), all=True)
    )


def _pulls_of(ancestry: Ancestry, shas: set[str]) -> list[PullRequest]:
    """Pull requests that merged as or contain one of these commits, in merge order. The ancestry
    read those of every commit on its lines' windows: only commits outside them need a query."""
    on_lines = {r.sha for rows in ancestry.rows.values() for r in rows}
    if shas - on_lines:
        return pulls_with_commits(shas)
    pulls = []
    for pull in ancestry.pulls:
        commits = {c.sha for c in ancestry.pull_commits.get(pull.id, [])}
        if ({pull.merge_commit_sha, pull.squash_commit_sha} | commits) & shas:
            pulls.append(pull)
    return sorted(pulls, key=lambda p: (p.merged_at is None, p.merged_at or datetime.min.replace(tzinfo=UTC), p.id))


def running_snapshots(out: Loaded, d: Deployment) -> list[WorkloadSnapshot]:
    """Pods observed from the deployment's finish until the next deployment of the application."""
    if d.finished_at is None:
        return []
    key = (d.environment, d.application)
    later = [t for t in out.live_times.get(key, []) if t > d.finished_at]
    until = later[0] if later else None
    return [
        s
        for s in out.workloads.get(key, [])
        if s.observed_at >= d.finished_at and (until is None or s.observed_at < until)
    ]


def load_lineage(out: Loaded, deployments: list[Deployment], shas: set[str], earlier: list[Deployment]) -> None:
    """Each deployment's predecessor (among `earlier`: the applications' live deployments started
    within PREVIOUS_WINDOW before, by start), and the branch lines from it to the commits traced."""
    by_app = _group(earlier, lambda r: (r.environment, r.application))
    bounds = []
    for d in deployments:
        before = [r for r in by_app.get((d.environment, d.application), []) if r.started_at < d.started_at]
        if before and before[-1].id != d.id:
            out.previous[d.id] = before[-1]
            digests = set(d.image_digests) | {i.digest for i in out.images.get(d.id, [])}
            built = {p.source_commit.lower() for x in digests for p in out.provenance.get(x, []) if p.source_commit}
            mine = set(revision_shas(d.revision)) | built
            bounds += [(s, t) for s in mine for t in revision_shas(before[-1].revision)]
    out.ancestry = load_ancestry(shas, bounds)
    off = any(out.ancestry.landing(s) is None for s in shas)  # only then: which lines were recorded at all
    out.lines = out.ancestry.known | (known_lines() if off else set())


def load_changes(out: Loaded, pulls: list[PullRequest]) -> None:
    """Approvals, commits (who wrote and pushed them), protection snapshots, observations and
    bypasses of these pull requests, in one round trip."""
    # The commits of pull requests on the lines the ancestry read came with them: read only the others'.
    read = {p.id for p in out.ancestry.pulls}
    others = [p.id for p in pulls if p.id not in read]
    branches = {(p.forge, p.repository, p.base) for p in pulls}
    which = Q()
    for forge, repository, base in branches:
        which |= Q(forge=forge, repository=repository, branch=base)
    merged = [p.merged_at for p in pulls if p.merged_at]
    window = (
        Q(observed_at__gte=min(merged) - OBSERVATION_WINDOW, observed_at__lte=max(merged) + OBSERVATION_WINDOW)
        if merged
        else None
    )
    github_repos = sorted({r for f, r, _ in branches if f == "github"})
    none = Entry.objects.none()
    approvals, commits, snapshots, observations, suites = fetch_together(
        Approval.objects.filter(pull_request_id__in=[p.id for p in pulls]).order_by("submitted_at", "id"),
        PullRequestCommit.objects.filter(pull_request_id__in=others).order_by("position"),
        ProtectionSnapshot.objects.filter(which).order_by("observed_at", "entry_seq") if branches else none,
        ProtectionObservation.objects.filter(which & window).order_by("observed_at", "entry_seq")
        if branches and window is not None
        else none,
        Entry.objects.filter(kind="github.rule_suite", subject__in=[f"github:{r}" for r in github_repos])
        .order_by("seq")
        .only("seq", "payload")
        if github_repos
        else none,
    )
    out.approvals = _group(approvals, lambda r: r.pull_request_id)
    out.pull_commits = _group(commits, lambda r: r.pull_request_id)
    for pull in pulls:
        if pull.id in read and out.ancestry.pull_commits.get(pull.id):
            out.pull_commits[pull.id] = list(out.ancestry.pull_commits[pull.id])
    key = lambda r: (r.forge, r.repository, r.branch)  # noqa: E731
    out.snapshots = _group(snapshots, key)
    out.observations = _group(observations, key)
    for entry in suites:
        suite = entry.data.get("rule_suite") or {}
        if suite.get("result") == "bypass":
            out.bypasses.setdefault((entry.data.get("repository", ""), str(suite.get("after_sha") or "")), []).append(
                (entry.seq, suite)
            )


def _policies(environments: list[str]) -> Any:
    # A proposal is not in force until a second engineer approves it.
    return Policy.objects.filter(environment__in=environments, approval_seq__isnull=False).order_by(
        "effective_at", "entry_seq"
    )


def load_policies(out: Loaded, environments: list[str]) -> None:
    out.policies = _group(_policies(environments), lambda r: r.environment)


def load_acceptances(keys: list[str]) -> dict[str, list[RiskAcceptance]]:
    # Only approved acceptances count (four eyes); a pending proposal leaves the finding open.
    rows = RiskAcceptance.objects.filter(finding_key__in=keys, approval_seq__isnull=False).order_by("approval_seq")
    return _group(rows, lambda r: r.finding_key)
