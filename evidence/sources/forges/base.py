"""What a forge supplies, and the forge-neutral records its ledger entries are read into.

A forge is a kind of source (harvester, webhook receiver, config schema) plus what the code
downstream needs to know about it without naming it: the shape of its web URLs, how its config
says which repositories a source watches, and normalisers that turn each of its entry kinds into
a Change, Approvals, Dismissal, Protection or BranchHistory. The projector and custody work on
those alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from evidence.sources.harvesters.base import SourceKind
from evidence.sources.schemas import SourceConfig


class ForgeConfig(SourceConfig):
    """Keys every forge source accepts."""

    branches: list[str] = Field(default_factory=list)  # default: the repository's default branch
    page_size: PositiveInt = 100
    history_limit: PositiveInt = 1000  # commits one harvest walks back along a watched branch
    max_retries: NonNegativeInt = 4
    max_rate_limit_wait: NonNegativeFloat = 300  # seconds; a longer rate-limit wait fails the run
    webhook_secret_env: str = ""  # variable (or VAR_FILE) with this source's own webhook secret


# --- forge-neutral records ----------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    """One commit as a forge lists it: who wrote it, who committed (pushed) it, its parents."""

    sha: str
    parents: tuple[str, ...]
    author: str  # the forge account when the forge links one, else the git author name
    author_email: str
    committer: str
    committer_email: str
    authored_at: datetime | None
    committed_at: datetime | None

    def people(self) -> set[str]:
        """Lower-case identities of its author and committer: account, name, e-mail and its local part.
        The forge's own web committer (GitHub's web-flow) is nobody."""
        out = set()
        for who, email in ((self.author, self.author_email), (self.committer, self.committer_email)):
            if who.lower() in FORGE_COMMITTERS or email.lower() in FORGE_COMMITTER_EMAILS:
                continue
            out |= {who.lower(), email.lower(), email.lower().split("@", 1)[0]}
        return out - {""}


# Commits made by the forge itself (merge and squash buttons, web edits): not a person's push.
FORGE_COMMITTERS = frozenset({"web-flow", "github", "gitlab"})
FORGE_COMMITTER_EMAILS = frozenset({"noreply@github.com"})


@dataclass(frozen=True)
class BranchHistory:
    """The first-parent line of a protected branch, as far as one harvest walked it: the commits
    after `since` (the head recorded before; '' the first time) up to `head`, oldest first.
    `complete`: the walk reached `since` (or the root); otherwise the line may have been rewritten
    (a force push) or was longer than the harvest reads, and earlier commits are not known."""

    repository: str
    branch: str
    head: str
    since: str
    commits: tuple[Commit, ...]
    complete: bool


@dataclass(frozen=True)
class Change:
    """A merged pull request (GitHub), merge request (GitLab) or the like."""

    repository: str
    number: int
    title: str
    url: str
    author: str
    base: str  # the branch it was merged into
    head_sha: str
    merge_commit_sha: str
    squash_commit_sha: str
    merged_at: datetime | None
    merged_by: str
    commits: tuple[str, ...]  # oldest first
    commit_details: tuple[Commit, ...] = ()  # the same commits with their authors and committers
    opened_at: datetime | None = None  # when the change was opened (DORA lead time starts there)


@dataclass(frozen=True)
class Approval:
    """One reviewer's verdict on a change, with the commit it was given on when the forge says."""

    review_id: str
    reviewer: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    commit_id: str  # 'unknown' when the forge does not say
    submitted_at: datetime | None


@dataclass(frozen=True)
class Approvals:
    """Approvals of one change from one entry. `complete`: the forge listed every approval standing
    (approvals not listed were revoked); otherwise the entry adds to what is known."""

    repository: str
    number: int
    approvals: tuple[Approval, ...]
    complete: bool


@dataclass(frozen=True)
class Dismissal:
    """An approval withdrawn by someone (GitHub's review dismissal)."""

    repository: str
    number: int
    review_id: str
    dismissed_by: str
    dismissed_at: datetime | None
    commit_id: str
    review_state: str = ""  # what the review said before it was dismissed (APPROVED, ...), upper case


@dataclass(frozen=True)
class Protection:
    """A branch's protection as recorded when first seen or changed."""

    repository: str
    branch: str
    settings: dict[str, Any]  # effective settings, 'unknown' where the credential could not read
    detail: dict[str, Any]  # what the forge sent, per part
    hash: str
    previous_hash: str


R = TypeVar("R", Change, Approvals, Dismissal, Protection, BranchHistory)


@dataclass(frozen=True)
class Normaliser(Generic[R]):
    """Reads one kind of ledger entry of a forge into a forge-neutral record."""

    record: type[R]
    read: Callable[[dict[str, Any]], R]


# --- the forge -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Forge(SourceKind):
    label: str  # "GitHub"
    change_mark: str  # between repository and number: github:acme/app#7, gitlab:acme/app!7
    change_path: str  # after the repository's web URL: "/pull/{number}"
    commit_path: str  # "/commit/{sha}"
    watch_key: str  # config key listing watched repositories: "repositories", "projects"
    owner_keys: tuple[str, ...]  # config keys naming an owner all of whose repositories are watched
    normalisers: Mapping[str, Normaliser[Any]] = field(default_factory=dict)  # by entry kind

    @csrf_exempt  # a webhook: authenticated by its signature or token, never by a session
    def receive(self, request: HttpRequest) -> HttpResponse:
        """The view of /hooks/<name>/: the forge's receiver, imported on the first delivery."""
        response: HttpResponse = self.load_receiver()(request)
        return response

    def change_url(self, repository_url: str, number: int) -> str:
        return repository_url.rstrip("/") + self.change_path.format(number=number)

    def commit_url(self, repository_url: str, sha: str) -> str:
        return repository_url.rstrip("/") + self.commit_path.format(sha=sha)

    def repository_url(self, change_url: str) -> str | None:
        """The repository's web URL from the URL of one of its changes; None if not this forge's shape."""
        marker = self.url_markers()[0]
        if marker not in change_url:
            return None
        return change_url.split(marker, 1)[0]

    def url_markers(self) -> tuple[str, str]:
        """What follows the repository in its change and commit URLs: "/pull/", "/commit/"."""
        return self.change_path.split("{", 1)[0], self.commit_path.split("{", 1)[0]

    def watches(self, config: Mapping[str, Any], repository: str) -> bool:
        """Whether a source with this config watches the repository (listed, or under its owner)."""
        if repository in (config.get(self.watch_key) or []):
            return True
        owner = repository.rsplit("/", 1)[0]
        parent = next((config[k] for k in self.owner_keys if config.get(k)), None)
        return bool(parent) and (owner == parent or owner.startswith(f"{parent}/"))


def text(value: Any) -> str:
    """A payload value as the read models store it: '' for absent."""
    return "" if value is None else str(value)
