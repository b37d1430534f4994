"""A fake GitHub REST API (github.com or Enterprise Server under /api/v3) over a small model.

Fill a GitHubModel with repositories, pull requests, reviews, dismissals, branch protection,
rulesets, rule suites and direct pushes; FakeGitHub serves it in the upstream shapes (see the
REST docs linked per route) with Link pagination, ETags, rate-limit headers and injectable
faults. Each branch's commits follow from the merged pull requests (by merge, squash or rebase,
as each says) and the direct pushes, in time order (see `git_graph`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from devkit.sandbox.forge_http import FakeServer, HttpError, Request, Response, epoch_in, link_header, paginate


def user_id(login: str) -> int:
    return zlib.crc32(login.encode()) % 10_000_000 + 1


def fake_sha(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


@dataclass
class Review:
    id: int
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    commit_id: str
    submitted_at: str
    body: str = ""


@dataclass
class ReviewDismissal:
    """A `review_dismissed` issue event: who dismissed which review, when, and why."""

    id: int
    review_id: int
    actor: str
    created_at: str
    message: str = ""


@dataclass
class GitCommit:
    """A commit of the fake's git graph."""

    sha: str
    parents: list[str]
    author: str
    committer: str
    authored_at: str
    committed_at: str
    message: str


@dataclass
class DirectPush:
    """A commit pushed straight onto a branch, without a pull request."""

    sha: str
    author: str
    at: str
    branch: str = "main"


@dataclass
class PullRequest:
    number: int
    title: str
    author: str
    base: str
    head_ref: str
    commits: list[str]
    created_at: str
    updated_at: str
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    state: str = "closed"
    reviews: list[Review] = field(default_factory=list)
    dismissals: list[ReviewDismissal] = field(default_factory=list)
    merge_event: bool = True  # False: the timeline lacks the 'merged' event (seen on imported repositories)
    merge_method: str = "merge"  # merge, squash or rebase: how it lands on the base branch
    pushed_by: dict[str, str] = field(default_factory=dict)  # commit sha -> who authored and pushed it

    @property
    def head_sha(self) -> str:
        return self.commits[-1]


@dataclass
class Ruleset:
    id: int
    name: str
    source: str  # "owner/repo" or the organisation
    rules: list[dict[str, Any]]
    include: list[str] = field(default_factory=lambda: ["~DEFAULT_BRANCH"])
    exclude: list[str] = field(default_factory=list)
    enforcement: str = "active"
    bypass_actors: list[dict[str, Any]] = field(default_factory=list)
    source_type: str = "Repository"
    created_at: str = "2026-01-05T09:00:00Z"
    updated_at: str = "2026-01-05T09:00:00Z"


@dataclass
class Repository:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    # branch -> classic protection in a flat form (see protection_json); absent: not protected
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    protection_readable: bool = True  # False: the token lacks admin rights (403)
    rulesets: list[Ruleset] = field(default_factory=list)
    rule_suites: list[dict[str, Any]] = field(default_factory=list)
    rule_suites_readable: bool = True
    pushes: list[DirectPush] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


GRAPHQL_DOCS = "https://docs.github.com/graphql"
WEB_FLOW = "web-flow"  # GitHub's own committer of merge, squash and rebase commits made on the web
ROOT_TIME = "2025-12-01T00:00:00Z"


def pull_commit(repo: Repository, pull: PullRequest, i: int, parent: str) -> GitCommit:
    sha = pull.commits[i]
    who = pull.pushed_by.get(sha, pull.author)
    return GitCommit(sha, [parent], who, who, pull.created_at, pull.created_at, f"Commit {i + 1} of #{pull.number}")


def git_graph(repo: Repository) -> tuple[dict[str, GitCommit], dict[str, str]]:
    """Every commit of the repository and each branch's head, from its merged pull requests and
    direct pushes in time order: a merge makes a two-parent commit on the base, a squash one
    commit, a rebase a copy of each commit of the pull request (the last one its merge commit)."""
    commits: dict[str, GitCommit] = {}
    heads: dict[str, str] = {}
    events: list[tuple[str, int, object]] = [(p.merged_at, p.number, p) for p in repo.pulls.values() if p.merged_at]
    events += [(push.at, -i - 1, push) for i, push in enumerate(repo.pushes)]
    for branch in {repo.default_branch} | {getattr(e[2], "base", None) or getattr(e[2], "branch", "") for e in events}:
        root = fake_sha(repo.full_name, branch, "root")
        commits[root] = GitCommit(root, [], repo.owner, repo.owner, ROOT_TIME, ROOT_TIME, "Initial commit")
        heads[branch] = root
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(event, DirectPush):
            tip = heads[event.branch]
            commits[event.sha] = GitCommit(event.sha, [tip], event.author, event.author, event.at, event.at, "Hotfix")
            heads[event.branch] = event.sha
            continue
        pull = event
        assert isinstance(pull, PullRequest) and pull.merged_at and pull.merge_commit_sha
        tip = heads[pull.base]
        for i in range(len(pull.commits)):
            commits[pull.commits[i]] = pull_commit(repo, pull, i, pull.commits[i - 1] if i else tip)
        if pull.merge_method == "rebase":
            for i, original in enumerate(pull.commits):
                last = i == len(pull.commits) - 1
                sha = pull.merge_commit_sha if last else fake_sha(repo.full_name, pull.number, "rebased", i)
                source = commits[original]
                commits[sha] = GitCommit(
                    sha, [tip], source.author, WEB_FLOW, source.authored_at, pull.merged_at, source.message
                )
                tip = sha
        else:
            parents = [tip] if pull.merge_method == "squash" else [tip, pull.head_sha]
            commits[pull.merge_commit_sha] = GitCommit(
                pull.merge_commit_sha,
                parents,
                pull.merged_by or pull.author,
                WEB_FLOW,
                pull.merged_at,
                pull.merged_at,
                f"Merge pull request #{pull.number}",
            )
            tip = pull.merge_commit_sha
        heads[pull.base] = tip
    return commits, heads


def pull_commits(repo: Repository, pull: PullRequest, graph: dict[str, GitCommit]) -> list[GitCommit]:
    """A pull request's commits as the commits list of a pull request gives them (REST and GraphQL)."""
    base = base_sha(repo, pull)
    return [
        graph.get(sha) or pull_commit(repo, pull, i, pull.commits[i - 1] if i else base)
        for i, sha in enumerate(pull.commits)
    ]


def base_sha(repo: Repository, pull: PullRequest) -> str:
    return fake_sha(repo.full_name, pull.base, pull.number, "base")


def git_name(login: str) -> str:
    """The name in a commit, which is not the account: `Alice Example` for alice (a bot's is its login)."""
    if login == WEB_FLOW:
        return "GitHub"
    return login if login.endswith("[bot]") else f"{login.capitalize()} Example"


def git_email(login: str) -> str:
    return "noreply@github.com" if login == WEB_FLOW else f"{login}@example.test"


def reachable(commits: dict[str, GitCommit], head: str) -> list[GitCommit]:
    """What `git log head` lists: every ancestor, newest commit time first (children before parents)."""
    seen: dict[str, GitCommit] = {}
    order: list[str] = []
    stack = [head]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in commits:
            continue
        seen[sha] = commits[sha]
        order.append(sha)
        stack.extend(reversed(commits[sha].parents))
    rank = {sha: i for i, sha in enumerate(order)}
    return sorted(seen.values(), key=lambda c: (c.committed_at, -rank[c.sha]), reverse=True)


@dataclass
class GitHubModel:
    repositories: dict[str, Repository] = field(default_factory=dict)
    org_rulesets: dict[str, list[Ruleset]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    rate_limit: int = 5000
    # GitHub Apps: app id -> PEM public key; installation tokens are minted on request
    apps: dict[int, str] = field(default_factory=dict)

    def add_repository(self, full_name: str, **kwargs: Any) -> Repository:
        owner, name = full_name.split("/")
        repo = Repository(owner, name, id=zlib.crc32(full_name.encode()) % 100_000_000, **kwargs)
        self.repositories[full_name] = repo
        return repo

    def add_merged_pull(
        self,
        full_name: str,
        number: int,
        *,
        author: str,
        merged_by: str,
        merged_at: str,
        base: str = "main",
        commits: int | list[str] = 2,
        approvers: tuple[str, ...] = (),
        title: str = "",
    ) -> PullRequest:
        """A merged pull request whose approvers each approved its head commit."""
        repo = self.repositories[full_name]
        shas = commits if isinstance(commits, list) else [fake_sha(full_name, number, i) for i in range(commits)]
        pull = PullRequest(
            number=number,
            title=title or f"Change {number}",
            author=author,
            base=base,
            head_ref=f"feature/{number}",
            commits=shas,
            created_at=merged_at,
            updated_at=merged_at,
            merged_at=merged_at,
            merged_by=merged_by,
            merge_commit_sha=fake_sha(full_name, number, "merge"),
        )
        for i, login in enumerate(approvers):
            pull.reviews.append(Review(number * 100 + i, login, "APPROVED", pull.head_sha, merged_at))
        repo.pulls[number] = pull
        return pull

    def rulesets_for(self, repo: Repository, include_parents: bool = True) -> list[Ruleset]:
        own = list(repo.rulesets)
        return own + (list(self.org_rulesets.get(repo.owner, [])) if include_parents else [])


def ref_matches(ruleset: Ruleset, repo: Repository, branch: str) -> bool:
    ref = f"refs/heads/{branch}"

    def hit(patterns: list[str]) -> bool:
        for pattern in patterns:
            if pattern == "~ALL" or (pattern == "~DEFAULT_BRANCH" and branch == repo.default_branch):
                return True
            if fnmatch.fnmatchcase(ref, pattern):
                return True
        return False

    return hit(ruleset.include) and not hit(ruleset.exclude)


class FakeGitHub(FakeServer):
    """Serves a GitHubModel. `enterprise=True` mounts the API under /api/v3 as Enterprise Server does."""

    def __init__(self, model: GitHubModel | None = None, *, enterprise: bool = False) -> None:
        super().__init__()
        self.model = model or GitHubModel()
        self.enterprise = enterprise
        repo = r"/repos/([^/]+/[^/]+)"
        self.route("POST", r"/app/installations/(\d+)/access_tokens", self.create_installation_token)
        from devkit.sandbox.github_graphql import GitHubGraphQL

        self.graphql = GitHubGraphQL(self.model)
        # Reference: https://docs.github.com/en/graphql/guides/forming-calls-with-graphql#the-graphql-endpoint
        # (Enterprise Server: /api/graphql beside the REST API's /api/v3)
        self.route("POST", "/api/graphql" if enterprise else "/graphql", self.post_graphql)
        self.route("GET", r"/orgs/([^/]+)", self.get_org)
        self.route("GET", r"/orgs/([^/]+)/repos", self.list_org_repos)
        self.route("GET", repo, self.get_repo)
        self.route("GET", repo + r"/pulls", self.list_pulls)
        self.route("GET", repo + r"/pulls/(\d+)", self.get_pull)
        self.route("GET", repo + r"/pulls/(\d+)/reviews", self.list_reviews)
        self.route("GET", repo + r"/pulls/(\d+)/commits", self.list_commits)
        self.route("GET", repo + r"/commits", self.list_branch_commits)
        self.route("GET", repo + r"/issues/(\d+)/events", self.list_issue_events)
        self.route("GET", repo + r"/branches/([^/]+)/protection", self.get_protection)
        self.route("GET", repo + r"/rules/branches/([^/]+)", self.get_branch_rules)
        self.route("GET", repo + r"/rulesets", self.list_rulesets)
        self.route("GET", repo + r"/rulesets/rule-suites", self.list_rule_suites)
        self.route("GET", repo + r"/rulesets/rule-suites/(\d+)", self.get_rule_suite)
        self.route("GET", repo + r"/rulesets/(\d+)", self.get_ruleset)

    @property
    def url(self) -> str:
        """The base URL to give PyGithub (Github(base_url=...))."""
        return self.origin + self.prefix()

    def prefix(self) -> str:
        return "/api/v3" if self.enterprise else ""

    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if request.path.startswith("/app/"):
            self.authenticate_app(token)
            return
        if scheme.lower() not in ("token", "bearer") or token not in self.model.tokens:
            docs = GRAPHQL_DOCS if request.path.endswith("/graphql") else "https://docs.github.com/rest"
            raise HttpError(401, {"message": "Bad credentials", "documentation_url": docs})

    def _send(self, handler: Any, request: Request, response: Response) -> None:
        response.headers.setdefault("X-RateLimit-Limit", str(self.model.rate_limit))
        response.headers.setdefault("X-RateLimit-Remaining", str(self.model.rate_limit - 1))
        response.headers.setdefault("X-RateLimit-Reset", epoch_in(3600))
        response.headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
        super()._send(handler, request, response)

    def authenticate_app(self, token: str) -> None:
        """An App's JWT (RS256, iss = app id), as GitHub checks it before minting installation tokens."""
        # Reference: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
        import jwt

        try:
            issuer = str(jwt.decode(token, options={"verify_signature": False})["iss"])
            jwt.decode(token, self.model.apps[int(issuer)], algorithms=["RS256"])
        except (jwt.PyJWTError, KeyError, ValueError):
            raise HttpError(401, {"message": "A JSON web token could not be decoded"}) from None

    # --- faults with GitHub's own wording -------------------------------------------------
    def rate_limit_next(self, pattern: str, reset_in: float, *, times: int = 1) -> None:
        """Primary rate limit: 403 with X-RateLimit-Remaining 0 and the reset epoch."""
        # Reference: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
        self.fail_next(
            pattern,
            403,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch_in(reset_in)},
            body={"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "x"},
            times=times,
        )

    # --- shapes ---------------------------------------------------------------------------
    def api(self, path: str) -> str:
        return self.url + path

    def user_json(self, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        return {
            "login": login,
            "id": user_id(login),
            "node_id": f"U_{user_id(login)}",
            "url": self.api(f"/users/{login}"),
            "html_url": f"https://github.example/{login}",
            "type": "User",
            "site_admin": False,
        }

    def repo_json(self, repo: Repository) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": True,
            "owner": {**(self.user_json(repo.owner) or {}), "type": "Organization"},
            "html_url": f"https://github.example/{repo.full_name}",
            "url": self.api(f"/repos/{repo.full_name}"),
            "default_branch": repo.default_branch,
            "archived": False,
            "visibility": "private",
        }

    def pull_json(self, repo: Repository, pull: PullRequest, *, full: bool) -> dict[str, Any]:
        url = self.api(f"/repos/{repo.full_name}/pulls/{pull.number}")
        data: dict[str, Any] = {
            "url": url,
            "id": repo.id * 10_000 + pull.number,
            "node_id": f"PR_{repo.id}_{pull.number}",
            "html_url": f"https://github.example/{repo.full_name}/pull/{pull.number}",
            "issue_url": self.api(f"/repos/{repo.full_name}/issues/{pull.number}"),
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "comments_url": self.api(f"/repos/{repo.full_name}/issues/{pull.number}/comments"),
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user_json(pull.author),
            "body": None,
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.merged_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "draft": False,
            "head": {
                "label": f"{repo.owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "user": self.user_json(pull.author),
                "repo": self.repo_json(repo),
            },
            "base": {
                "label": f"{repo.owner}:{pull.base}",
                "ref": pull.base,
                "sha": base_sha(repo, pull),
                "user": self.user_json(repo.owner),
                "repo": self.repo_json(repo),
            },
            "author_association": "MEMBER",
            "auto_merge": None,
        }
        if full:  # only the single-pull endpoint carries these
            data.update(
                {
                    "merged": pull.merged_at is not None,
                    "mergeable": None,
                    "merged_by": self.user_json(pull.merged_by),
                    "comments": 0,
                    "review_comments": 0,
                    "commits": len(pull.commits),
                    "additions": 10,
                    "deletions": 2,
                    "changed_files": 1,
                }
            )
        return data

    def review_json(self, repo: Repository, pull: PullRequest, review: Review) -> dict[str, Any]:
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user_json(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": f"https://github.example/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}",
            "pull_request_url": self.api(f"/repos/{repo.full_name}/pulls/{pull.number}"),
            "author_association": "MEMBER",
            "submitted_at": review.submitted_at,
            "commit_id": review.commit_id,
        }

    def protection_json(self, repo: Repository, branch: str, flat: dict[str, Any]) -> dict[str, Any]:
        base = self.api(f"/repos/{repo.full_name}/branches/{branch}/protection")

        def flag(name: str) -> dict[str, Any]:
            return {"url": f"{base}/{name}", "enabled": bool(flat.get(name, False))}

        data: dict[str, Any] = {
            "url": base,
            "enforce_admins": flag("enforce_admins"),
            "required_signatures": {**flag("required_signatures"), "url": f"{base}/required_signatures"},
            "required_linear_history": {"enabled": bool(flat.get("required_linear_history", False))},
            "allow_force_pushes": {"enabled": bool(flat.get("allow_force_pushes", False))},
            "allow_deletions": {"enabled": bool(flat.get("allow_deletions", False))},
            "required_conversation_resolution": {"enabled": False},
            "lock_branch": {"enabled": False},
            "allow_fork_syncing": {"enabled": False},
        }
        if "required_approving_review_count" in flat:
            data["required_pull_request_reviews"] = {
                "url": f"{base}/required_pull_request_reviews",
                "dismiss_stale_reviews": bool(flat.get("dismiss_stale_reviews", False)),
                "require_code_owner_reviews": bool(flat.get("require_code_owner_reviews", False)),
                "required_approving_review_count": flat["required_approving_review_count"],
                "require_last_push_approval": bool(flat.get("require_last_push_approval", False)),
            }
        if "required_status_checks" in flat:
            contexts = list(flat["required_status_checks"])
            data["required_status_checks"] = {
                "url": f"{base}/required_status_checks",
                "strict": True,
                "contexts": contexts,
                "checks": [{"context": c, "app_id": None} for c in contexts],
                "contexts_url": f"{base}/required_status_checks/contexts",
            }
        return data

    def ruleset_json(self, ruleset: Ruleset, *, full: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": ruleset.id,
            "name": ruleset.name,
            "source_type": ruleset.source_type,
            "source": ruleset.source,
            "enforcement": ruleset.enforcement,
            "node_id": f"RRS_{ruleset.id}",
            "created_at": ruleset.created_at,
            "updated_at": ruleset.updated_at,
        }
        if full:
            data.update(
                {
                    "target": "branch",
                    "bypass_actors": ruleset.bypass_actors,
                    "conditions": {"ref_name": {"include": ruleset.include, "exclude": ruleset.exclude}},
                    "rules": ruleset.rules,
                    "current_user_can_bypass": "never",
                }
            )
        return data

    # --- helpers --------------------------------------------------------------------------
    def repository(self, full_name: str) -> Repository:
        repo = self.model.repositories.get(full_name)
        if repo is None:
            raise HttpError(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        return repo

    def pull(self, repo: Repository, number: str) -> PullRequest:
        pull = repo.pulls.get(int(number))
        if pull is None:
            raise HttpError(404, {"message": "Not Found"})
        return pull

    def page(self, request: Request, items: list[Any]) -> Response:
        chunk, page, pages, _ = paginate(items, request)
        headers = {}
        link = link_header(self.origin + self.prefix() + request.path, request, page, pages)
        if link:
            headers["Link"] = link
        return Response(chunk, headers)

    # --- routes ---------------------------------------------------------------------------
    # Reference: https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
    def create_installation_token(self, request: Request, installation_id: str) -> Response:
        token = f"ghs_installation_{installation_id}_{len(self.model.tokens)}"
        self.model.tokens.add(token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        body = {"token": token, "expires_at": expires, "permissions": {"pull_requests": "read"}}
        return Response(body, status=201)

    # Reference: https://docs.github.com/en/graphql/guides/forming-calls-with-graphql
    def post_graphql(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body or b"null")
        except ValueError:
            raise HttpError(400, {"message": "Problems parsing JSON", "documentation_url": GRAPHQL_DOCS}) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return Response({"errors": [{"message": "A query attribute must be specified and must be a string."}]})
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            return Response({"errors": [{"message": "Variables are invalid JSON."}]})
        body, headers = self.graphql.run(payload["query"], variables)
        return Response(body, headers)

    # Reference: https://docs.github.com/en/rest/orgs/orgs#get-an-organization
    def get_org(self, request: Request, org: str) -> Response:
        if not any(r.owner == org for r in self.model.repositories.values()):
            raise HttpError(404, {"message": "Not Found"})
        url = self.api(f"/orgs/{org}")
        return Response(
            {**(self.user_json(org) or {}), "type": "Organization", "url": url, "repos_url": f"{url}/repos"}
        )

    # Reference: https://docs.github.com/en/rest/repos/repos#list-organization-repositories
    def list_org_repos(self, request: Request, org: str) -> Response:
        repos = sorted((r for r in self.model.repositories.values() if r.owner == org), key=lambda r: r.name)
        return self.page(request, [self.repo_json(r) for r in repos])

    # Reference: https://docs.github.com/en/rest/repos/repos#get-a-repository
    def get_repo(self, request: Request, full_name: str) -> Response:
        return Response(self.repo_json(self.repository(full_name)))

    # Reference: https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
    def list_pulls(self, request: Request, full_name: str) -> Response:
        repo = self.repository(full_name)
        state = request.query.get("state", "open")
        pulls = [p for p in repo.pulls.values() if state == "all" or p.state == state]
        if "base" in request.query:
            pulls = [p for p in pulls if p.base == request.query["base"]]
        key = "updated_at" if request.query.get("sort") == "updated" else "created_at"
        descending = request.query.get("direction", "desc") == "desc"
        pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=descending)
        return self.page(request, [self.pull_json(repo, p, full=False) for p in pulls])

    # Reference: https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
    def get_pull(self, request: Request, full_name: str, number: str) -> Response:
        repo = self.repository(full_name)
        return Response(self.pull_json(repo, self.pull(repo, number), full=True))

    # Reference: https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-pull-request
    def list_reviews(self, request: Request, full_name: str, number: str) -> Response:
        repo = self.repository(full_name)
        pull = self.pull(repo, number)
        return self.page(request, [self.review_json(repo, pull, r) for r in pull.reviews])

    def commit_json(self, repo: Repository, commit: GitCommit) -> dict[str, Any]:
        def person(login: str, date: str) -> dict[str, Any]:
            return {"name": git_name(login), "email": git_email(login), "date": date}

        return {
            "sha": commit.sha,
            "node_id": f"C_{commit.sha[:12]}",
            "commit": {
                "author": person(commit.author, commit.authored_at),
                "committer": person(commit.committer, commit.committed_at),
                "message": commit.message,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
            },
            "url": self.api(f"/repos/{repo.full_name}/commits/{commit.sha}"),
            "author": self.user_json(commit.author),
            "committer": self.user_json(commit.committer),
            "parents": [{"sha": p, "url": self.api(f"/repos/{repo.full_name}/commits/{p}")} for p in commit.parents],
        }

    # Reference: https://docs.github.com/en/rest/pulls/pulls#list-commits-on-a-pull-request
    def list_commits(self, request: Request, full_name: str, number: str) -> Response:
        repo = self.repository(full_name)
        pull = self.pull(repo, number)
        return self.page(request, [self.commit_json(repo, c) for c in pull_commits(repo, pull, git_graph(repo)[0])])

    # Reference: https://docs.github.com/en/rest/commits/commits#list-commits
    def list_branch_commits(self, request: Request, full_name: str) -> Response:
        repo = self.repository(full_name)
        commits, heads = git_graph(repo)
        ref = request.query.get("sha") or repo.default_branch
        head = heads.get(ref, ref if ref in commits else None)
        if head is None:
            raise HttpError(404, {"message": "No commit found for SHA: " + ref})
        return self.page(request, [self.commit_json(repo, c) for c in reachable(commits, head)])

    # Reference: https://docs.github.com/en/rest/issues/events#list-issue-events
    def list_issue_events(self, request: Request, full_name: str, number: str) -> Response:
        repo = self.repository(full_name)
        pull = self.pull(repo, number)
        events = []
        for d in pull.dismissals:
            review = next((r for r in pull.reviews if r.id == d.review_id), None)
            events.append(
                {
                    "id": d.id,
                    "node_id": f"RDE_{d.id}",
                    "url": self.api(f"/repos/{repo.full_name}/issues/events/{d.id}"),
                    "actor": self.user_json(d.actor),
                    "event": "review_dismissed",
                    "commit_id": None,
                    "commit_url": None,
                    "created_at": d.created_at,
                    "dismissed_review": {
                        "state": "approved",  # the state the review had before it was dismissed
                        "review_id": d.review_id,
                        "dismissal_message": d.message,
                        "dismissal_commit_id": review.commit_id if review else None,
                    },
                }
            )
        if pull.merged_at is None or not pull.merge_event:
            return self.page(request, events)
        events.append(
            {
                "id": repo.id * 1000 + pull.number,
                "node_id": "ME_1",
                "url": self.api(f"/repos/{repo.full_name}/issues/events/{repo.id * 1000 + pull.number}"),
                "actor": self.user_json(pull.merged_by),
                "event": "merged",
                "commit_id": pull.merge_commit_sha,
                "commit_url": None,
                "created_at": pull.merged_at,
            }
        )
        return self.page(request, events)

    # Reference: https://docs.github.com/en/rest/branches/branch-protection#get-branch-protection
    def get_protection(self, request: Request, full_name: str, branch: str) -> Response:
        repo = self.repository(full_name)
        if not repo.protection_readable:
            raise HttpError(403, {"message": "Resource not accessible by integration", "status": "403"})
        flat = repo.protection.get(branch)
        if flat is None:
            raise HttpError(404, {"message": "Branch not protected", "status": "404"})
        return Response(self.protection_json(repo, branch, flat))

    # Reference: https://docs.github.com/en/rest/repos/rules#get-rules-for-a-branch
    def get_branch_rules(self, request: Request, full_name: str, branch: str) -> Response:
        repo = self.repository(full_name)
        rules = []
        for ruleset in self.model.rulesets_for(repo):
            if ruleset.enforcement != "active" or not ref_matches(ruleset, repo, branch):
                continue
            for rule in ruleset.rules:
                rules.append(
                    {
                        **rule,
                        "ruleset_source_type": ruleset.source_type,
                        "ruleset_source": ruleset.source,
                        "ruleset_id": ruleset.id,
                    }
                )
        return self.page(request, rules)

    # Reference: https://docs.github.com/en/rest/repos/rules#get-all-repository-rulesets
    def list_rulesets(self, request: Request, full_name: str) -> Response:
        repo = self.repository(full_name)
        parents = request.query.get("includes_parents", "true") == "true"
        return self.page(request, [self.ruleset_json(r, full=False) for r in self.model.rulesets_for(repo, parents)])

    # Reference: https://docs.github.com/en/rest/repos/rules#get-a-repository-ruleset
    def get_ruleset(self, request: Request, full_name: str, ruleset_id: str) -> Response:
        repo = self.repository(full_name)
        for ruleset in self.model.rulesets_for(repo):
            if ruleset.id == int(ruleset_id):
                return Response(self.ruleset_json(ruleset, full=True))
        raise HttpError(404, {"message": "Not Found"})

    # Reference: https://docs.github.com/en/rest/repos/rule-suites#list-repository-rule-suites
    def list_rule_suites(self, request: Request, full_name: str) -> Response:
        repo = self.repository(full_name)
        if not repo.rule_suites_readable:
            raise HttpError(403, {"message": "Resource not accessible by integration"})
        suites = repo.rule_suites
        if "ref" in request.query:
            suites = [s for s in suites if s["ref"] == request.query["ref"]]
        summary = [{k: v for k, v in s.items() if k != "rule_evaluations"} for s in suites]
        return self.page(request, [{**s, "repository_id": repo.id, "repository_name": repo.name} for s in summary])

    # Reference: https://docs.github.com/en/rest/repos/rule-suites#get-a-repository-rule-suite
    def get_rule_suite(self, request: Request, full_name: str, suite_id: str) -> Response:
        repo = self.repository(full_name)
        for suite in repo.rule_suites:
            if suite["id"] == int(suite_id):
                return Response({**suite, "repository_id": repo.id, "repository_name": repo.name})
        raise HttpError(404, {"message": "Not Found"})
