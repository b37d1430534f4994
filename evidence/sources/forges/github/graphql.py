"""Merged pull requests through GitHub's GraphQL API, read into the shapes the REST API sends.

Two kinds of query, each a POST to /graphql (Enterprise Server: /api/graphql):
- the listing: merged pull requests, most recently updated first, 100 a page, with only their
  number, update time, base branch and commit count (1 point a page); it stops at the update time
  the cursor last saw, so a rerun over unchanged data is this one query;
- the details of up to 100 listed pull requests at once (aliases `pr0`, `pr1`, ...): the fields of
  the REST pull request, its commits (authors and committers with their accounts and e-mails, and
  parents), its reviews and its review dismissals (timeline items). Each commits connection asks for
  as many commits as the listing counted, since GitHub charges a query by the nested connections it
  could return (`commits` x `parents`); a connection that overflows its page is paged on with a
  follow-up query for that pull request alone.

The harvester builds its records from what `as_rest_*` return, through the same builders as the
REST path, so both give the same entries (tests/sources/test_github_graphql_identity.py). Errors in
an answer (`{"errors": [...]}`, even beside data) fail the run with one line: no half is recorded.

Reference: https://docs.github.com/en/graphql/reference/objects#pullrequest
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evidence.sources.forges.github.records import COMMITS_LIMIT
from evidence.sources.harvesters.base import HarvestError

if TYPE_CHECKING:
    from github.Requester import Requester

PAGE_LIMIT = 100  # GitHub's largest `first`
COMMIT_BUDGET = 1000  # commits one details query asks for at most (keeps it well inside GitHub's 10 s)
PARENTS = 10  # parents read per commit; an octopus merge with more is read through REST

# Reference: https://docs.github.com/en/graphql/reference/objects#pullrequestconnection
LIST_QUERY = """
query($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    defaultBranchRef { name }
    pullRequests(states: [MERGED], first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes { number updatedAt baseRefName commits { totalCount } }
    }
  }
}
"""

FRAGMENTS = """
fragment person on GitActor { name email user { login } }
fragment commits on PullRequestCommitConnection {
  pageInfo { hasNextPage endCursor }
  nodes {
    commit {
      oid authoredDate committedDate
      author { ...person } committer { ...person }
      parents(first: %(parents)d) { totalCount nodes { oid } }
    }
  }
}
fragment reviews on PullRequestReviewConnection {
  pageInfo { hasNextPage endCursor }
  nodes { fullDatabaseId author { login __typename } state commit { oid } submittedAt authorAssociation body url }
}
fragment dismissals on PullRequestTimelineItemsConnection {
  pageInfo { hasNextPage endCursor }
  nodes {
    ... on ReviewDismissedEvent {
      databaseId actor { login __typename } createdAt dismissalMessage previousReviewState
      pullRequestCommit { commit { oid } } review { fullDatabaseId }
    }
  }
}
fragment pull on PullRequest {
  fullDatabaseId number title url state createdAt closedAt mergedAt
  author { login __typename } mergedBy { login __typename }
  baseRefName baseRefOid headRefName headRefOid mergeCommit { oid }
  reviews(first: %(page)d) { ...reviews }
  timelineItems(first: %(page)d, itemTypes: [REVIEW_DISMISSED_EVENT]) { ...dismissals }
}
"""

# One nested connection of one pull request, from a cursor on: (the field, the fragment it uses).
FOLLOW_UPS = {
    "commits": ("commits(first: %(page)d, after: $after) { ...commits }", "commits"),
    "reviews": ("reviews(first: %(page)d, after: $after) { ...reviews }", "reviews"),
    "timelineItems": (
        "timelineItems(first: %(page)d, after: $after, itemTypes: [REVIEW_DISMISSED_EVENT]) { ...dismissals }",
        "dismissals",
    ),
}


@dataclass
class Listed:
    number: int
    updated_at: str
    base: str
    commits: int


@dataclass
class Pull:
    """One pull request as the details query (and its follow-ups) read it."""

    node: dict[str, Any]
    commits: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    dismissals: list[dict[str, Any]] = field(default_factory=list)


class GraphQL:
    """Sends the queries through PyGithub's requester (same auth, retries, pacing, counting)."""

    def __init__(self, requester: Requester, owner: str, name: str, page: int) -> None:
        self.requester = requester
        self.owner = owner
        self.name = name
        self.page = max(1, min(PAGE_LIMIT, page))
        self.points = 0  # GitHub's charge for the queries sent, as each answer's rateLimit says
        self.fragments = FRAGMENTS % {"page": self.page, "parents": PARENTS}

    def query(self, text: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        """POST one query; its `data`, or a HarvestError naming the first error GitHub gave."""
        # Reference: https://docs.github.com/en/graphql/guides/forming-calls-with-graphql#communicating-with-graphql
        _, answer = self.requester.requestJsonAndCheck(
            "POST",
            self.requester.graphql_url,
            input={"query": text, "variables": {"owner": self.owner, "name": self.name, **variables}},
        )
        if not isinstance(answer, dict):
            raise HarvestError(f"{what}: GitHub's GraphQL answer is not a JSON object")
        errors = answer.get("errors")
        if errors:
            raise HarvestError(f"{what}: {describe_errors(errors)}")
        data = answer.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("repository"), dict):
            raise HarvestError(f"{what}: GitHub's GraphQL answer holds no repository")
        self.points += int((data.get("rateLimit") or {}).get("cost") or 0)
        return data

    # --- the listing ----------------------------------------------------------------------
    def list_merged(self, since: str, seen: set[int]) -> Iterator[tuple[str | None, list[Listed], bool]]:
        """Pages of merged pull requests, newest update first, down to `since` (included, as REST,
        but for those in `seen`, read at that very time before): (the default branch, the page's pull
        requests, whether an older one was reached)."""
        after: str | None = None
        while True:
            data = self.query(LIST_QUERY, {"first": self.page, "after": after}, "merged pull requests")
            repository = data["repository"]
            connection = repository["pullRequests"]
            listed, older = [], False
            for node in connection["nodes"] or []:
                if since and node["updatedAt"] < since:
                    older = True  # sorted by update time, newest first: the rest was harvested before
                    break
                if node["updatedAt"] == since and int(node["number"]) in seen:
                    continue  # unchanged since the last harvest read it
                count = int((node.get("commits") or {}).get("totalCount") or 0)
                listed.append(Listed(int(node["number"]), node["updatedAt"], node["baseRefName"], count))
            default = (repository.get("defaultBranchRef") or {}).get("name")
            yield default, listed, older
            if older or not connection["pageInfo"]["hasNextPage"]:
                return
            after = connection["pageInfo"]["endCursor"]

    # --- the details ----------------------------------------------------------------------
    def read_pulls(self, listed: list[Listed]) -> list[Pull]:
        """Every listed pull request in full, in batches of up to a page and COMMIT_BUDGET commits."""
        pulls: list[Pull] = []
        for batch in batches(listed, self.page):
            pulls += self._read_batch(batch)
        return pulls

    def _read_batch(self, batch: list[Listed]) -> list[Pull]:
        parts = []
        for i, item in enumerate(batch):
            first = max(1, min(self.page, item.commits))
            parts.append(
                f"pr{i}: pullRequest(number: {int(item.number)}) {{ ...pull commits(first: {first}) {{ ...commits }} }}"
            )
        text = (
            "query($owner: String!, $name: String!) {\n  rateLimit { cost remaining resetAt }\n"
            "  repository(owner: $owner, name: $name) {\n    " + "\n    ".join(parts) + "\n  }\n}\n" + self.fragments
        )
        numbers = ", ".join(f"#{item.number}" for item in batch[:3]) + (", ..." if len(batch) > 3 else "")
        data = self.query(text, {}, f"pull requests {numbers}")
        pulls = []
        for i, item in enumerate(batch):
            node = data["repository"].get(f"pr{i}")
            if not isinstance(node, dict):
                raise HarvestError(f"pull request #{item.number}: GitHub's GraphQL answer holds no pull request")
            pull = Pull(node)
            pull.commits = self._all(node, "commits", item.number)[:COMMITS_LIMIT]
            pull.reviews = self._all(node, "reviews", item.number)
            pull.dismissals = [n for n in self._all(node, "timelineItems", item.number) if n]
            pulls.append(pull)
        return pulls

    def _all(self, node: dict[str, Any], connection: str, number: int) -> list[dict[str, Any]]:
        """A nested connection's nodes, paged on for this pull request alone while it overflows."""
        page = node.get(connection) or {}
        nodes = list(page.get("nodes") or [])
        info = page.get("pageInfo") or {}
        selection, fragment = FOLLOW_UPS[connection]
        while info.get("hasNextPage") and not (connection == "commits" and len(nodes) >= COMMITS_LIMIT):
            text = (
                "query($owner: String!, $name: String!, $number: Int!, $after: String) {\n"
                "  rateLimit { cost remaining resetAt }\n"
                "  repository(owner: $owner, name: $name) {\n"
                "    pullRequest(number: $number) { " + selection % {"page": self.page} + " }\n  }\n}\n"
            ) + only_fragments(self.fragments, fragment)
            data = self.query(text, {"number": number, "after": info.get("endCursor")}, f"pull request #{number}")
            page = (data["repository"].get("pullRequest") or {}).get(connection) or {}
            nodes += page.get("nodes") or []
            info = page.get("pageInfo") or {}
        return nodes


def batches(listed: list[Listed], size: int) -> Iterator[list[Listed]]:
    batch: list[Listed] = []
    commits = 0
    for item in listed:
        cost = max(1, min(size, item.commits))
        if batch and (len(batch) >= size or commits + cost > COMMIT_BUDGET):
            yield batch
            batch, commits = [], 0
        batch.append(item)
        commits += cost
    if batch:
        yield batch


def only_fragments(fragments: str, name: str) -> str:
    """The fragment definitions a follow-up needs (GraphQL refuses unused fragments)."""
    needed = {name} | ({"person"} if name == "commits" else set())
    blocks = ["fragment " + b for b in fragments.split("fragment ") if b.strip()]
    return "".join(b for b in blocks if b.split()[1] in needed)


def describe_errors(errors: Any) -> str:
    """GitHub's first error in one line: its type, message and where, and how many more there were."""
    if not isinstance(errors, list) or not errors:
        return "GitHub's GraphQL answer has errors"
    first: dict[str, Any] = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
    kind = first.get("type") or (first.get("extensions") or {}).get("code") or "error"
    message = " ".join(str(first.get("message") or "").split())[:300]
    where = ".".join(str(p) for p in first.get("path") or [])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if kind == "RATE_LIMITED":
        return f"rate limited (GraphQL points): {message}{more}"
    return f"GitHub's GraphQL API answered {kind}: {message}" + (f" at {where}" if where else "") + more


# --- GraphQL objects -> the REST API's shapes (what records.py builds payloads from) -----------


def as_rest_user(actor: dict[str, Any] | None) -> dict[str, Any] | None:
    """An Actor as REST's user object: a Bot's REST login carries `[bot]`, its GraphQL login not."""
    if not actor or not actor.get("login"):
        return None
    suffix = "[bot]" if actor.get("__typename") == "Bot" else ""
    return {"login": actor["login"] + suffix}


def as_rest_pull(node: dict[str, Any]) -> dict[str, Any]:
    """A PullRequest as the REST pull request (the fields `pull_request_payload` reads)."""
    # Reference: https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
    database_id = node.get("fullDatabaseId")
    return {
        "number": node["number"],
        "id": int(database_id) if database_id is not None else None,  # BigInt, sent as a string
        "title": node.get("title"),
        "html_url": node.get("url"),
        "state": "open" if node.get("state") == "OPEN" else "closed",  # REST has no 'merged' state
        "created_at": node.get("createdAt"),
        "closed_at": node.get("closedAt"),
        "merged_at": node.get("mergedAt"),
        "user": as_rest_user(node.get("author")),
        "base": {"ref": node.get("baseRefName"), "sha": node.get("baseRefOid")},
        "head": {"ref": node.get("headRefName"), "sha": node.get("headRefOid")},
        "merge_commit_sha": (node.get("mergeCommit") or {}).get("oid"),
    }


def as_rest_commit(node: dict[str, Any]) -> dict[str, Any]:
    """A PullRequestCommit as REST lists a pull request's commits. The dates are authoredDate and
    committedDate (UTC, as REST sends them), not GitActor.date (which keeps the committer's offset)."""
    commit = node["commit"]

    def person(actor: dict[str, Any] | None, date: str | None) -> dict[str, Any]:
        return {"name": (actor or {}).get("name"), "email": (actor or {}).get("email"), "date": date}

    author, committer = commit.get("author"), commit.get("committer")
    return {
        "sha": commit["oid"],
        "parents": [{"sha": p["oid"]} for p in (commit.get("parents") or {}).get("nodes") or []],
        "commit": {
            "author": person(author, commit.get("authoredDate")),
            "committer": person(committer, commit.get("committedDate")),
        },
        "author": as_rest_user((author or {}).get("user")),
        "committer": as_rest_user((committer or {}).get("user")),
    }


def parents_complete(node: dict[str, Any]) -> bool:
    parents = node["commit"].get("parents") or {}
    return int(parents.get("totalCount") or 0) <= len(parents.get("nodes") or [])


def as_rest_review(node: dict[str, Any]) -> dict[str, Any]:
    """A PullRequestReview as REST lists it."""
    # Reference: https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-pull-request
    return {
        "id": int(node["fullDatabaseId"]),
        "user": as_rest_user(node.get("author")),
        "state": node.get("state"),
        "commit_id": (node.get("commit") or {}).get("oid"),
        "submitted_at": node.get("submittedAt"),
        "author_association": node.get("authorAssociation"),
        "body": node.get("body"),
        "html_url": node.get("url"),
    }


def as_rest_dismissal(node: dict[str, Any]) -> dict[str, Any]:
    """A ReviewDismissedEvent as REST's `review_dismissed` issue event (REST writes the state lower-case)."""
    # Reference: https://docs.github.com/en/rest/using-the-rest-api/issue-event-types#review_dismissed
    review = node.get("review") or {}
    return {
        "id": node["databaseId"],
        "actor": as_rest_user(node.get("actor")),
        "created_at": node.get("createdAt"),
        "dismissed_review": {
            "state": str(node.get("previousReviewState") or "").lower(),
            "review_id": int(review["fullDatabaseId"]) if review.get("fullDatabaseId") is not None else None,
            "dismissal_message": node.get("dismissalMessage"),
            "dismissal_commit_id": ((node.get("pullRequestCommit") or {}).get("commit") or {}).get("oid"),
        },
    }
