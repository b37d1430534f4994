"""GitLab (gitlab.com and self-managed) through python-gitlab: merged merge requests (with who
authored and committed each commit), approvals, approval state and rules, project approval
settings, protected branches and the first-parent history of each watched branch.

GitLab has no conditional requests on these endpoints; merge requests are listed with
`updated_after` from the cursor, so a rerun over unchanged data makes listing requests only.
"""

from __future__ import annotations

import fnmatch
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import gitlab
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError, GitlabGetError, GitlabListError

from evidence.core.digests import canonical_hash32
from evidence.core.times import parse_time
from evidence.sources.forges.common import (
    HISTORY_LIMIT,
    UNKNOWN,
    Observed,
    change_key_content,
    check_snapshot,
    history_payload,
    most,
    snapshot_key,
    walk_first_parents,
)
from evidence.sources.forges.gitlab.records import approval_payload, commit_json, merge_request_payload
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from ledger.envelope import Record

if TYPE_CHECKING:
    from evidence.sources.models import Source

DEFAULT_URL = "https://gitlab.com"
APPROVED_NOTE = "approved this merge request"
UNAPPROVED_NOTE = "unapproved this merge request"


class RateLimitTooLong(requests.RequestException):
    """A 429 asks for a longer wait than the source allows; the run fails and says how long."""


class _Gitlab(gitlab.Gitlab):
    """python-gitlab retries up to 10 times per call unless told otherwise; this makes it a setting."""

    max_retries = 4

    def http_request(self, *args: Any, max_retries: int | None = None, **kwargs: Any) -> requests.Response:
        limit = self.max_retries if max_retries is None else max_retries
        return super().http_request(*args, max_retries=limit, **kwargs)


class Client:
    def __init__(self, source: Source) -> None:
        credential = source.credential()
        if not credential:
            name = source.credential_env or "(none named)"
            raise HarvestError(f"no credential: set the environment variable {name}")
        self.requests = 0
        self.max_wait = float(source.setting("max_rate_limit_wait", 300))
        session = requests.Session()
        session.hooks["response"].append(self.on_response)
        token = (
            {"oauth_token": credential} if source.setting("token_type") == "oauth" else {"private_token": credential}
        )
        self.gl = _Gitlab(
            (source.url or DEFAULT_URL).rstrip("/"),
            session=session,
            per_page=int(source.setting("page_size", 100)),
            timeout=30,
            # 5xx and connections cut mid-answer are retried; so is 429 (python-gitlab obeys
            # Retry-After / RateLimit-Reset by default, up to 10 times; on_response caps the wait).
            retry_transient_errors=True,
            **token,
        )
        self.gl.max_retries = int(source.setting("max_retries", 4))

    def on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Count each answer; refuse to sleep through a rate limit longer than allowed."""
        self.requests += 1
        if response.status_code == 429:
            wait = _rate_limit_wait(response.headers)
            if wait > self.max_wait:
                raise RateLimitTooLong(f"rate limited for {wait:.0f}s, longer than max_rate_limit_wait")


def _rate_limit_wait(headers: Any) -> float:
    if str(headers.get("Retry-After", "")).isdigit():
        return float(headers["Retry-After"])
    if str(headers.get("RateLimit-Reset", "")).isdigit():
        return max(0.0, int(headers["RateLimit-Reset"]) - time.time())
    return 0.0


def describe(exc: Exception, source: Source, what: str) -> str:
    """One line for a failed call; never the credential."""
    if isinstance(exc, GitlabAuthenticationError):
        return f"{what}: the credential in ${source.credential_env} was refused (401 Unauthorized)"
    if isinstance(exc, GitlabError) and exc.response_code == 404:
        return f"{what}: not found (404): deleted, moved, or not visible to this credential"
    if isinstance(exc, GitlabError):
        return f"{what}: GitLab answered {exc.response_code} {exc.error_message}".rstrip()
    if isinstance(exc, RateLimitTooLong):
        return f"{what}: {exc}"
    if isinstance(exc, requests.RequestException):
        return f"{what}: could not read the answer from {source.url or DEFAULT_URL} ({type(exc).__name__})"
    return f"{what}: {type(exc).__name__}: {exc}"


def protected_match(branches: list[dict[str, Any]], branch: str) -> dict[str, Any] | None:
    """The protected-branch rule that covers a branch: its exact name first, then wildcards."""
    for item in branches:
        if item.get("name") == branch:
            return item
    for item in branches:
        if fnmatch.fnmatchcase(branch, item.get("name", "")):
            return item
    return None


def unreadable(exc: GitlabError) -> bool:
    """403/404 on a settings endpoint: not a maintainer, or a feature of a tier the instance lacks."""
    return exc.response_code in (403, 404)


class GitLabHarvester(Harvester):
    kind = "gitlab"

    def targets(self, source: Source) -> list[str]:
        """Configured projects, plus every project of the configured group (with subgroups)."""
        names = list(source.setting("projects", []) or [])
        group = source.setting("group")
        if group:
            client = Client(source)
            try:
                found = client.gl.groups.get(group, lazy=True).projects.list(
                    iterator=True, include_subgroups=True, archived=False
                )
                names += [p.path_with_namespace for p in found]
            except (GitlabError, requests.RequestException) as exc:
                raise HarvestError(describe(exc, source, f"group {group}")) from None
        return sorted(set(names))

    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        client = Client(source)
        run = _Run(source, target, cursor, client)
        try:
            run.collect()
        except (GitlabError, requests.RequestException) as exc:
            raise HarvestError(describe(exc, source, f"gitlab {target}: {run.step}")) from None
        return HarvestResult(
            records=run.records,
            cursor=run.next_cursor,
            requests=client.requests,
            observed=run.observed.as_dict("gitlab", target),
        )


class _Run:
    """One harvest of one project: reads, builds records and the next cursor, writes nothing."""

    def __init__(self, source: Source, target: str, cursor: dict[str, Any], client: Client) -> None:
        self.source = source
        self.target = target
        self.cursor = cursor
        self.client = client
        self.records: list[Record] = []
        self.next_cursor: dict[str, Any] = dict(cursor)
        self.observed = Observed()
        self.now = datetime.now(UTC)
        self.step = "project"

    def record(self, kind: str, subject: str, key: str, data: dict[str, Any], occurred: str | None = None) -> None:
        self.records.append(
            Record(
                kind,
                self.source.name,
                subject,
                key,
                data,
                observed_at=self.now,
                occurred_at=parse_time(occurred, to_utc=True),
            )
        )

    def collect(self) -> None:
        # Reference: https://docs.gitlab.com/api/projects/#get-a-single-project
        self.project = self.client.gl.projects.get(self.target)
        self.branches = list(self.source.setting("branches", []) or [self.project.default_branch])
        self.step = "approval settings"
        self.settings = self.collect_settings()
        self.step = "merge requests"
        self.collect_merge_requests()
        self.step = "protected branches"
        self.collect_protection()
        for branch in self.branches:
            self.step = f"history of {branch}"
            self.collect_history(branch)

    # --- settings -------------------------------------------------------------------------
    def collect_settings(self) -> dict[str, Any]:
        # Reference: https://docs.gitlab.com/api/merge_request_approvals/#retrieve-project-configuration
        try:
            approvals: Any = self.project.approvals.get().asdict()
        except GitlabGetError as exc:
            if not unreadable(exc):
                raise
            approvals = UNKNOWN
            self.observed.unknown.append("approval settings")
        # Reference: https://docs.gitlab.com/api/merge_request_approvals/#get-all-approval-rules-for-project
        try:
            rules: Any = [r.asdict() for r in self.project.approvalrules.list(iterator=True)]
        except GitlabListError as exc:
            if not unreadable(exc):
                raise
            rules = UNKNOWN
            self.observed.unknown.append("approval rules")
        # Reference: https://docs.gitlab.com/api/protected_branches/#list-protected-branches
        try:
            protected: Any = [p.asdict() for p in self.project.protectedbranches.list(iterator=True)]
        except GitlabListError as exc:
            if not unreadable(exc):
                raise
            protected = UNKNOWN
            self.observed.unknown.append("protected branches")
        return {"approval_settings": approvals, "approval_rules": rules, "protected_branches": protected}

    # --- merge requests -------------------------------------------------------------------
    def collect_merge_requests(self) -> None:
        state = dict(self.cursor.get("merge_requests") or {})
        since = state.get("updated_after")
        at_since = set(state.get("at_updated_after") or [])
        params: dict[str, Any] = {"state": "merged", "order_by": "updated_at", "sort": "desc", "iterator": True}
        if since:
            params["updated_after"] = since  # GitLab includes equal times: those already seen are skipped
        # Reference: https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
        newest, at_newest = since, set(at_since)
        for mr in self.project.mergerequests.list(**params):
            updated = mr.updated_at
            if updated == since and mr.iid in at_since:
                continue
            self.observed.pulls_listed += 1
            if newest is None or updated > newest:
                newest, at_newest = updated, {mr.iid}
            elif updated == newest:
                at_newest.add(mr.iid)
            if mr.merged_at and mr.target_branch in self.branches:
                self.collect_merge_request(mr)
        self.observed.pulls_unchanged = self.observed.pulls_listed == 0
        self.next_cursor["merge_requests"] = {"updated_after": newest, "at_updated_after": sorted(at_newest)}

    def collect_merge_request(self, mr: Any) -> None:
        self.step = f"merge request !{mr.iid}"
        raw = mr.asdict()
        subject = f"gitlab:{self.target}!{mr.iid}"
        # Reference: https://docs.gitlab.com/api/merge_requests/#get-single-merge-request-commits
        details = [commit_json(c.asdict()) for c in mr.commits()][::-1]  # GitLab lists newest first
        data = merge_request_payload(self.target, raw, [c["sha"] for c in details], details)
        self.record(
            "gitlab.merge_request",
            subject,
            f"gitlab:mr:{self.target}!{mr.iid}:{canonical_hash32(change_key_content(data))}",
            data,
            raw.get("merged_at"),
        )
        self.observed.pulls_harvested.append(mr.iid)

        # Reference: https://docs.gitlab.com/api/merge_request_approvals/#for-a-merge-request
        approvals = mr.approvals.get().asdict()
        # Reference: https://docs.gitlab.com/api/merge_request_approvals/#get-the-approval-state-of-merge-requests
        try:
            approval_state: Any = mr.approval_state.get().asdict()
        except GitlabGetError as exc:
            if not unreadable(exc):
                raise
            approval_state = UNKNOWN  # Premium feature, or not visible to this credential
        # Reference: https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
        approved_at: dict[str, str] = {}
        for note in mr.notes.list(iterator=True, sort="asc", order_by="created_at"):
            if not getattr(note, "system", False):
                continue
            if note.body.startswith(APPROVED_NOTE):
                approved_at[note.author["username"]] = note.created_at
            elif note.body.startswith(UNAPPROVED_NOTE):
                approved_at.pop(note.author["username"], None)
        settings = self.settings["approval_settings"]
        resets = isinstance(settings, dict) and settings.get("reset_approvals_on_push") is True
        approval = approval_payload(self.target, raw, approvals, approval_state, approved_at, resets)
        self.record(
            "gitlab.approval",
            subject,
            f"gitlab:approval:{self.target}!{mr.iid}:{canonical_hash32(approval)}",
            approval,
            raw.get("merged_at"),
        )

    # --- first-parent history -------------------------------------------------------------
    def collect_history(self, branch: str) -> None:
        """The branch's first-parent line since the head recorded last (GitLab walks it itself with
        `first_parent`), read newest first only back to the known head."""
        histories = dict(self.cursor.get("history") or {})
        since = (histories.get(branch) or {}).get("head")
        limit = int(self.source.setting("history_limit", HISTORY_LIMIT))
        by_sha: dict[str, dict[str, Any]] = {}
        head = None
        # Reference: https://docs.gitlab.com/api/commits/#list-repository-commits
        for commit in self.project.commits.list(ref_name=branch, first_parent="true", iterator=True):
            item = commit_json(commit.asdict())
            head = head or item["sha"]
            if item["sha"] == since or len(by_sha) >= limit:
                break
            by_sha[item["sha"]] = item
        if head is None:
            return  # an empty repository
        self.observed.history[branch] = head
        if head == since:
            return
        walked, complete = walk_first_parents(by_sha, head, since, limit)
        if not complete:
            self.observed.unknown.append(f"history of {branch} before {walked[-1]['sha'][:12]}")
        self.record(
            "gitlab.branch_history",
            f"gitlab:{self.target}@{branch}",
            f"gitlab:history:{self.target}@{branch}:{since or 'first'}:{head}",
            history_payload(self.target, branch, since, walked, complete),
            walked[0].get("committed_at"),
        )
        histories[branch] = {"head": head}
        self.next_cursor["history"] = histories

    # --- protection -----------------------------------------------------------------------
    def collect_protection(self) -> None:
        snapshots = dict(self.cursor.get("protection") or {})
        settings = self.settings["approval_settings"]
        check = check_snapshot(snapshots, "*approval_settings", settings)
        if check.changed:
            key = snapshot_key(f"gitlab:approval-settings:{self.target}", check)
            self.record(
                "gitlab.approval_settings",
                f"gitlab:{self.target}",
                key,
                {
                    "repository": self.target,
                    "previous_hash": check.previous,
                    "hash": check.hash,
                    "approval_settings": settings,
                    "approval_rules": self.settings["approval_rules"],
                },
            )
        snapshots["*approval_settings"] = {"hash": check.hash}
        for branch in self.branches:
            document = self.branch_settings(branch)
            check = check_snapshot(snapshots, branch, document)
            if check.changed:
                key = snapshot_key(f"gitlab:protection:{self.target}@{branch}", check)
                self.record(
                    "gitlab.protected_branch",
                    f"gitlab:{self.target}@{branch}",
                    key,
                    {
                        "repository": self.target,
                        "previous_hash": check.previous,
                        "hash": check.hash,
                        **document,
                    },
                )
            snapshots[branch] = {"hash": check.hash}
            self.observed.protection[branch] = {"hash": check.hash, "changed": check.changed}
        self.next_cursor["protection"] = snapshots

    def branch_settings(self, branch: str) -> dict[str, Any]:
        protected_branches = self.settings["protected_branches"]
        rules = self.settings["approval_rules"]
        if protected_branches == UNKNOWN:
            protected: Any = UNKNOWN
        else:
            protected = protected_match(protected_branches, branch) or {"protected": False}
        if rules != UNKNOWN:
            rules = [r for r in rules if rule_applies(r, branch)]
        parts = {
            "branch": branch,
            "protected_branch": protected,
            "approval_settings": self.settings["approval_settings"],
            "approval_rules": rules,
        }
        return {**parts, "effective": effective(parts)}


def rule_applies(rule: dict[str, Any], branch: str) -> bool:
    if rule.get("applies_to_all_protected_branches") or not rule.get("protected_branches"):
        return True
    return any(fnmatch.fnmatchcase(branch, pb.get("name", "")) for pb in rule["protected_branches"])


def effective(parts: dict[str, Any]) -> dict[str, Any]:
    """The settings that govern a merge into the branch; 'unknown' where a part could not be read."""
    protected = parts["protected_branch"]
    settings = parts["approval_settings"]
    rules = parts["approval_rules"]

    def from_branch(name: str) -> Any:
        if protected == UNKNOWN:
            return UNKNOWN
        return protected.get(name) if "name" in protected else None

    def from_settings(name: str, invert: bool = False) -> Any:
        if settings == UNKNOWN or settings.get(name) is None:
            return UNKNOWN
        return (not settings[name]) if invert else bool(settings[name])

    def levels(name: str) -> Any:
        if protected == UNKNOWN:
            return UNKNOWN
        return [lvl.get("access_level_description") or lvl.get("access_level") for lvl in protected.get(name) or []]

    push = levels("push_access_levels")
    required: Any = most(
        [
            UNKNOWN if rules == UNKNOWN else max([r.get("approvals_required", 0) for r in rules] or [0]),
            UNKNOWN if settings == UNKNOWN else settings.get("approvals_before_merge") or 0,
        ]
    )
    return {
        "protected": UNKNOWN if protected == UNKNOWN else "name" in protected,
        "required_approvals": required,
        "dismiss_stale_reviews": from_settings("reset_approvals_on_push"),
        "require_code_owner_reviews": from_branch("code_owner_approval_required"),
        "author_may_approve": from_settings("merge_requests_author_approval"),
        "committers_may_approve": from_settings("merge_requests_disable_committers_approval", invert=True),
        "allow_force_pushes": from_branch("allow_force_push"),
        "push_access": push,
        "merge_access": levels("merge_access_levels"),
        "require_pull_request": UNKNOWN if push == UNKNOWN else push == ["No one"],
    }
