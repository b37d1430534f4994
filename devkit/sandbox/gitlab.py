"""A fake GitLab REST API v4 (gitlab.com or self-managed) over a small model.

Fill a GitLabModel with projects, merged merge requests, approvals, approval settings and rules,
and protected branches; FakeGitLab serves it at <origin>/api/v4 in the upstream shapes with
Link and X-Total-Pages pagination, ETags and injectable faults.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from devkit.sandbox.forge_http import FakeServer, HttpError, Request, Response, link_header, paginate
from devkit.sandbox.github import ROOT_TIME, DirectPush, GitCommit, fake_sha, reachable

ACCESS = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers", 60: "Admins"}


def user_id(username: str) -> int:
    return zlib.crc32(username.encode()) % 1_000_000 + 1


@dataclass
class Approval:
    username: str
    approved_at: str


@dataclass
class MergeRequest:
    iid: int
    title: str
    author: str
    target_branch: str
    source_branch: str
    commits: list[str]  # oldest first; the last one is the head (`sha`)
    created_at: str
    updated_at: str
    merged_at: str | None
    merged_by: str | None
    merge_commit_sha: str | None
    squash_commit_sha: str | None = None
    state: str = "merged"
    approvals: list[Approval] = field(default_factory=list)
    approvals_required: int = 1
    merge_method: str = "merge"  # merge (a merge commit, after the squash commit if squashed) or ff
    pushed_by: dict[str, str] = field(default_factory=dict)  # commit sha -> who authored and pushed it

    @property
    def sha(self) -> str:
        return self.commits[-1]


@dataclass
class Project:
    path: str  # group/project
    id: int
    default_branch: str = "main"
    merge_requests: dict[int, MergeRequest] = field(default_factory=dict)
    approval_settings: dict[str, Any] = field(
        default_factory=lambda: {
            "approvals_before_merge": 0,
            "reset_approvals_on_push": True,
            "selective_code_owner_removals": False,
            "disable_overriding_approvers_per_merge_request": True,
            "merge_requests_author_approval": False,
            "merge_requests_disable_committers_approval": True,
            "require_password_to_approve": False,
            "require_reauthentication_to_approve": False,
        }
    )
    approval_rules: list[dict[str, Any]] = field(default_factory=list)  # name, approvals_required, branches, users
    protected_branches: list[dict[str, Any]] = field(default_factory=list)  # name, push/merge level, flags
    premium: bool = True  # approval rules and approval state are Premium features
    settings_readable: bool = True  # False: the token is not a maintainer (403 on settings)
    pushes: list[DirectPush] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class GitLabModel:
    projects: dict[str, Project] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)

    def add_project(self, path: str, **kwargs: Any) -> Project:
        project = Project(path, id=zlib.crc32(path.encode()) % 10_000_000, **kwargs)
        self.projects[path] = project
        return project

    def add_merged_request(
        self,
        path: str,
        iid: int,
        *,
        author: str,
        merged_by: str,
        merged_at: str,
        target_branch: str = "main",
        commits: int | list[str] = 2,
        approvers: tuple[str, ...] = (),
        squash: bool = False,
    ) -> MergeRequest:
        project = self.projects[path]
        shas = commits if isinstance(commits, list) else [fake_sha(path, iid, i) for i in range(commits)]
        mr = MergeRequest(
            iid=iid,
            title=f"Change {iid}",
            author=author,
            target_branch=target_branch,
            source_branch=f"feature/{iid}",
            commits=shas,
            created_at=merged_at,
            updated_at=merged_at,
            merged_at=merged_at,
            merged_by=merged_by,
            merge_commit_sha=fake_sha(path, iid, "merge"),
            squash_commit_sha=fake_sha(path, iid, "squash") if squash else None,
            approvals=[Approval(u, merged_at) for u in approvers],
        )
        project.merge_requests[iid] = mr
        return mr


def mr_commit(mr: MergeRequest, i: int, parent: str) -> GitCommit:
    sha = mr.commits[i]
    who = mr.pushed_by.get(sha, mr.author)
    return GitCommit(sha, [parent], who, who, mr.created_at, mr.created_at, f"Commit {i + 1} of !{mr.iid}")


def git_graph(project: Project) -> tuple[dict[str, GitCommit], dict[str, str]]:
    """Every commit of the project and each branch's head, from its merged merge requests and direct
    pushes in time order: a merge commit on the target (after a squash commit when squashed), or
    the merge request's own commits when fast-forwarded."""
    commits: dict[str, GitCommit] = {}
    heads: dict[str, str] = {}
    mrs = [m for m in project.merge_requests.values() if m.merged_at]
    for branch in {project.default_branch} | {m.target_branch for m in mrs} | {p.branch for p in project.pushes}:
        root = fake_sha(project.path, branch, "root")
        commits[root] = GitCommit(root, [], "root", "root", ROOT_TIME, ROOT_TIME, "Initial commit")
        heads[branch] = root
    events: list[tuple[str, int, MergeRequest | DirectPush]] = [(str(m.merged_at), m.iid, m) for m in mrs]
    events += [(p.at, -i - 1, p) for i, p in enumerate(project.pushes)]
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(event, DirectPush):
            tip = heads[event.branch]
            commits[event.sha] = GitCommit(event.sha, [tip], event.author, event.author, event.at, event.at, "Hotfix")
            heads[event.branch] = event.sha
            continue
        mr, tip = event, heads[event.target_branch]
        for i in range(len(mr.commits)):
            commits[mr.commits[i]] = mr_commit(mr, i, mr.commits[i - 1] if i else tip)
        if mr.merge_method == "ff":
            heads[mr.target_branch] = mr.sha
            continue
        second = mr.sha
        when = str(mr.merged_at)
        if mr.squash_commit_sha:
            squash = mr.squash_commit_sha
            commits[squash] = GitCommit(squash, [tip], mr.author, mr.merged_by or mr.author, when, when, mr.title)
            second = squash
        if mr.merge_commit_sha:
            who = mr.merged_by or mr.author
            merge = mr.merge_commit_sha
            commits[merge] = GitCommit(merge, [tip, second], who, who, when, when, f"Merge branch '{mr.source_branch}'")
            heads[mr.target_branch] = merge
    return commits, heads


class FakeGitLab(FakeServer):
    def __init__(self, model: GitLabModel | None = None) -> None:
        super().__init__()
        self.model = model or GitLabModel()
        project = r"/projects/([^/]+)"
        mr = project + r"/merge_requests/(\d+)"
        self.route("GET", r"/groups/([^/]+)/projects", self.list_group_projects)
        self.route("GET", project, self.get_project)
        self.route("GET", project + r"/merge_requests", self.list_merge_requests)
        self.route("GET", mr, self.get_merge_request)
        self.route("GET", mr + r"/commits", self.list_commits)
        self.route("GET", project + r"/repository/commits", self.list_branch_commits)
        self.route("GET", mr + r"/approvals", self.get_approvals)
        self.route("GET", mr + r"/approval_state", self.get_approval_state)
        self.route("GET", mr + r"/notes", self.list_notes)
        self.route("GET", project + r"/approvals", self.get_project_approvals)
        self.route("GET", project + r"/approval_rules", self.list_approval_rules)
        self.route("GET", project + r"/protected_branches", self.list_protected_branches)

    @property
    def url(self) -> str:
        """The instance URL to give python-gitlab (Gitlab(url=...)); the API is under /api/v4."""
        return self.origin

    def prefix(self) -> str:
        return "/api/v4"

    def not_found_body(self) -> Any:
        return {"error": "404 Not Found"}

    def authenticate(self, request: Request) -> None:
        token = request.headers.get("private-token") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.model.tokens:
            raise HttpError(401, {"message": "401 Unauthorized"})

    # --- shapes ---------------------------------------------------------------------------
    def user_json(self, username: str | None) -> dict[str, Any] | None:
        if username is None:
            return None
        return {
            "id": user_id(username),
            "username": username,
            "name": username.title(),
            "state": "active",
            "avatar_url": None,
            "web_url": f"{self.origin}/{username}",
        }

    def project_json(self, project: Project) -> dict[str, Any]:
        namespace = project.path.rsplit("/", 1)[0]
        return {
            "id": project.id,
            "name": project.name,
            "path": project.name,
            "path_with_namespace": project.path,
            "name_with_namespace": project.path.replace("/", " / "),
            "default_branch": project.default_branch,
            "web_url": f"{self.origin}/{project.path}",
            "namespace": {"id": zlib.crc32(namespace.encode()) % 100_000, "full_path": namespace, "kind": "group"},
            "archived": False,
            "visibility": "private",
        }

    def mr_json(self, project: Project, mr: MergeRequest) -> dict[str, Any]:
        return {
            "id": project.id * 10_000 + mr.iid,
            "iid": mr.iid,
            "project_id": project.id,
            "title": mr.title,
            "description": "",
            "state": mr.state,
            "created_at": mr.created_at,
            "updated_at": mr.updated_at,
            "merged_by": self.user_json(mr.merged_by),  # deprecated upstream, still sent
            "merge_user": self.user_json(mr.merged_by),
            "merged_at": mr.merged_at,
            "closed_by": None,
            "closed_at": None,
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "author": self.user_json(mr.author),
            "assignees": [],
            "reviewers": [],
            "source_project_id": project.id,
            "target_project_id": project.id,
            "draft": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "not_open",
            "sha": mr.sha,
            "merge_commit_sha": mr.merge_commit_sha,
            "squash_commit_sha": mr.squash_commit_sha,
            "squash": mr.squash_commit_sha is not None,
            "reference": f"!{mr.iid}",
            "references": {"short": f"!{mr.iid}", "relative": f"!{mr.iid}", "full": f"{project.path}!{mr.iid}"},
            "web_url": f"{self.origin}/{project.path}/-/merge_requests/{mr.iid}",
        }

    def access_levels(self, levels: list[int], first_id: int) -> list[dict[str, Any]]:
        return [
            {"id": first_id + i, "access_level": lvl, "access_level_description": ACCESS.get(lvl, str(lvl))}
            for i, lvl in enumerate(levels)
        ]

    def protected_branch_json(self, index: int, flat: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 100 + index,
            "name": flat["name"],
            "push_access_levels": self.access_levels(flat.get("push", [40]), 1000 + 10 * index),
            "merge_access_levels": self.access_levels(flat.get("merge", [40]), 2000 + 10 * index),
            "allow_force_push": bool(flat.get("allow_force_push", False)),
            "code_owner_approval_required": bool(flat.get("code_owner_approval_required", False)),
        }

    def rule_json(self, project: Project, index: int, rule: dict[str, Any]) -> dict[str, Any]:
        users = [self.user_json(u) for u in rule.get("users", [])]
        branches = [
            self.protected_branch_json(i, pb)
            for i, pb in enumerate(project.protected_branches)
            if pb["name"] in rule.get("branches", [])
        ]
        return {
            "id": 1 + index,
            "name": rule["name"],
            "rule_type": rule.get("rule_type", "regular"),
            "eligible_approvers": users,
            "approvals_required": rule["approvals_required"],
            "users": users,
            "groups": [],
            "contains_hidden_groups": False,
            "applies_to_all_protected_branches": not rule.get("branches"),
            "protected_branches": branches,
        }

    # --- helpers --------------------------------------------------------------------------
    def project(self, ident: str) -> Project:
        ident = unquote(ident)
        for project in self.model.projects.values():
            if ident in (project.path, str(project.id)):
                return project
        raise HttpError(404, {"message": "404 Project Not Found"})

    def merge_request(self, project: Project, iid: str) -> MergeRequest:
        mr = project.merge_requests.get(int(iid))
        if mr is None:
            raise HttpError(404, {"message": "404 Not found"})
        return mr

    def page(self, request: Request, items: list[Any]) -> Response:
        chunk, page, pages, per_page = paginate(items, request, default_per_page=20)
        base = self.origin + self.prefix() + request.path
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        link = link_header(base, request, page, pages)
        if link:
            headers["Link"] = link
        return Response(chunk, headers)

    def require_settings(self, project: Project, premium: bool = False) -> None:
        if premium and not project.premium:
            raise HttpError(403, {"message": "403 Forbidden"})
        if not project.settings_readable:
            raise HttpError(403, {"message": "403 Forbidden"})

    # --- routes ---------------------------------------------------------------------------
    # Reference: https://docs.gitlab.com/api/groups/#list-projects
    def list_group_projects(self, request: Request, group: str) -> Response:
        group = unquote(group)
        projects = sorted(
            (p for p in self.model.projects.values() if p.path.startswith(group + "/")), key=lambda p: p.path
        )
        if not projects:
            raise HttpError(404, {"message": "404 Group Not Found"})
        return self.page(request, [self.project_json(p) for p in projects])

    # Reference: https://docs.gitlab.com/api/projects/#get-a-single-project
    def get_project(self, request: Request, ident: str) -> Response:
        return Response(self.project_json(self.project(ident)))

    # Reference: https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests
    def list_merge_requests(self, request: Request, ident: str) -> Response:
        project = self.project(ident)
        mrs = list(project.merge_requests.values())
        state = request.query.get("state", "all")
        if state != "all":
            mrs = [m for m in mrs if m.state == state]
        if "target_branch" in request.query:
            mrs = [m for m in mrs if m.target_branch == request.query["target_branch"]]
        if "updated_after" in request.query:
            since = request.query["updated_after"].replace("+00:00", "Z")
            mrs = [m for m in mrs if m.updated_at >= since]
        key = request.query.get("order_by", "created_at")
        key = key if key in ("created_at", "updated_at", "merged_at") else "created_at"
        mrs.sort(key=lambda m: (getattr(m, key) or "", m.iid), reverse=request.query.get("sort", "desc") == "desc")
        return self.page(request, [self.mr_json(project, m) for m in mrs])

    # Reference: https://docs.gitlab.com/api/merge_requests/#get-single-mr
    def get_merge_request(self, request: Request, ident: str, iid: str) -> Response:
        project = self.project(ident)
        return Response(self.mr_json(project, self.merge_request(project, iid)))

    def commit_json(self, project: Project, commit: GitCommit) -> dict[str, Any]:
        return {
            "id": commit.sha,
            "short_id": commit.sha[:8],
            "title": commit.message,
            "message": commit.message,
            "author_name": commit.author,
            "author_email": f"{commit.author}@example.test",
            "authored_date": commit.authored_at,
            "committer_name": commit.committer,
            "committer_email": f"{commit.committer}@example.test",
            "committed_date": commit.committed_at,
            "created_at": commit.committed_at,
            "parent_ids": list(commit.parents),
            "web_url": f"{self.origin}/{project.path}/-/commit/{commit.sha}",
        }

    # Reference: https://docs.gitlab.com/api/merge_requests/#get-single-merge-request-commits
    def list_commits(self, request: Request, ident: str, iid: str) -> Response:
        project = self.project(ident)
        mr = self.merge_request(project, iid)
        graph, _ = git_graph(project)
        commits = [
            graph.get(sha) or mr_commit(mr, i, mr.commits[i - 1] if i else fake_sha(project.path, mr.iid, "base"))
            for i, sha in enumerate(mr.commits)
        ]
        return self.page(request, [self.commit_json(project, c) for c in reversed(commits)])  # newest first

    # Reference: https://docs.gitlab.com/api/commits/#list-repository-commits
    def list_branch_commits(self, request: Request, ident: str) -> Response:
        project = self.project(ident)
        commits, heads = git_graph(project)
        ref = request.query.get("ref_name") or project.default_branch
        head = heads.get(ref, ref if ref in commits else None)
        if head is None:
            return self.page(request, [])  # GitLab answers an unknown ref with an empty list
        if request.query.get("first_parent", "").lower() in ("true", "1"):
            line, sha = [], head
            while sha:
                line.append(commits[sha])
                sha = commits[sha].parents[0] if commits[sha].parents else ""
        else:
            line = reachable(commits, head)
        return self.page(request, [self.commit_json(project, c) for c in line])

    # Reference: https://docs.gitlab.com/api/merge_request_approvals/#for-a-merge-request
    def get_approvals(self, request: Request, ident: str, iid: str) -> Response:
        project = self.project(ident)
        mr = self.merge_request(project, iid)
        return Response(
            {
                "id": project.id * 10_000 + mr.iid,
                "iid": mr.iid,
                "project_id": project.id,
                "title": mr.title,
                "state": mr.state,
                "created_at": mr.created_at,
                "updated_at": mr.updated_at,
                "merge_status": "can_be_merged",
                "approved": len(mr.approvals) >= mr.approvals_required,
                "approvals_required": mr.approvals_required,
                "approvals_left": max(0, mr.approvals_required - len(mr.approvals)),
                "require_password_to_approve": False,
                "approved_by": [{"user": self.user_json(a.username)} for a in mr.approvals],
                "suggested_approvers": [],
                "approvers": [],
                "approver_groups": [],
                "user_has_approved": False,
                "user_can_approve": False,
                "approval_rules_left": [],
                "has_approval_rules": bool(project.approval_rules),
                "merge_request_approvers_available": project.premium,
                "multiple_approval_rules_available": project.premium,
            }
        )

    # Reference: https://docs.gitlab.com/api/merge_request_approvals/#get-the-approval-state-of-merge-requests
    def get_approval_state(self, request: Request, ident: str, iid: str) -> Response:
        project = self.project(ident)
        mr = self.merge_request(project, iid)
        if not project.premium:
            raise HttpError(403, {"message": "403 Forbidden"})
        approvers = [self.user_json(a.username) for a in mr.approvals]
        rules = []
        for i, rule in enumerate(project.approval_rules):
            if rule.get("branches") and mr.target_branch not in rule["branches"]:
                continue
            eligible = [a for a in approvers if a and a["username"] in rule.get("users", [])]
            rules.append(
                {
                    "id": 1 + i,
                    "name": rule["name"],
                    "rule_type": rule.get("rule_type", "regular"),
                    "eligible_approvers": [self.user_json(u) for u in rule.get("users", [])],
                    "approvals_required": rule["approvals_required"],
                    "users": [self.user_json(u) for u in rule.get("users", [])],
                    "groups": [],
                    "contains_hidden_groups": False,
                    "approved_by": eligible,
                    "source_rule": None,
                    "approved": len(eligible) >= rule["approvals_required"],
                    "overridden": False,
                }
            )
        return Response({"approval_rules_overwritten": False, "rules": rules})

    # Reference: https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
    def list_notes(self, request: Request, ident: str, iid: str) -> Response:
        project = self.project(ident)
        mr = self.merge_request(project, iid)
        notes = [
            {
                "id": mr.iid * 1000 + i,
                "type": None,
                "body": "approved this merge request",
                "author": self.user_json(a.username),
                "created_at": a.approved_at,
                "updated_at": a.approved_at,
                "system": True,
                "noteable_id": project.id * 10_000 + mr.iid,
                "noteable_type": "MergeRequest",
                "noteable_iid": mr.iid,
                "project_id": project.id,
                "resolvable": False,
                "confidential": False,
                "internal": False,
            }
            for i, a in enumerate(mr.approvals)
        ]
        notes.sort(key=lambda n: (n["created_at"], n["id"]), reverse=request.query.get("sort", "desc") == "desc")
        return self.page(request, notes)

    # Reference: https://docs.gitlab.com/api/merge_request_approvals/#retrieve-project-configuration
    def get_project_approvals(self, request: Request, ident: str) -> Response:
        project = self.project(ident)
        self.require_settings(project)
        return Response(dict(project.approval_settings))

    # Reference: https://docs.gitlab.com/api/merge_request_approvals/#get-all-approval-rules-for-project
    def list_approval_rules(self, request: Request, ident: str) -> Response:
        project = self.project(ident)
        self.require_settings(project, premium=True)
        return self.page(request, [self.rule_json(project, i, r) for i, r in enumerate(project.approval_rules)])

    # Reference: https://docs.gitlab.com/api/protected_branches/#list-protected-branches
    def list_protected_branches(self, request: Request, ident: str) -> Response:
        project = self.project(ident)
        self.require_settings(project)
        items = [self.protected_branch_json(i, pb) for i, pb in enumerate(project.protected_branches)]
        return self.page(request, items)
