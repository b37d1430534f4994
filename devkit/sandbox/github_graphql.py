"""GitHub's GraphQL API (`POST /graphql`, `/api/graphql` on Enterprise Server) over the fake's model.

A small slice of GitHub's public schema (the types and fields named as GitHub names them: repository,
pull requests with their commits, reviews and timeline items, refs, rateLimit) executed by
graphql-core against the same GitHubModel the REST routes serve, so both APIs tell one story. What
GitHub adds on top of plain GraphQL is here too: connections must say `first` or `last` (at most
100), each query is charged points by GitHub's documented formula (`rateLimit { cost remaining }`),
an unknown field answers GitHub's wording (`Field 'x' doesn't exist on type 'Y'`), a missing object
is a `NOT_FOUND` error beside a null, and running out of points is `RATE_LIMITED`.

Reference: https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
    value_from_ast_untyped,
)

from devkit.sandbox.github import (
    GitCommit,
    PullRequest,
    Repository,
    Review,
    base_sha,
    git_email,
    git_graph,
    git_name,
    pull_commits,
    user_id,
)

if TYPE_CHECKING:
    from devkit.sandbox.github import GitHubModel

# Reference: https://docs.github.com/en/graphql/reference (the objects below keep GitHub's names and types)
SDL = """
scalar DateTime
scalar GitTimestamp
scalar GitObjectID
scalar URI
scalar BigInt

type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  rateLimit(dryRun: Boolean = false): RateLimit
}

type RateLimit { cost: Int! limit: Int! nodeCount: Int! remaining: Int! resetAt: DateTime! used: Int! }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

interface Actor { login: String! url: URI! }
type User implements Actor { login: String! url: URI! databaseId: Int name: String email: String! }
type Bot implements Actor { login: String! url: URI! databaseId: Int }

enum PullRequestState { OPEN CLOSED MERGED }
enum IssueOrderField { CREATED_AT UPDATED_AT COMMENTS }
enum OrderDirection { ASC DESC }
input IssueOrder { field: IssueOrderField! direction: OrderDirection! }
enum PullRequestReviewState { PENDING COMMENTED APPROVED CHANGES_REQUESTED DISMISSED }
enum CommentAuthorAssociation {
  MEMBER OWNER MANNEQUIN COLLABORATOR CONTRIBUTOR FIRST_TIME_CONTRIBUTOR FIRST_TIMER NONE
}
enum PullRequestTimelineItemsItemType { MERGED_EVENT REVIEW_DISMISSED_EVENT }

type Repository {
  id: ID!
  databaseId: Int
  name: String!
  nameWithOwner: String!
  url: URI!
  defaultBranchRef: Ref
  ref(qualifiedName: String!): Ref
  pullRequest(number: Int!): PullRequest
  pullRequests(
    first: Int, after: String, last: Int, before: String,
    states: [PullRequestState!], baseRefName: String, headRefName: String, orderBy: IssueOrder
  ): PullRequestConnection!
}

type Ref { name: String! prefix: String! target: GitObject }
interface GitObject { oid: GitObjectID! }

type GitActor { name: String email: String date: GitTimestamp user: User }

type Commit implements GitObject {
  oid: GitObjectID!
  message: String!
  authoredDate: DateTime!
  committedDate: DateTime!
  author: GitActor
  committer: GitActor
  parents(first: Int, after: String, last: Int, before: String): CommitConnection!
}
type CommitConnection { nodes: [Commit] edges: [CommitEdge] pageInfo: PageInfo! totalCount: Int! }
type CommitEdge { cursor: String! node: Commit }

type PullRequest {
  id: ID!
  number: Int!
  databaseId: Int @deprecated(reason: "Use `fullDatabaseId` instead (64-bit).")
  fullDatabaseId: BigInt
  title: String!
  url: URI!
  state: PullRequestState!
  merged: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  closedAt: DateTime
  mergedAt: DateTime
  author: Actor
  mergedBy: Actor
  baseRefName: String!
  baseRefOid: GitObjectID!
  headRefName: String!
  headRefOid: GitObjectID!
  mergeCommit: Commit
  commits(first: Int, after: String, last: Int, before: String): PullRequestCommitConnection!
  reviews(
    first: Int, after: String, last: Int, before: String, states: [PullRequestReviewState!]
  ): PullRequestReviewConnection
  timelineItems(
    first: Int, after: String, last: Int, before: String, since: DateTime,
    itemTypes: [PullRequestTimelineItemsItemType!]
  ): PullRequestTimelineItemsConnection!
}
type PullRequestConnection { nodes: [PullRequest] edges: [PullRequestEdge] pageInfo: PageInfo! totalCount: Int! }
type PullRequestEdge { cursor: String! node: PullRequest }

type PullRequestCommit { id: ID! url: URI! commit: Commit! }
type PullRequestCommitConnection {
  nodes: [PullRequestCommit] edges: [PullRequestCommitEdge] pageInfo: PageInfo! totalCount: Int!
}
type PullRequestCommitEdge { cursor: String! node: PullRequestCommit }

type PullRequestReview {
  id: ID!
  databaseId: Int
  fullDatabaseId: BigInt
  author: Actor
  state: PullRequestReviewState!
  commit: Commit
  submittedAt: DateTime
  authorAssociation: CommentAuthorAssociation!
  body: String!
  url: URI!
}
type PullRequestReviewConnection {
  nodes: [PullRequestReview] edges: [PullRequestReviewEdge] pageInfo: PageInfo! totalCount: Int!
}
type PullRequestReviewEdge { cursor: String! node: PullRequestReview }

type ReviewDismissedEvent {
  id: ID!
  databaseId: Int
  actor: Actor
  createdAt: DateTime!
  dismissalMessage: String
  previousReviewState: PullRequestReviewState!
  pullRequestCommit: PullRequestCommit
  review: PullRequestReview
  url: URI!
}
type MergedEvent { id: ID! actor: Actor createdAt: DateTime! mergeRefName: String! commit: Commit }
union PullRequestTimelineItems = MergedEvent | ReviewDismissedEvent
type PullRequestTimelineItemsConnection {
  nodes: [PullRequestTimelineItems] edges: [PullRequestTimelineItemsEdge] pageInfo: PageInfo! totalCount: Int!
}
type PullRequestTimelineItemsEdge { cursor: String! node: PullRequestTimelineItems }
"""

PAGE_LIMIT = 100  # GitHub: `first`/`last` between 1 and 100 on every connection
NODE_LIMIT = 500_000  # GitHub: at most this many nodes one query may ask for
INT_MAX = 2**31 - 1  # GraphQL Int: larger database ids are only in the BigInt `fullDatabaseId`


class NotFound(Exception):
    """An object the query names does not exist: GitHub answers a null and a NOT_FOUND error."""


class QueryError(Exception):
    """A query GitHub refuses before running it (pagination limits), with its `type`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def cursor_index(value: str) -> int:
    try:
        kind, _, number = base64.b64decode(value, validate=True).decode().rpartition(":")
        if kind != "cursor:v2":
            raise ValueError(value)
        return int(number)
    except ValueError:
        raise GraphQLError(f"`{value}` does not appear to be a valid cursor.") from None


def connection(items: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    """A GitHub connection over a list: nodes, edges, pageInfo and totalCount, paged by first/after
    or last/before."""
    start, end = 0, len(items)
    if args.get("after"):
        start = min(end, cursor_index(args["after"]) + 1)
    if args.get("before"):
        end = max(start, min(end, cursor_index(args["before"])))
    if args.get("first") is not None:
        end = min(end, start + int(args["first"]))
    if args.get("last") is not None:
        start = max(start, end - int(args["last"]))
    chunk = list(range(start, end))
    return {
        "nodes": [items[i] for i in chunk],
        "edges": [{"cursor": cursor(i), "node": items[i]} for i in chunk],
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursor(chunk[0]) if chunk else None,
            "endCursor": cursor(chunk[-1]) if chunk else None,
        },
        "totalCount": len(items),
    }


def paged(items: Callable[..., list[Any]]) -> Callable[..., dict[str, Any]]:
    """A connection field: graphql-core calls it with the field's arguments."""

    def resolve(info: Any, **args: Any) -> dict[str, Any]:
        return connection(items(**args), args)

    return resolve


class GitHubGraphQL:
    """Parses, checks, charges and runs one query against the model."""

    def __init__(self, model: GitHubModel, html: str = "https://github.example") -> None:
        self.model = model
        self.html = html
        self.schema: GraphQLSchema = build_schema(SDL)
        self.remaining = model.rate_limit
        self.costs: list[int] = []  # points charged per query, in order (the bench reads them)

    # --- the request ----------------------------------------------------------------------
    def run(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The JSON body GitHub answers (always 200 once authenticated) and rate-limit headers."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [self.format(exc)]}, {}
        problems = validate(self.schema, document)
        if problems:
            return {"errors": [self.format(e) for e in problems]}, {}
        try:
            cost, nodes = self.charge(document, variables)
        except QueryError as exc:
            return {"errors": [{"type": exc.kind, "message": exc.message}]}, {}
        if cost > self.remaining:
            limited = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}
            return limited, self.headers()
        self.remaining -= cost
        self.costs.append(cost)
        graphs: dict[str, tuple[dict[str, GitCommit], dict[str, str]]] = {}
        root = {
            "repository": lambda info, owner, name, **_: self.repository(f"{owner}/{name}", graphs),
            "rateLimit": lambda info, **_: {
                "cost": cost,
                "limit": self.model.rate_limit,
                "nodeCount": nodes,
                "remaining": self.remaining,
                "used": self.model.rate_limit - self.remaining,
                "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
            },
        }
        result = execute(self.schema, document, root_value=root, variable_values=variables)
        assert isinstance(result, ExecutionResult), "the fake's resolvers are synchronous"
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [self.format(e) for e in result.errors]
        return body, self.headers()

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.model.rate_limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Used": str(self.model.rate_limit - self.remaining),
            "X-RateLimit-Resource": "graphql",
        }

    def format(self, error: GraphQLError) -> dict[str, Any]:
        """A graphql-core error in GitHub's shape and, where GitHub words it its own way, its words."""
        data: dict[str, Any] = dict(error.formatted)
        data.pop("extensions", None)
        original = error.original_error
        if isinstance(original, NotFound):
            data["type"] = "NOT_FOUND"
            data["message"] = str(original)
        match = re.match(r"Cannot query field '(\w+)' on type '(\w+)'", error.message)
        if match:
            field, owner = match.groups()
            data["message"] = f"Field '{field}' doesn't exist on type '{owner}'"
            data["extensions"] = {"code": "undefinedField", "typeName": owner, "fieldName": field}
        return data

    # --- GitHub's cost: connections asked for, weighted by how many parents each has --------
    def charge(self, document: Any, variables: dict[str, Any]) -> tuple[int, int]:
        """(points, nodes) by GitHub's formula: each connection counts once per parent node it can
        appear under, assuming every `first`/`last` is filled; the sum over 100, rounded, at least 1."""
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        totals = {"requests": 0, "nodes": 0}
        query_type = self.schema.query_type
        assert query_type is not None
        for operation in operations:
            self._walk(operation.selection_set, query_type, 1, fragments, variables, totals)
        if totals["nodes"] > NODE_LIMIT:
            raise QueryError(
                "MAX_NODE_LIMIT_EXCEEDED",
                f"This query requests up to {totals['nodes']:,} possible nodes which exceeds the maximum limit of "
                f"{NODE_LIMIT:,}.",
            )
        return max(1, round(totals["requests"] / 100)), totals["nodes"]

    def _walk(
        self,
        selections: SelectionSetNode | None,
        parent: Any,
        multiplier: int,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        totals: dict[str, int],
    ) -> None:
        for node in selections.selections if selections else ():
            if isinstance(node, InlineFragmentNode):
                typed = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                self._walk(node.selection_set, typed, multiplier, fragments, variables, totals)
                continue
            if isinstance(node, FragmentSpreadNode):
                fragment = fragments[node.name.value]
                typed = self.schema.get_type(fragment.type_condition.name.value)
                self._walk(fragment.selection_set, typed, multiplier, fragments, variables, totals)
                continue
            assert isinstance(node, FieldNode)
            name = node.name.value
            fields = getattr(parent, "fields", None) or {}  # object types and interfaces; unions have none
            if name not in fields:  # __typename, or a field validation already refused
                continue
            field_type = get_named_type(fields[name].type)
            args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments or ()}
            inner = multiplier
            if field_type.name.endswith("Connection"):
                size = args.get("first", args.get("last"))
                asks_nodes = any(
                    isinstance(s, FieldNode) and s.name.value in ("nodes", "edges")
                    for s in (node.selection_set.selections if node.selection_set else ())
                )
                if size is None and asks_nodes:
                    raise QueryError(
                        "MISSING_PAGINATION_BOUNDARIES",
                        f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
                    )
                if size is not None and not 0 <= int(size) <= PAGE_LIMIT:
                    which = "first" if "first" in args else "last"
                    raise QueryError(
                        "EXCESSIVE_PAGINATION",
                        f"Requesting {size} records on the `{name}` connection exceeds the `{which}` limit of "
                        f"{PAGE_LIMIT} records.",
                    )
                totals["requests"] += multiplier
                inner = multiplier * int(size or 1)
                totals["nodes"] += inner
            self._walk(node.selection_set, field_type, inner, fragments, variables, totals)

    # --- the model in GitHub's objects ----------------------------------------------------
    def actor(self, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        if login.endswith("[bot]"):  # REST says `dependabot[bot]`, GraphQL a Bot whose login is `dependabot`
            return {"__typename": "Bot", "login": login[: -len("[bot]")], "url": f"{self.html}/apps/{login[:-5]}"}
        return {
            "__typename": "User",
            "login": login,
            "url": f"{self.html}/{login}",
            "databaseId": user_id(login),
            "name": login,
            "email": "",
        }

    def git_actor(self, login: str, date: str) -> dict[str, Any]:
        user = self.actor(login)
        return {
            "name": git_name(login),
            "email": git_email(login),
            "date": date,
            "user": user if user and user["__typename"] == "User" else None,  # a bot is no User
        }

    def commit(self, graph: dict[str, GitCommit], sha: str | None, known: GitCommit | None = None) -> Any:
        if sha is None:
            return None
        found = known or graph.get(sha)
        if found is None:  # outside the graph: only its id is known
            return {"__typename": "Commit", "oid": sha, "parents": paged(lambda **_: [])}
        commit = found
        return {
            "__typename": "Commit",
            "oid": commit.sha,
            "message": commit.message,
            "authoredDate": commit.authored_at,
            "committedDate": commit.committed_at,
            "author": self.git_actor(commit.author, commit.authored_at),
            "committer": self.git_actor(commit.committer, commit.committed_at),
            "parents": paged(lambda **_: [self.commit(graph, p) for p in commit.parents]),
        }

    def repository(self, full_name: str, graphs: dict[str, Any]) -> dict[str, Any]:
        repo = self.model.repositories.get(full_name)
        if repo is None:
            raise NotFound(f"Could not resolve to a Repository with the name '{full_name}'.")
        if full_name not in graphs:
            graphs[full_name] = git_graph(repo)
        graph, heads = graphs[full_name]

        def ref(name: str) -> dict[str, Any] | None:
            branch = name.removeprefix("refs/heads/")
            if branch not in heads:
                return None
            return {"name": branch, "prefix": "refs/heads/", "target": self.commit(graph, heads[branch])}

        def pull_request(info: Any, number: int) -> dict[str, Any]:
            pull = repo.pulls.get(number)
            if pull is None:
                raise NotFound(f"Could not resolve to a PullRequest with the number of {number}.")
            return self.pull(repo, pull, graph)

        def pulls(states: list[str] | None = None, orderBy: dict[str, str] | None = None, **args: Any) -> list[Any]:
            chosen = [p for p in repo.pulls.values() if states is None or pull_state(p) in states]
            for key in ("baseRefName", "headRefName"):
                if args.get(key) is not None:
                    chosen = [p for p in chosen if (p.base if key == "baseRefName" else p.head_ref) == args[key]]
            order = orderBy or {"field": "CREATED_AT", "direction": "ASC"}
            attribute = "updated_at" if order["field"] == "UPDATED_AT" else "created_at"
            chosen.sort(key=lambda p: (getattr(p, attribute), p.number), reverse=order["direction"] == "DESC")
            return [self.pull(repo, p, graph) for p in chosen]

        return {
            "__typename": "Repository",
            "id": f"R_{repo.id}",
            "databaseId": repo.id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "url": f"{self.html}/{repo.full_name}",
            "defaultBranchRef": ref(repo.default_branch),
            "ref": lambda info, qualifiedName: ref(qualifiedName),
            "pullRequest": pull_request,
            "pullRequests": paged(pulls),
        }

    def pull(self, repo: Repository, pull: PullRequest, graph: dict[str, GitCommit]) -> dict[str, Any]:
        database_id = repo.id * 10_000 + pull.number  # the REST `id`
        url = f"{self.html}/{repo.full_name}/pull/{pull.number}"

        def commits(**_: Any) -> list[Any]:
            return [
                {"id": f"PURC_{c.sha[:12]}", "url": f"{url}/commits/{c.sha}", "commit": self.commit(graph, c.sha, c)}
                for c in pull_commits(repo, pull, graph)
            ]

        def reviews(states: list[str] | None = None, **_: Any) -> list[Any]:
            return [self.review(repo, pull, r, graph) for r in pull.reviews if states is None or r.state in states]

        def timeline(itemTypes: list[str] | None = None, since: str | None = None, **_: Any) -> list[Any]:
            items: list[tuple[str, dict[str, Any]]] = []
            for d in pull.dismissals:
                review = next((r for r in pull.reviews if r.id == d.review_id), None)
                items.append(
                    (
                        d.created_at,
                        {
                            "__typename": "ReviewDismissedEvent",
                            "id": f"RDE_{d.id}",
                            "databaseId": d.id if d.id <= INT_MAX else None,
                            "actor": self.actor(d.actor),
                            "createdAt": d.created_at,
                            "dismissalMessage": d.message,
                            "previousReviewState": "APPROVED",  # as the REST event says: the review approved
                            "pullRequestCommit": (
                                {"id": "PURC", "url": url, "commit": self.commit(graph, review.commit_id)}
                                if review
                                else None
                            ),
                            "review": self.review(repo, pull, review, graph) if review else stub_review(d.review_id),
                            "url": f"{url}#event-{d.id}",
                        },
                    )
                )
            if pull.merged_at and pull.merge_event:
                items.append(
                    (
                        pull.merged_at,
                        {
                            "__typename": "MergedEvent",
                            "id": f"ME_{pull.number}",
                            "actor": self.actor(pull.merged_by),
                            "createdAt": pull.merged_at,
                            "mergeRefName": pull.base,
                            "commit": self.commit(graph, pull.merge_commit_sha),
                        },
                    )
                )
            kinds = {"ReviewDismissedEvent": "REVIEW_DISMISSED_EVENT", "MergedEvent": "MERGED_EVENT"}
            return [
                item
                for at, item in sorted(items, key=lambda i: i[0])
                if (itemTypes is None or kinds[item["__typename"]] in itemTypes) and (since is None or at >= since)
            ]

        return {
            "__typename": "PullRequest",
            "id": f"PR_{repo.id}_{pull.number}",
            "number": pull.number,
            "databaseId": database_id if database_id <= INT_MAX else None,
            "fullDatabaseId": str(database_id),
            "title": pull.title,
            "url": url,
            "state": pull_state(pull),
            "merged": pull.merged_at is not None,
            "createdAt": pull.created_at,
            "updatedAt": pull.updated_at,
            "closedAt": pull.merged_at,  # as the REST routes say
            "mergedAt": pull.merged_at,
            "author": self.actor(pull.author),
            "mergedBy": self.actor(pull.merged_by),
            "baseRefName": pull.base,
            "baseRefOid": base_sha(repo, pull),
            "headRefName": pull.head_ref,
            "headRefOid": pull.head_sha,
            "mergeCommit": self.commit(graph, pull.merge_commit_sha),
            "commits": paged(commits),
            "reviews": paged(reviews),
            "timelineItems": paged(timeline),
        }

    def review(self, repo: Repository, pull: PullRequest, review: Review, graph: dict[str, GitCommit]) -> Any:
        return {
            "__typename": "PullRequestReview",
            "id": f"PRR_{review.id}",
            "databaseId": review.id if review.id <= INT_MAX else None,
            "fullDatabaseId": str(review.id),
            "author": self.actor(review.user),
            "state": review.state,
            "commit": self.commit(graph, review.commit_id),
            "submittedAt": review.submitted_at,
            "authorAssociation": "MEMBER",
            "body": review.body,
            "url": f"{self.html}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}",
        }


def stub_review(review_id: int) -> dict[str, Any]:
    """A dismissed review the model no longer holds: only its id is known."""
    return {
        "id": f"PRR_{review_id}",
        "databaseId": review_id if review_id <= INT_MAX else None,
        "fullDatabaseId": str(review_id),
        "author": None,
        "state": "DISMISSED",
        "commit": None,
        "submittedAt": None,
        "authorAssociation": "NONE",
        "body": "",
        "url": "",
    }


def pull_state(pull: PullRequest) -> str:
    if pull.merged_at:
        return "MERGED"
    return "CLOSED" if pull.state == "closed" else "OPEN"
