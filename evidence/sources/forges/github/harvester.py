"""GitHub (github.com and Enterprise Server) through PyGithub: merged pull requests (with who
authored and committed each commit), reviews, dismissals, classic branch protection, rulesets,
effective branch rules, rule suites and the first-parent history of each watched branch.

Pull requests, their commits, reviews and dismissals come through GraphQL by default (`api:
graphql`, graphql.py): one listing query per 100 merged pull requests changed since the cursor and
one details query per 100 of them, about 0.02 requests and 0.03-1 points per merged pull request
(the points grow with its commits), and one query for a repository where nothing changed. They are
read into the REST API's shapes and recorded by the same builders, so both ways give the same
entries. `api: rest` reads them through REST instead: three requests per merged pull request
(commits, reviews, issue events: who merged, dismissals).

The rest is REST either way, where GraphQL has no such field or another shape of it: branch
protection, branch rules, rulesets, rule suites and the first-parent history. PyGithub's Requester
(same auth, retry and rate-limit handling) carries the calls it has no model for and the
conditional requests (If-None-Match) that make a rerun over unchanged data cost one 304 per list,
which GitHub does not count against the rate limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
    UnknownObjectException,
)
from requests.utils import parse_header_links

from evidence.core.digests import canonical_hash32
from evidence.core.times import parse_time
from evidence.sources.forges.common import (
    HISTORY_LIMIT,
    UNKNOWN,
    Observed,
    change_key_content,
    check_snapshot,
    history_payload,
    login,
    most,
    pick,
    snapshot_key,
    walk_first_parents,
)
from evidence.sources.forges.github.graphql import (
    GraphQL,
    Pull,
    as_rest_commit,
    as_rest_dismissal,
    as_rest_pull,
    as_rest_review,
    as_rest_user,
    parents_complete,
)
from evidence.sources.forges.github.records import commit_json, dismissal_payload, pull_request_payload, review_payload
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from ledger.envelope import Record

if TYPE_CHECKING:
    from github.Requester import Requester

    from evidence.sources.models import Source

DEFAULT_URL = "https://api.github.com"


@dataclass
class Client:
    gh: Github
    requester: Requester
    per_page: int
    calls: list[int]  # one item per HTTP response, counted by the requester hook

    @property
    def requests(self) -> int:
        return len(self.calls)


def connect(source: Source) -> Client:
    """A PyGithub client for the source: token or GitHub App installation, bounded retries."""
    credential = source.credential()
    if not credential:
        raise HarvestError(f"no credential: set the environment variable {source.credential_env or '(none named)'}")
    app_id = source.setting("app_id")
    auth: Auth.Auth
    if app_id:  # the credential is the App's private key (PEM)
        auth = Auth.AppAuth(int(app_id), credential).get_installation_auth(int(source.setting("installation_id")))
    else:
        auth = Auth.Token(credential)
    retry = GithubRetry(
        total=int(source.setting("max_retries", 4)),
        backoff_factor=float(source.setting("backoff_factor", 0.5)),
        # Wait for a rate-limit reset up to this long; beyond it the run fails and says until when.
        max_rate_limit_wait=float(source.setting("max_rate_limit_wait", 300)),
        status_forcelist=[429, *range(500, 600)],
    )
    gh = Github(
        base_url=(source.url or DEFAULT_URL).rstrip("/"),
        auth=auth,
        retry=retry,
        per_page=int(source.setting("page_size", 100)),
        timeout=30,
        lazy=True,  # objects are read when first used, not when named
        # PyGithub's default pacing (0.25 s) follows GitHub's advice for api.github.com; local sandboxes set 0.
        seconds_between_requests=float(source.setting("seconds_between_requests", 0.25)) or None,
        # PyGithub paces every POST as a write (1 s); a GraphQL query is a POST that writes nothing.
        seconds_between_writes=float(source.setting("seconds_between_requests", 0.25)) or None,
    )
    calls: list[int] = []
    requester = gh.requester
    # Count every answer the client receives (retries inside urllib3 excluded) for the harvest run.
    requester.DEBUG_ON_RESPONSE = lambda status, headers, data: calls.append(status)  # type: ignore[method-assign]
    return Client(gh, requester, int(source.setting("page_size", 100)), calls)


def describe(exc: Exception, source: Source, what: str) -> str:
    """One line for a failed call; never the credential."""
    if isinstance(exc, BadCredentialsException):
        return f"{what}: the credential in ${source.credential_env} was refused (401 Bad credentials)"
    if isinstance(exc, RateLimitExceededExceedsMaxWait):
        return f"{what}: rate limited; the reset is {exc.wait:.0f}s away, longer than max_rate_limit_wait"
    if isinstance(exc, RateLimitExceededException):
        reset = (exc.headers or {}).get("x-ratelimit-reset", "")
        when = datetime.fromtimestamp(int(reset), UTC).isoformat() if str(reset).isdigit() else "unknown"
        return f"{what}: rate limited until {when} (403 {exc.data.get('message', '') if exc.data else ''})"
    if isinstance(exc, UnknownObjectException):
        return f"{what}: not found (404): deleted, renamed, or not visible to this credential"
    if isinstance(exc, GithubException):
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        return f"{what}: GitHub answered {exc.status} {message}".rstrip()
    if isinstance(exc, requests.RequestException):
        return f"{what}: could not read the answer from {source.url or DEFAULT_URL} ({type(exc).__name__})"
    return f"{what}: {type(exc).__name__}: {exc}"


def get_json(
    client: Client, url: str, params: dict[str, Any] | None = None, etag: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """GET one resource, conditionally when an ETag is known: (data, or None on 304; headers)."""
    headers = {"If-None-Match": etag} if etag else {}
    response_headers, data = client.requester.requestJsonAndCheck("GET", url, parameters=params, headers=headers)
    return data, response_headers


def iter_pages(client: Client, data: list[Any], headers: dict[str, Any]) -> Iterator[list[Any]]:
    """The first page, then each next one named by the Link header."""
    yield list(data)
    next_url = _next_link(headers.get("link", ""))
    while next_url:
        headers, page = client.requester.requestJsonAndCheck("GET", next_url)
        yield list(page)
        next_url = _next_link(headers.get("link", ""))


def get_pages(
    client: Client, url: str, params: dict[str, Any] | None = None, etag: str | None = None
) -> tuple[list[Any] | None, str | None]:
    """GET a whole list; the first page is conditional: (items, or None on 304; etag of page 1)."""
    data, headers = get_json(client, url, {"per_page": client.per_page, **(params or {})}, etag)
    if data is None:
        return None, etag
    return [item for page in iter_pages(client, data, headers) for item in page], headers.get("etag")


def _next_link(link: str) -> str | None:
    for item in parse_header_links(link) if link else []:
        if item.get("rel") == "next":
            return item["url"]
    return None


class GitHubHarvester(Harvester):
    kind = "github"

    def targets(self, source: Source) -> list[str]:
        """Configured repositories, plus every repository of the configured organisation."""
        names = list(source.setting("repositories", []) or [])
        org = source.setting("organisation") or source.setting("organization")
        if org:
            client = connect(source)
            try:
                names += [r.full_name for r in client.gh.get_organization(org).get_repos(type="all")]
            except (GithubException, requests.RequestException) as exc:
                raise HarvestError(describe(exc, source, f"organisation {org}")) from None
        return sorted(set(names))

    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        client = connect(source)
        run = _Run(source, target, cursor, client)
        try:
            run.collect()
        except (GithubException, requests.RequestException) as exc:
            raise HarvestError(describe(exc, source, f"github {target}: {run.step}")) from None
        except HarvestError as exc:  # a GraphQL answer with errors: say where, as for the others
            raise HarvestError(f"github {target}: {run.step}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            if run.graphql is None or run.step != "pull requests":
                raise  # outside the GraphQL step it is a bug of ours, not an answer's shape
            raise HarvestError(
                f"github {target}: {run.step}: GitHub's GraphQL answer is not in the shape asked for "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            ) from None
        observed = run.observed.as_dict("github", target)
        if run.graphql is not None:
            observed["graphql_points"] = run.graphql.points
        return HarvestResult(records=run.records, cursor=run.next_cursor, requests=client.requests, observed=observed)


class _Run:
    """One harvest of one repository: reads, builds records and the next cursor, writes nothing."""

    def __init__(self, source: Source, target: str, cursor: dict[str, Any], client: Client) -> None:
        self.source = source
        self.target = target
        self.cursor = cursor
        self.client = client
        self.records: list[Record] = []
        self.next_cursor: dict[str, Any] = {k: v for k, v in cursor.items()}
        self.observed = Observed()
        self.now = datetime.now(UTC)
        self.step = "repository"
        self.base = f"/repos/{target}"
        self.subject = f"github:{target}"
        self.graphql: GraphQL | None = None

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
        self.repo = self.client.gh.get_repo(self.target)  # lazy: no request
        if self.source.setting("api", "graphql") == "graphql":
            self.step = "pull requests"
            self.collect_pulls_graphql()
        else:
            # Reference: https://docs.github.com/en/rest/repos/repos#get-a-repository
            # Conditional, like every listing below: GitHub does not count a 304 against the rate limit,
            # so a rerun over unchanged data costs none.
            known = dict(self.cursor.get("repository") or {})
            data, headers = get_json(self.client, self.base, None, known.get("etag"))
            if data is not None:
                known = {"etag": headers.get("etag"), "default_branch": data.get("default_branch")}
            self.next_cursor["repository"] = known
            self.branches = list(self.source.setting("branches", []) or [known["default_branch"]])
            self.step = "pull requests"
            self.collect_pulls()
        for branch in self.branches:
            self.step = f"protection of {branch}"
            self.collect_protection(branch)
            self.step = f"history of {branch}"
            self.collect_history(branch)
        self.step = "rule suites"
        self.collect_rule_suites()

    # --- pull requests --------------------------------------------------------------------
    def collect_pulls(self) -> None:
        state = dict(self.cursor.get("pulls") or {})
        # Reference: https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
        params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": self.client.per_page}
        data, headers = get_json(self.client, f"{self.base}/pulls", params, state.get("etag"))
        if data is None:  # 304: no pull request closed or changed since the last harvest
            self.observed.pulls_unchanged = True
            return
        since = state.get("updated_at") or ""
        newest = since
        for page in iter_pages(self.client, data, headers):
            older = False
            for item in page:
                updated = item.get("updated_at") or ""
                if since and updated < since:
                    older = True  # sorted by update time, newest first: the rest was harvested before
                    break
                self.observed.pulls_listed += 1
                newest = max(newest, updated)
                base = (item.get("base") or {}).get("ref")
                if item.get("merged_at") and base in self.branches:
                    self.collect_pull(int(item["number"]), item)
            if older:
                break
        self.next_cursor["pulls"] = {"etag": headers.get("etag"), "updated_at": newest}

    def collect_pulls_graphql(self) -> None:
        """Merged pull requests through GraphQL (graphql.py): one listing query per 100 changed since
        the cursor, one details query per 100 of them; the REST path's records, key for key."""
        state = dict(self.cursor.get("pulls") or {})
        since = state.get("updated_at") or ""
        owner, name = self.target.split("/", 1)
        self.graphql = GraphQL(self.client.requester, owner, name, self.client.per_page)
        configured = list(self.source.setting("branches", []) or [])
        seen = {int(n) for n in state.get("read_at_updated_at") or []}
        newest, wanted, at_newest = since, [], set(seen)
        default = (self.cursor.get("repository") or {}).get("default_branch")
        for branch, listed, _ in self.graphql.list_merged(since, seen):
            default = branch or default
            self.branches = configured or ([default] if default else [])
            for item in listed:
                self.observed.pulls_listed += 1
                if item.updated_at > newest:
                    newest, at_newest = item.updated_at, set()
                if item.updated_at == newest:
                    at_newest.add(item.number)
                if item.base in self.branches:
                    wanted.append(item)
        self.next_cursor["repository"] = {"default_branch": default}
        if not self.observed.pulls_listed:
            self.observed.pulls_unchanged = bool(since)
        for pull in self.graphql.read_pulls(wanted):
            self.record_graphql_pull(pull)
        # The numbers read at the newest update time: the next listing skips them there, and reads
        # any other pull request updated in that same second.
        self.next_cursor["pulls"] = {"updated_at": newest, "read_at_updated_at": sorted(at_newest)}

    def record_graphql_pull(self, pull: Pull) -> None:
        """One merged pull request read through GraphQL, recorded as `collect_pull` records it. REST
        reads what GraphQL cannot say: the commits of one with an octopus merge past PARENTS parents,
        and the dismissals of one whose event ids are past GraphQL's 32-bit Int."""
        raw = as_rest_pull(pull.node)
        number = int(raw["number"])
        self.step = f"pull request #{number}"
        merged_by = login(as_rest_user(pull.node.get("mergedBy")))
        if all(parents_complete(c) for c in pull.commits):
            details = [commit_json(as_rest_commit(c)) for c in pull.commits]
        else:
            # Reference: https://docs.github.com/en/rest/pulls/pulls#list-commits-on-a-pull-request
            rest, _ = get_pages(self.client, f"{self.base}/pulls/{number}/commits")
            details = [commit_json(c) for c in rest or []]
        self._record_pull(number, raw, merged_by, details)
        for node in pull.reviews:
            self._record_review(number, as_rest_review(node))
        if all(d.get("databaseId") is not None for d in pull.dismissals):
            events = [as_rest_dismissal(d) for d in pull.dismissals]
        else:
            # Reference: https://docs.github.com/en/rest/issues/events#list-issue-events
            rest, _ = get_pages(self.client, f"{self.base}/issues/{number}/events")
            events = [e for e in rest or [] if e.get("event") == "review_dismissed"]
        for event in events:
            self._record_dismissal(number, event)

    def collect_pull(self, number: int, listed: dict[str, Any]) -> None:
        """One merged pull request: 3 requests (commits, reviews, issue events) on top of the listing."""
        self.step = f"pull request #{number}"
        pull = self.repo.get_pull(number)  # lazy: read only if the listing and events do not say enough
        # Reference: https://docs.github.com/en/rest/issues/events#list-issue-events
        # (raw pages: PyGithub's IssueEvent would re-read each event to show its raw data)
        events, _ = get_pages(self.client, f"{self.base}/issues/{number}/events")
        events = events or []
        merged = [e for e in events if e.get("event") == "merged"]
        raw = listed
        merged_by = login(merged[-1].get("actor")) if merged else None  # the 'merged' event's actor merged it
        if merged_by is None:
            # Reference: https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
            raw = pull.raw_data
            merged_by = login(raw.get("merged_by"))
        # Reference: https://docs.github.com/en/rest/pulls/pulls#list-commits-on-a-pull-request
        # (raw pages: PyGithub's Commit would re-read each commit to show its raw data)
        listed, _ = get_pages(self.client, f"{self.base}/pulls/{number}/commits")
        details = [commit_json(c) for c in listed or []]
        self._record_pull(number, raw, merged_by, details)
        # Reference: https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-pull-request
        for review in pull.get_reviews():
            self._record_review(number, review.raw_data)
        for event in events:
            if event.get("event") == "review_dismissed":
                self._record_dismissal(number, event)

    # The records of one pull request, built here for both paths (GraphQL and REST) so the two
    # record the same pull request with the same payloads and the same keys.
    def pull_subject(self, number: int) -> str:
        return f"github:{self.target}#{number}"

    def _record_pull(
        self, number: int, raw: dict[str, Any], merged_by: str | None, details: list[dict[str, Any]]
    ) -> None:
        data = pull_request_payload(self.target, raw, merged_by, [c["sha"] for c in details], details)
        key = f"github:pr:{self.target}#{number}:{canonical_hash32(change_key_content(data))}"
        self.record("github.pull_request", self.pull_subject(number), key, data, raw.get("merged_at"))
        self.observed.pulls_harvested.append(number)

    def _record_review(self, number: int, review: dict[str, Any]) -> None:
        data = review_payload(self.target, number, review)
        key = f"github:review:{review['id']}:{canonical_hash32(data)}"
        self.record("github.review", self.pull_subject(number), key, data, review.get("submitted_at"))

    def _record_dismissal(self, number: int, event: dict[str, Any]) -> None:
        data = dismissal_payload(self.target, number, event)
        key = f"github:review-dismissal:{self.target}:{event['id']}"
        self.record("github.review_dismissal", self.pull_subject(number), key, data, event.get("created_at"))

    # --- protection -----------------------------------------------------------------------
    def collect_protection(self, branch: str) -> None:
        snapshots = dict(self.cursor.get("protection") or {})
        before = snapshots.get(branch) or {}
        etags = dict(before.get("etags") or {})
        parts = dict(before.get("parts") or {})
        unchanged = True
        enc = quote(branch, safe="")

        # Reference: https://docs.github.com/en/rest/branches/branch-protection#get-branch-protection
        try:
            url = f"{self.base}/branches/{enc}/protection"
            data, headers = get_json(self.client, url, None, etags.get("classic"))
            etags["classic"] = headers.get("etag") or etags.get("classic")
            if data is not None:
                parts["classic"], unchanged = classic_settings(data), False
        except GithubException as exc:
            etags.pop("classic", None)
            unchanged = False
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            if exc.status == 404 and message == "Branch not protected":  # the only answer that means off
                parts["classic"] = {"protected": False}
            elif exc.status in (403, 404):  # no admin rights: GitHub says 403, or 404 to hide the resource
                parts["classic"] = UNKNOWN
                self.observed.unknown.append(f"classic protection of {branch}")
            else:
                raise

        # Reference: https://docs.github.com/en/rest/repos/rules#get-rules-for-a-branch
        try:
            rules, etags["rules"] = get_pages(
                self.client, f"{self.base}/rules/branches/{enc}", None, etags.get("rules")
            )
            if rules is not None:
                parts["rules"], unchanged = [pick_rule(r) for r in rules], False
        except GithubException as exc:
            if exc.status not in (403, 404):
                raise
            etags.pop("rules", None)
            parts["rules"], unchanged = UNKNOWN, False
            self.observed.unknown.append(f"rules of {branch}")

        rulesets = self.collect_rulesets()
        if unchanged and rulesets == parts.get("rulesets"):
            check = check_snapshot(snapshots, branch, before.get("settings"))
        else:
            parts["rulesets"] = rulesets
            settings = {"branch": branch, **parts, "effective": effective(parts, self.ruleset_details)}
            check = check_snapshot(snapshots, branch, settings)
            if check.changed:
                key = snapshot_key(f"github:protection:{self.target}@{branch}", check)
                self.record(
                    "github.branch_protection",
                    f"github:{self.target}@{branch}",
                    key,
                    {
                        "repository": self.target,
                        "previous_hash": check.previous,
                        "hash": check.hash,
                        **settings,
                    },
                )
            before = {"settings": settings}
        self.observed.protection[branch] = {"hash": check.hash, "changed": check.changed}
        snapshots[branch] = {"hash": check.hash, "etags": etags, "parts": parts, "settings": before.get("settings")}
        self.next_cursor["protection"] = snapshots

    def collect_rulesets(self) -> Any:
        """Repository and organisation rulesets (summaries); full ones re-read only when updated."""
        if hasattr(self, "_rulesets"):
            return self._rulesets
        state = dict(self.cursor.get("rulesets") or {})
        known = dict(state.get("details") or {})
        self.ruleset_details = known
        # Reference: https://docs.github.com/en/rest/repos/rules#get-all-repository-rulesets
        try:
            items, etag = get_pages(
                self.client, f"{self.base}/rulesets", {"includes_parents": "true"}, state.get("etag")
            )
        except GithubException as exc:
            if exc.status not in (403, 404):
                raise
            self.observed.unknown.append("rulesets")
            self._rulesets: Any = UNKNOWN
            self.next_cursor["rulesets"] = {}
            return UNKNOWN
        if items is None:
            self._rulesets = state.get("summary", [])
            return self._rulesets
        summary = []
        for item in items:
            rid = str(item["id"])
            summary.append(pick(item, "id", "name", "source_type", "source", "enforcement", "updated_at"))
            if (known.get(rid) or {}).get("updated_at") == item.get("updated_at"):
                continue
            # Reference: https://docs.github.com/en/rest/repos/rules#get-a-repository-ruleset
            _, full = self.client.requester.requestJsonAndCheck("GET", f"{self.base}/rulesets/{rid}")
            full.pop("_links", None)
            full.pop("url", None)
            owner = full.get("source") or self.target
            key = f"github:ruleset:{owner}:{rid}:{full.get('updated_at')}:{canonical_hash32(full)}"
            self.record(
                "github.ruleset",
                f"github:{owner}",
                key,
                {"repository": self.target, "ruleset": full},
                full.get("updated_at"),
            )
            known[rid] = pick(full, "updated_at", "enforcement", "bypass_actors")
        self.next_cursor["rulesets"] = {"etag": etag, "summary": summary, "details": known}
        self._rulesets = summary
        return summary

    # --- first-parent history -------------------------------------------------------------
    def collect_history(self, branch: str) -> None:
        """The branch's first-parent line since the head recorded last: what custody asks "is this
        commit on the protected branch, and which merge brought it there" of. The listing is
        conditional (a 304 when the branch has not moved) and read only back to the known head."""
        histories = dict(self.cursor.get("history") or {})
        known = dict(histories.get(branch) or {})
        since = known.get("head")
        limit = int(self.source.setting("history_limit", HISTORY_LIMIT))
        # Reference: https://docs.github.com/en/rest/commits/commits#list-commits
        data, headers = get_json(
            self.client, f"{self.base}/commits", {"sha": branch, "per_page": self.client.per_page}, known.get("etag")
        )
        if data is None or not data:
            if since:
                self.observed.history[branch] = since
            return  # 304: the branch has not moved; [] an empty repository
        by_sha: dict[str, dict[str, Any]] = {}
        head = data[0]["sha"]
        for page in iter_pages(self.client, data, headers):
            by_sha.update({c["sha"]: commit_json(c) for c in page})
            if (since and since in by_sha) or len(by_sha) >= limit:
                break  # listed newest first: everything after the known head was recorded before
        self.observed.history[branch] = head
        if head == since:
            histories[branch] = {"head": head, "etag": headers.get("etag")}
            self.next_cursor["history"] = histories
            return
        walked, complete = walk_first_parents(by_sha, head, since, limit)
        if not complete:
            self.observed.unknown.append(f"history of {branch} before {walked[-1]['sha'][:12]}")
        self.record(
            "github.branch_history",
            f"github:{self.target}@{branch}",
            f"github:history:{self.target}@{branch}:{since or 'first'}:{head}",
            history_payload(self.target, branch, since, walked, complete),
            walked[0].get("committed_at"),
        )
        histories[branch] = {"head": head, "etag": headers.get("etag")}
        self.next_cursor["history"] = histories

    # --- rule suites ----------------------------------------------------------------------
    def collect_rule_suites(self) -> None:
        state = dict(self.cursor.get("rule_suites") or {})
        seen = int(state.get("max_id", 0))
        # Reference: https://docs.github.com/en/rest/repos/rule-suites#list-repository-rule-suites
        try:
            items, etag = get_pages(
                self.client, f"{self.base}/rulesets/rule-suites", {"time_period": "month"}, state.get("etag")
            )
        except GithubException as exc:
            if exc.status not in (403, 404):  # rule insights need admin rights or a plan that has them
                raise
            self.observed.unknown.append("rule suites")
            return
        if items is None:
            return
        branch_refs = {f"refs/heads/{b}" for b in self.branches}
        newest = seen
        for item in items:
            sid = int(item["id"])
            newest = max(newest, sid)
            if sid <= seen or item.get("ref") not in branch_refs:
                continue
            detail = item
            if item.get("result") == "bypass" or item.get("evaluation_result") == "fail":
                # Reference: https://docs.github.com/en/rest/repos/rule-suites#get-a-repository-rule-suite
                _, detail = self.client.requester.requestJsonAndCheck("GET", f"{self.base}/rulesets/rule-suites/{sid}")
            data = {"repository": self.target, "rule_suite": detail}
            self.record(
                "github.rule_suite", self.subject, f"github:rule-suite:{self.target}:{sid}", data, item.get("pushed_at")
            )
        self.next_cursor["rule_suites"] = {"etag": etag, "max_id": newest}


def classic_settings(data: dict[str, Any]) -> dict[str, Any]:
    """The classic protection document without URLs, as GitHub sent it otherwise."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.endswith("url")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {"protected": True, **strip(data)}


def pick_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return pick(rule, "type", "parameters", "ruleset_source_type", "ruleset_source", "ruleset_id")


def effective(parts: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    """The settings that govern a merge into the branch, merged from classic protection and rules.

    Each is a value, or 'unknown' when a source of it could not be read.
    """
    classic = parts.get("classic")
    rules = parts.get("rules")
    c_unknown = classic == UNKNOWN
    r_unknown = rules == UNKNOWN
    classic = {} if c_unknown else (classic or {})
    rules = [] if r_unknown else (rules or [])
    reviews = classic.get("required_pull_request_reviews") or {}

    def from_classic(value: Any) -> Any:
        return UNKNOWN if c_unknown else value

    def from_rules(rule_type: str, name: str | None = None, default: Any = None) -> list[Any]:
        if r_unknown:
            return [UNKNOWN]
        found = [r for r in rules if r.get("type") == rule_type]
        if name is None:
            return [bool(found)] if found else [default]
        return [(r.get("parameters") or {}).get(name) for r in found] or [default]

    protected = from_classic(bool(classic.get("protected")))
    if rules:
        protected = True
    elif r_unknown and protected is False:
        protected = UNKNOWN
    checks: Any = sorted(
        set((classic.get("required_status_checks") or {}).get("contexts") or [])
        | {
            c.get("context")
            for r in rules
            if r.get("type") == "required_status_checks"
            for c in (r.get("parameters") or {}).get("required_status_checks", [])
        }
    )
    if c_unknown or r_unknown:
        checks = UNKNOWN
    bypass: Any = []
    ruleset_ids = {str(r.get("ruleset_id")) for r in rules}
    for rid in sorted(ruleset_ids):
        bypass += (details.get(rid) or {}).get("bypass_actors") or []
    if r_unknown or parts.get("rulesets") == UNKNOWN:
        bypass = UNKNOWN
    force = from_classic(bool((classic.get("allow_force_pushes") or {}).get("enabled")))
    if not r_unknown and any(r.get("type") == "non_fast_forward" for r in rules):
        force = False  # a rule blocks it whatever classic protection says
    elif r_unknown and force is False:
        force = UNKNOWN
    return {
        "protected": protected,
        "required_approvals": most(
            [
                from_classic(reviews.get("required_approving_review_count", 0)),
                *from_rules("pull_request", "required_approving_review_count", 0),
            ]
        ),
        "dismiss_stale_reviews": most(
            [
                from_classic(bool(reviews.get("dismiss_stale_reviews"))),
                *from_rules("pull_request", "dismiss_stale_reviews_on_push", False),
            ]
        ),
        "require_code_owner_reviews": most(
            [
                from_classic(bool(reviews.get("require_code_owner_reviews"))),
                *from_rules("pull_request", "require_code_owner_review", False),
            ]
        ),
        "require_last_push_approval": most(
            [
                from_classic(bool(reviews.get("require_last_push_approval"))),
                *from_rules("pull_request", "require_last_push_approval", False),
            ]
        ),
        "require_pull_request": most(
            [from_classic("required_pull_request_reviews" in classic), *from_rules("pull_request", None, False)]
        ),
        "enforce_admins": from_classic(bool((classic.get("enforce_admins") or {}).get("enabled"))),
        "allow_force_pushes": force,
        "required_signatures": most(
            [
                from_classic(bool((classic.get("required_signatures") or {}).get("enabled"))),
                *from_rules("required_signatures", None, False),
            ]
        ),
        "required_status_checks": checks,
        "bypass_actors": bypass,
        "author_may_approve": False,  # GitHub never counts an author's own review
    }
