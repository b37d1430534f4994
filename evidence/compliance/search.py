"""Search by what people paste: a commit SHA, an image digest, a pull/merge request or a login.

`search(q)` says what it took `q` for, what it found (each with its links) and where and when it
ran: the deployments it reached, each with its running interval. Forms (`classify`):

- commit: 7 to 64 hex characters (a prefix), also inside a Flux revision `main@sha1:<sha>`;
- digest: `sha256:` and 7 to 64 hex characters (a prefix);
- change: `owner/repo#N` (GitHub pull request) or `group/project!N` (GitLab merge request);
- person: a forge login (`alice`, `ci-bot`, `first.last`).

Anything else is `BadQuery` (the API's 400). Every list is capped at LIMIT rows, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse

from evidence.readmodels.models import (
    Approval,
    Artifact,
    Deployment,
    DeploymentCommit,
    DeploymentImage,
    Provenance,
    PullRequest,
    PullRequestCommit,
    RunningInterval,
)

LIMIT = 50
HEX = re.compile(r"[0-9a-f]{7,64}")
FLUX_REVISION = re.compile(r"[^@\s]+@sha1:(?P<sha>[0-9a-f]{7,64})")
DIGEST = re.compile(r"sha256:(?P<hex>[0-9a-f]{7,64})")
CHANGE = re.compile(r"(?P<repository>[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)(?P<mark>[#!])(?P<number>\d{1,9})")
LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\[\]-]{0,99}")
FORMS = "a commit SHA (7+ hex), main@sha1:<sha>, sha256:<digest>, owner/repo#N, group/project!N or a login"


class BadQuery(ValueError):
    """`q` is none of the forms searched; the message lists them."""


@dataclass(frozen=True)
class Query:
    kind: str  # commit, digest, change, person
    value: str
    mark: str = ""
    number: int = 0


def classify(q: str) -> Query:
    text = (q or "").strip()
    if not text:
        raise BadQuery(f"q is required: {FORMS}")
    lowered = text.lower()
    if match := FLUX_REVISION.fullmatch(lowered):
        return Query("commit", match.group("sha"))
    if match := DIGEST.fullmatch(lowered):
        return Query("digest", f"sha256:{match.group('hex')}")
    if HEX.fullmatch(lowered):
        return Query("commit", lowered)
    if match := CHANGE.fullmatch(text):
        return Query("change", match.group("repository"), match.group("mark"), int(match.group("number")))
    if LOGIN.fullmatch(text):
        return Query("person", text)
    raise BadQuery(f"q {text[:100]!r}: expected {FORMS}")


def search(q: str) -> dict[str, Any]:
    query = classify(q)
    matches, deployments = SEARCHES[query.kind](query)
    if query.kind == "commit" and not matches and LOGIN.fullmatch(q.strip()) and not deployments.exists():
        query = Query("person", q.strip())  # `deadbeef` may be a login too
        matches, deployments = SEARCHES["person"](query)
    rows = list(deployments.select_related("running_interval").order_by("-finished_at", "-id")[: LIMIT + 1])
    return {
        "query": q.strip(),
        "kind": query.kind,
        "found": bool(matches or rows),
        "matches": matches,
        "deployments": [_deployment(row) for row in rows[:LIMIT]],
        "truncated": len(rows) > LIMIT,
    }


def _prefix(field: str, value: str) -> Q:
    """A prefix as a range too, so the column's btree index answers it under any collation."""
    return Q(**{f"{field}__gte": value, f"{field}__lt": value + "~", f"{field}__startswith": value})


def _by_commit(query: Query) -> tuple[list[dict[str, Any]], QuerySet[Deployment]]:
    sha = query.value
    changes = PullRequest.objects.filter(
        _prefix("merge_commit_sha", sha)
        | _prefix("squash_commit_sha", sha)
        | _prefix("head_sha", sha)
        | Q(id__in=PullRequestCommit.objects.filter(_prefix("sha", sha)).values("pull_request_id"))
    )
    built = Provenance.objects.filter(_prefix("source_commit", sha), verdict="verified")
    commits = sorted(set(DeploymentCommit.objects.filter(_prefix("sha", sha)).values_list("sha", flat=True)[:LIMIT]))
    matches = [{"kind": "commit", "sha": full, "links": {}} for full in commits]
    matches += [_change(row) for row in changes.order_by("-merged_at")[:LIMIT]]
    matches += [_provenance(row) for row in built.order_by("-entry_seq")[:LIMIT]]
    deployed = Deployment.objects.filter(
        Q(id__in=DeploymentCommit.objects.filter(_prefix("sha", sha)).values("deployment_id"))
        | Q(id__in=DeploymentImage.objects.filter(digest__in=built.values("digest")).values("deployment_id"))
    )
    return matches, deployed


def _by_digest(query: Query) -> tuple[list[dict[str, Any]], QuerySet[Deployment]]:
    digest = query.value
    artifacts = Artifact.objects.filter(_prefix("digest", digest)).order_by("registry", "repository")
    matches = [
        {
            "kind": "image",
            "digest": row.digest,
            "repository": f"{row.registry}/{row.repository}",
            "tags": row.tags,
            "entry_seq": row.entry_seq,
            "links": {"admin": _admin("readmodels_artifact_change", row.pk)},
        }
        for row in artifacts[:LIMIT]
    ]
    built = Provenance.objects.filter(_prefix("digest", digest), verdict="verified").order_by("-entry_seq")
    matches += [_provenance(row) for row in built[:LIMIT]]
    images = DeploymentImage.objects.filter(_prefix("digest", digest)).values("deployment_id")
    return matches, Deployment.objects.filter(id__in=images)


def _by_change(query: Query) -> tuple[list[dict[str, Any]], QuerySet[Deployment]]:
    forge = "github" if query.mark == "#" else "gitlab"
    changes = list(PullRequest.objects.filter(forge=forge, repository=query.value, number=query.number))
    shas = {sha for row in changes for sha in (row.merge_commit_sha, row.squash_commit_sha) if sha}
    built = Provenance.objects.filter(source_commit__in=shas, verdict="verified").values("digest")
    deployed = Deployment.objects.filter(
        Q(id__in=DeploymentCommit.objects.filter(sha__in=shas).values("deployment_id"))
        | Q(id__in=DeploymentImage.objects.filter(digest__in=built).values("deployment_id"))
    )
    return [_change(row) for row in changes], deployed


def _by_person(query: Query) -> tuple[list[dict[str, Any]], QuerySet[Deployment]]:
    login = query.value
    changes = PullRequest.objects.filter(Q(author=login) | Q(merged_by=login)).order_by("-merged_at")
    matches = [_change(row, role="author" if row.author == login else "merged") for row in changes[:LIMIT]]
    reviews = Approval.objects.filter(reviewer=login).select_related("pull_request").order_by("-submitted_at")
    for review in reviews[:LIMIT]:
        matches.append(
            {
                "kind": "review",
                "repository": review.repository,
                "number": review.number,
                "state": review.state,
                "commit": review.commit_id,
                "submitted_at": review.submitted_at.isoformat() if review.submitted_at else None,
                "entry_seq": review.entry_seq,
                "links": _change(review.pull_request)["links"] if review.pull_request else {},
            }
        )
    return matches, Deployment.objects.filter(initiated_by=login)


SEARCHES = {"commit": _by_commit, "digest": _by_digest, "change": _by_change, "person": _by_person}


def _change(row: PullRequest, role: str = "") -> dict[str, Any]:
    mark = "!" if row.forge == "gitlab" else "#"
    out = {
        "kind": "merge_request" if row.forge == "gitlab" else "pull_request",
        "reference": f"{row.repository}{mark}{row.number}",
        "title": row.title,
        "author": row.author,
        "merged_by": row.merged_by,
        "merged_at": row.merged_at.isoformat() if row.merged_at else None,
        "merge_commit": row.squash_commit_sha or row.merge_commit_sha,
        "entry_seq": row.entry_seq,
        "links": {
            "forge": row.url,
            "api": f"{reverse('pull-requests')}?forge={row.forge}&repository={row.repository}&number={row.number}",
            "admin": _admin("readmodels_pullrequest_change", row.pk),
        },
    }
    if role:
        out["role"] = role
    return out


def _provenance(row: Provenance) -> dict[str, Any]:
    return {
        "kind": "build",
        "digest": row.digest,
        "source_repo": row.source_repo,
        "source_commit": row.source_commit,
        "builder": row.builder_id,
        "entry_seq": row.entry_seq,
        "links": {"admin": _admin("readmodels_provenance_change", row.pk)},
    }


def _deployment(row: Deployment) -> dict[str, Any]:
    interval: RunningInterval | None = getattr(row, "running_interval", None)
    return {
        "id": row.id,
        "environment": row.environment,
        "application": row.application,
        "revision": row.revision,
        "image_digests": row.image_digests,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "outcome": row.outcome,
        "ran_from": interval.started.isoformat() if interval else None,
        "ran_until": interval.ended.isoformat() if interval and interval.ended else None,
        "running_now": bool(interval and interval.ended is None),
        "entry_seqs": row.entry_seqs,
        "links": {
            "api": reverse("deployment-detail", args=[row.id]),
            "custody": reverse("deployment-custody", args=[row.id]),
            "admin": _admin("readmodels_deployment_change", row.pk),
        },
    }


def _admin(name: str, pk: int) -> str:
    try:
        return reverse(f"admin:{name}", args=[pk])
    except NoReverseMatch:  # the admin not mounted (an API-only deployment)
        return ""
