"""What every rule is given and what it declares.

A rule is one module with one `RULE = Rule(...)`: its name, the scope it runs in, which links
or evidence it reads, which finding codes it can raise, a sentence on what it checks, and
`check(ctx, case)`, which adds its links to the chain through `ctx.add`. Rules run in the order
of `rules.RULES`, per scope:

  deployment  once, first (the deployment, the policy in force)
  image       once per image digest (image, signature, provenance)
  change      once per commit traced: from an image's provenance (path "image"), then from each
              commit of the deployed revision (path "config"): commit, pull request, approvals,
              protection, protection observed, bypass
  after       once, last (running pods, how it was synced, controller history)

Rules share what they found through the `Case` of their scope (the provenance chosen, the pull
request found, the approvals counted), never through the database: `load` read everything first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context
    from evidence.readmodels.models import Approval, DeploymentImage, Provenance, PullRequest

SCOPES = ("deployment", "image", "change", "after")
UNKNOWN = "unknown"


@dataclass
class Case:
    """What the rules of one scope have found so far (one image, or one traced commit)."""

    path: str = "deployment"  # deployment, image or config
    digest: str = ""
    image_row: DeploymentImage | None = None
    provenance: Provenance | None = None  # the verified statement the image path follows
    sha: str = ""  # the commit traced ("" = nothing to trace: the change rules add nothing)
    about: str = ""  # the subject of the commit and pull-request links (digest or SHA)
    pull: PullRequest | None = None
    counted: list[Approval] = field(default_factory=list)  # approvals standing at the merge
    stale: list[Approval] = field(default_factory=list)
    committed: list[Approval] = field(default_factory=list)  # by someone who wrote or pushed a commit of it
    after_fact: list[Approval] = field(default_factory=list)  # given only after the merge
    settings: dict[str, Any] = field(default_factory=dict)  # protection in force at the merge

    @property
    def prefix(self) -> str:
        return "config " if self.path == "config" else ""


@dataclass(frozen=True)
class Rule:
    name: str
    scope: str
    reads: tuple[str, ...]
    codes: tuple[str, ...]
    explanation: str
    check: Callable[[Context, Case], None]

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"rule {self.name}: scope {self.scope!r} is not one of {SCOPES}")


def trusted(name: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatch(name, pattern) for pattern in patterns)


def stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "an unknown time"


def repo_path(url: str) -> str:
    """owner/name (or group/sub/project) of a source repository URL, lower case."""
    text = url.lower().removeprefix("git+").removesuffix(".git").rstrip("/")
    if "://" in text:
        text = text.split("://", 1)[1]
    elif "@" in text:  # git@host:owner/name
        text = text.split("@", 1)[1].replace(":", "/", 1)
    return text.split("/", 1)[1] if "/" in text else ""


def same_repository(source_repo: str, repository: str) -> bool:
    """Whether a provenance's source repository URL names this forge repository."""
    path = repo_path(source_repo)
    return bool(path) and (path == repository.lower() or path.endswith("/" + repository.lower()))


def commit_url(sha: str, pull: PullRequest | None, source_repo: str = "") -> str:
    """The commit's web page: from the pull request's URL by its forge's shape, else the source repository."""
    from evidence.sources import kinds  # the registry imports every harvester: only when a URL is wanted

    url = kinds.commit_url_of_change(pull.forge, pull.url, sha) if pull is not None and pull.url else ""
    repo = source_repo.removeprefix("git+").removesuffix(".git")
    if not url and repo.startswith("https://"):
        url = kinds.commit_url_of_repository(repo, sha)
    return url


def merged_as(pull: PullRequest) -> set[str]:
    """The commits a merged change landed as: its merge or squash commit; its head when the forge
    names neither (a fast-forward merge)."""
    landed = {pull.merge_commit_sha, pull.squash_commit_sha} - {""}
    return landed or ({pull.head_sha} - {""})


def person(name: str) -> set[str]:
    """Lower-case ways to name a person: as given, and an e-mail's local part ('carol@x' -> 'carol')."""
    low = name.strip().lower()
    return {low, low.split("@", 1)[0]} - {""} if low else set()


def pushers(loaded: Any, pull: PullRequest) -> dict[str, list[str]]:
    """Who authored or committed a commit of the change (identities, lower case) -> those commits."""
    out: dict[str, list[str]] = {}
    forge_own = {"web-flow", "github", "gitlab", "noreply@github.com", "noreply"}
    for c in loaded.pull_commits.get(pull.id, []):
        for who in (c.author, c.author_email, c.committer, c.committer_email):
            for name in person(who) - forge_own:
                out.setdefault(name, []).append(c.sha)
    return out


def registry_seen(loaded: Any, digest: str) -> tuple[int, datetime] | None:
    """When a registry harvest first looked at this digest (its first oci.* entry), or None: the
    coverage that tells "never looked" from "looked and found nothing"."""
    seen = [loaded.artifact_seen[digest]] if digest in loaded.artifact_seen else []
    seen += [(r.entry_seq, r.observed_at) for r in loaded.signatures.get(digest, [])]
    seen += [(r.entry_seq, r.observed_at) for r in loaded.provenance.get(digest, [])]
    return min(seen, key=lambda s: (s[1], s[0])) if seen else None


def forge_seen(loaded: Any, repository: str, since: datetime) -> tuple[int, datetime] | None:
    """The first forge harvest of `repository` (of any repository when it is not known) at or after
    `since`: the coverage that tells "no pull request" from "never looked"."""
    best: tuple[int, datetime] | None = None
    for subject, runs in loaded.forge_harvests.items():
        target = subject.split(":", 1)[1].lower()
        if repository and not (target == repository or repository.endswith("/" + target)):
            continue
        after = next(((seq, at) for seq, at in runs if at >= since), None)
        if after is not None and (best is None or after[1] < best[1]):
            best = after
    return best
