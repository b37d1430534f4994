"""Serve the demo world from every sandbox and harvest it through the production code path.

    with DemoSandboxes(world, Path("var/demo")) as boxes:
        sources = boxes.load_sources()          # writes var/demo/sources.yaml, load_sources_file()
        replay(world, boxes, sources, say)      # the quarter, harvested as it happened
        final_harvest(sources, say)             # harvest_source() for each source, now

The quarter is replayed with the clock set to each moment (time-machine), so harvest runs,
protection snapshots and pod snapshots carry the times they would have had. Ports, keys and the
registry's storage live under var/demo/ and are reused, so a second run serves byte-identical
answers and appends nothing but harvest-run entries. The signing keys are derived from the seed:
this is a demo, its "release key" is public knowledge.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from devkit.demo.world import ARGO_OUTAGE, END, FIRST_FORGE_HARVEST, START, App, Change, Deployment, Image, World
from devkit.sandbox.argocd import ArgoCDSandbox, application, history_item, operation_state, workload
from devkit.sandbox.github import DirectPush, FakeGitHub, GitHubModel, PullRequest, Review
from devkit.sandbox.gitlab import Approval, FakeGitLab, GitLabModel, MergeRequest
from devkit.sandbox.kubernetes import KubernetesSandbox, kustomization, kustomization_history_item, pod
from devkit.sandbox.oci_registry import BuiltinRegistry, start_builtin_registry
from devkit.sandbox.registry import (
    OCI_MANIFEST,
    Registry,
    SandboxError,
    dsse_envelope,
    public_pem,
    push_attestation,
    push_signature,
    slsa_provenance,
    start_registry,
)
from evidence.sources.harvest import harvest_source, harvest_target
from evidence.sources.models import Source
from evidence.sources.sources_file import load_sources_file

Say = Callable[[str], object]
TOKENS = ("DEMO_GITHUB_TOKEN", "DEMO_GITLAB_TOKEN", "DEMO_ARGOCD_TOKEN", "DEMO_KUBE_TOKEN")
SERVERS = ("github", "gitlab", "argocd", "kubernetes", "registry")
FORGE_EVERY = timedelta(days=4)  # the forges' harvest schedule during the replay


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def signing_key(seed: int, name: str) -> ed25519.Ed25519PrivateKey:
    """A deterministic Ed25519 key (cosign accepts Ed25519 keys): same seed, same signatures."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"demo:{seed}:{name}".encode()).digest())


def image_manifest(content: bytes) -> tuple[bytes, bytes, str]:
    """(config, manifest, digest) of a one-layer OCI image with this layer content."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + hashlib.sha256(config.encode()).hexdigest(),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": "sha256:" + hashlib.sha256(content).hexdigest(),
                "size": len(content),
            }
        ],
    }
    raw = json.dumps(manifest, indent=2).encode()
    return config.encode(), raw, "sha256:" + hashlib.sha256(raw).hexdigest()


def digest_of(image: Image) -> str:
    return image_manifest(image.content)[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoSandboxes:
    world: World
    root: Path
    with_registry: bool = True
    github: FakeGitHub = field(init=False)
    gitlab: FakeGitLab = field(init=False)
    argo: ArgoCDSandbox = field(init=False)
    kube: KubernetesSandbox = field(init=False)
    registry: Registry | BuiltinRegistry | None = field(init=False, default=None)
    registry_note: str = field(init=False, default="")  # why there is no registry, or why it is the built-in one
    ports: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for name in TOKENS:
            os.environ.setdefault(name, secrets.token_hex(16))  # sources read credentials from the env
        self.root.mkdir(parents=True, exist_ok=True)
        self.github = FakeGitHub(GitHubModel(tokens={os.environ["DEMO_GITHUB_TOKEN"]}))
        self.gitlab = FakeGitLab(GitLabModel(tokens={os.environ["DEMO_GITLAB_TOKEN"]}))
        self.argo = ArgoCDSandbox(os.environ["DEMO_ARGOCD_TOKEN"])
        self.kube = KubernetesSandbox(os.environ["DEMO_KUBE_TOKEN"])
        self._pulls: dict[str, list[tuple[datetime, PullRequest]]] = {}
        self._mrs: dict[str, list[tuple[datetime, MergeRequest]]] = {}
        self._build_forges()

    # --- lifecycle ------------------------------------------------------------------------
    def _load_ports(self) -> dict[str, int]:
        """The ports of the first run (URLs are evidence: the same ports keep the same answers)."""
        path = self.root / "ports.json"
        try:
            ports = {k: int(v) for k, v in json.loads(path.read_text()).items() if k in SERVERS}
        except (OSError, ValueError, AttributeError):
            ports = {}
        for name in SERVERS:
            ports.setdefault(name, _free_port())
        path.write_text(json.dumps(ports, indent=2) + "\n")
        return ports

    def start(self) -> DemoSandboxes:
        self.ports = self._load_ports()
        self.github.port, self.gitlab.port = self.ports["github"], self.ports["gitlab"]
        self.argo.server.port, self.kube.server.port = self.ports["argocd"], self.ports["kubernetes"]
        try:
            self.github.start()
            self.gitlab.start()
            self.argo.start()
            self.kube.start()
        except OSError as exc:
            self.stop()
            raise SandboxError(
                f"a demo port is taken ({exc}); remove {self.root / 'ports.json'} to pick new ones"
            ) from None
        if self.with_registry:
            self._start_registry()
        else:
            self.registry_note = "registry disabled"
        return self

    def _start_registry(self) -> None:
        """Debian's docker-registry if it starts; else the devkit's own distribution API on the same
        port and storage, so a newcomer's demo still has signatures and provenance to find."""
        root, port = self.root / "registry", self.ports["registry"]
        try:
            self.registry = start_registry(root, port=port)
            return
        except SandboxError as exc:
            self.registry_note = str(exc)
        try:
            self.registry = start_builtin_registry(root, port=port)
        except OSError as exc:
            self.registry_note += f"; the built-in registry could not listen either ({exc})"

    @property
    def registry_used(self) -> str:
        """Which registry serves the demo's images, and why, in one line."""
        if isinstance(self.registry, BuiltinRegistry):
            return (
                f"the devkit's built-in OCI registry (devkit/sandbox/oci_registry.py) at {self.registry.url}, "
                f"because {self.registry_note}"
            )
        if self.registry is not None:
            return f"Debian's docker-registry (distribution 2.8) at {self.registry.url}"
        return f"none ({self.registry_note})"

    def stop(self) -> None:
        for server in (self.github, self.gitlab, self.argo, self.kube):
            server.stop()
        if self.registry is not None:
            self.registry.stop()

    def __enter__(self) -> DemoSandboxes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def registry_host(self) -> str:
        return f"127.0.0.1:{self.ports['registry']}"

    # --- the forges -----------------------------------------------------------------------
    def _build_forges(self) -> None:
        for change in self.world.changes:
            if change.forge == "github":
                if change.repository not in self.github.model.repositories:
                    self.github.model.add_repository(change.repository)
                pull = _pull(change)
                pushed = self.world.pushed_by.get((change.repository, change.number), {})
                pull.pushed_by = {change.commits[i]: who for i, who in pushed.items()}
                self._pulls.setdefault(change.repository, []).append((change.merged_at, pull))
            else:
                if change.repository not in self.gitlab.model.projects:
                    project = self.gitlab.model.add_project(change.repository)
                    project.protected_branches.append({"name": "main", "push": [0], "merge": [40]})
                    project.approval_rules.append(
                        {"name": "reviewers", "approvals_required": 1, "users": ["alice", "bob", "carol", "dave"]}
                    )
                self._mrs.setdefault(change.repository, []).append((change.merged_at, _merge_request(change)))

    def set_time(self, at: datetime) -> None:
        """Make every sandbox answer as it would have at `at`."""
        for name, pulls in self._pulls.items():
            repo = self.github.model.repositories[name]
            repo.pulls = {p.number: p for when, p in pulls if when <= at}
            pushes = [p for p in self.world.pushes if p.repository == name and p.at <= at]
            repo.pushes = [DirectPush(p.sha, p.author, stamp(p.at)) for p in pushes]
            rules = [p for p in self.world.protections if p.repository == name and p.since <= at]
            if rules:
                repo.protection["main"] = dict(rules[-1].settings)
        for name, mrs in self._mrs.items():
            self.gitlab.model.projects[name].merge_requests = {m.iid: m for when, m in mrs if when <= at}
        for app in self.world.apps:
            self._set_app(app, at)

    def image_ref(self, image: Image) -> str:
        return f"{self.registry_host}/{image.repository}:{image.tag}@{digest_of(image)}"

    def _set_app(self, app: App, at: datetime) -> None:
        tried = [d for d in self.world.deployments if d.app == app.name and d.at <= at]
        done = [d for d in tried if not d.failed]
        if app.controller == "flux":
            self._set_kustomization(app, done)
        else:
            self._set_application(app, tried, done)
        self._set_pods(app, done, at)

    def _set_kustomization(self, app: App, done: list[Deployment]) -> None:
        history = [
            kustomization_history_item(
                f"main@sha1:{d.revision}",
                "sha256:" + hashlib.sha256(f"{app.name}:{d.revision}".encode()).hexdigest(),
                d.at,
                d.at + timedelta(minutes=1),
            )
            for d in reversed(done)  # newest first, as kustomize-controller keeps it
        ][: app.history_limit]
        self.kube.add(kustomization(app.project, "flux-system", history))

    def _set_application(self, app: App, tried: list[Deployment], done: list[Deployment]) -> None:
        history = [
            history_item(i + 1, d.revision, d.at, d.at + timedelta(minutes=2), app.repo_url, user=d.user or None)
            for i, d in enumerate(done)
        ][-app.history_limit :]
        operation = None
        if tried:
            last = tried[-1]
            phase, message = (
                ("Failed", "one or more objects failed to apply")
                if last.failed
                else ("Succeeded", "successfully synced")
            )
            operation = operation_state(
                phase, last.revision, last.at, last.at + timedelta(minutes=2), message, user=last.user or None
            )
        for d in done:  # what the repo server renders at each revision: the image by its tag alone
            ref = f"{self.registry_host}/{d.image.repository}:{d.image.tag}"
            self.argo.put_manifests(app.name, d.revision, [workload(app.project, app.namespace, [(app.project, ref)])])
        images = [self.image_ref(done[-1].image)] if done else []
        obj = application(
            app.name,
            project=app.project,
            namespace=app.namespace,
            repo=app.repo_url,
            history=history,
            operation=operation,
            images=images,
        )
        obj["spec"]["revisionHistoryLimit"] = app.history_limit
        self.argo.put(obj)

    def _set_pods(self, app: App, done: list[Deployment], at: datetime) -> None:
        self.kube.objects["Pod"] = [p for p in self.kube.objects["Pod"] if p["metadata"]["namespace"] != app.namespace]
        if done:
            image = done[-1].image
            rollout = hashlib.sha1(f"{app.name}:{len(done)}".encode(), usedforsecurity=False).hexdigest()[:5]
            ref = f"{self.registry_host}/{image.repository}"
            for i in range(2):
                self.kube.add(
                    pod(
                        f"{app.project}-{rollout}-{i}",
                        app.namespace,
                        {"app.kubernetes.io/instance": app.project},
                        [(app.project, f"{ref}:{image.tag}", f"{ref}@{digest_of(image)}")],
                        started=done[-1].at + timedelta(minutes=1),
                    )
                )
        drift = self.world.drift
        if drift and app.name == "payments-prod" and drift[0] <= at:
            image = drift[1]
            ref = f"{self.registry_host}/{image.repository}"
            containers = [(app.project, f"{ref}:{image.tag}", f"{ref}@{digest_of(image)}")]
            labels = {"app.kubernetes.io/instance": app.project}
            self.kube.add(pod("payments-debug", app.namespace, labels, containers, started=drift[0]))

    # --- the registry ---------------------------------------------------------------------
    def publish_images(self) -> int:
        """Push every image (and the drift image) with its signature and provenance; idempotent."""
        from evidence.sources.oci.client import RegistryClient

        assert self.registry is not None
        client = RegistryClient(self.registry.url)
        keys = {"release": signing_key(self.world.seed, "release"), "rogue": signing_key(self.world.seed, "rogue")}
        images = [*self.world.images, *([self.world.drift[1]] if self.world.drift else [])]
        for image in images:
            config, manifest, digest = image_manifest(image.content)
            client.push_blob(image.repository, config)
            client.push_blob(image.repository, image.content)
            client.push_manifest(image.repository, image.tag, manifest, OCI_MANIFEST)
            if image is (self.world.drift or (None, None))[1]:
                continue  # started by hand: never signed, no provenance
            key = keys.get(image.signer)
            if key is not None:
                push_signature(client, image.repository, digest, key)
            statement = slsa_provenance(
                [digest],
                repository=image.source_repo,
                commit=image.claimed_commit,
                invocation_id=f"{image.source_repo}/actions/runs/{int(image.built_at.timestamp())}/attempts/1",
            )
            push_attestation(client, image.repository, digest, dsse_envelope(statement, key or keys["release"]))
        return len(images)

    # --- sources as code ------------------------------------------------------------------
    def sources_yaml(self) -> str:
        world = self.world
        github = sorted({c.repository for c in world.changes if c.forge == "github"})
        gitlab = sorted({c.repository for c in world.changes if c.forge == "gitlab"})
        rules = [
            {"match": {"namespace": "*-prod"}, "environment": "prod"},
            {"match": {"namespace": "*-staging"}, "environment": "staging"},
        ]
        sources: list[dict[str, Any]] = [
            {
                "name": "demo-github",
                "kind": "github",
                "url": self.github.url,
                "credential_env": "DEMO_GITHUB_TOKEN",
                "repositories": github,
                "seconds_between_requests": 0,  # a local sandbox: no pacing
                "max_rate_limit_wait": 5,
            },
            {
                "name": "demo-gitlab",
                "kind": "gitlab",
                "url": self.gitlab.url,
                "credential_env": "DEMO_GITLAB_TOKEN",
                "projects": gitlab,
                "max_rate_limit_wait": 5,
            },
            {
                "name": "demo-argocd",
                "kind": "argocd",
                "url": self.argo.url,
                "credential_env": "DEMO_ARGOCD_TOKEN",
                "applications": [a.name for a in world.apps if a.controller == "argocd"],
                "environments": [{**r, "application": "{project}"} for r in rules],
            },
            {
                "name": "demo-flux",
                "kind": "flux",
                "url": self.kube.url,
                "credential_env": "DEMO_KUBE_TOKEN",
                "namespaces": ["flux-system"],
                "cluster": "demo",
                "environment": "prod",
            },
            {
                "name": "demo-pods",
                "kind": "kubernetes",
                "url": self.kube.url,
                "credential_env": "DEMO_KUBE_TOKEN",
                "namespaces": [a.namespace for a in world.apps],
                "cluster": "demo",
                "environments": rules,
            },
        ]
        if self.registry is not None:
            pub = self.root / "keys" / "release.pub"
            pub.parent.mkdir(parents=True, exist_ok=True)
            pub.write_bytes(public_pem(signing_key(world.seed, "release")))
            sources.append(
                {
                    "name": "demo-registry",
                    "kind": "oci",
                    "url": self.registry.url,
                    "images": sorted({i.repository for i in world.images}),
                    "trusted_keys": [str(pub.resolve())],
                }
            )
        header = "# Written by manage.py demo: the sandboxes' sources, loaded as EVIDENCE_SOURCES_FILE would be.\n"
        return header + yaml.safe_dump(sources, sort_keys=False)

    def load_sources(self) -> list[Source]:
        path = self.root / "sources.yaml"
        path.write_text(self.sources_yaml())
        return load_sources_file(path)


def _pull(change: Change) -> PullRequest:
    merged = stamp(change.merged_at)
    opened = stamp(change.merged_at - timedelta(hours=5))
    pull = PullRequest(
        number=change.number,
        title=change.title,
        author=change.author,
        base="main",
        head_ref=f"feature/{change.number}",
        commits=list(change.commits),
        created_at=opened,
        updated_at=merged,
        merged_at=merged,
        merged_by=change.merged_by,
        merge_commit_sha=change.merge_commit,
    )
    for i, (login, commit) in enumerate(change.approvers):
        when = stamp(change.merged_at - timedelta(hours=2 - i * 0.5))
        pull.reviews.append(Review(change.number * 100 + i, login, "APPROVED", commit, when))
    return pull


def _merge_request(change: Change) -> MergeRequest:
    merged = stamp(change.merged_at)
    return MergeRequest(
        iid=change.number,
        title=change.title,
        author=change.author,
        target_branch="main",
        source_branch=f"feature/{change.number}",
        commits=list(change.commits),
        created_at=stamp(change.merged_at - timedelta(hours=5)),
        updated_at=merged,
        merged_at=merged,
        merged_by=change.merged_by,
        merge_commit_sha=change.merge_commit,
        approvals=[Approval(login, stamp(change.merged_at - timedelta(hours=1))) for login, _ in change.approvers],
    )


# --- the replay --------------------------------------------------------------------------------


@dataclass
class ReplayFigures:
    moments: int = 0
    runs: int = 0
    appended: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per kind of moment


def moments(world: World, with_registry: bool) -> list[tuple[datetime, str, str]]:
    """(when, what, target) in time order: the forges every four days and either side of each
    protection change, Argo CD or Flux and the pods right after each sync (not during the outage), the registry's
    repository ten minutes after each build, and everything at quarter end."""
    out: list[tuple[datetime, str, str]] = []
    t = FIRST_FORGE_HARVEST
    while t < END:
        out.append((t, "forges", ""))
        t += FORGE_EVERY
    # either side of each protection change, so every merge between has the settings in force known
    out += [(p.since - timedelta(minutes=30), "forges", "") for p in world.protections if p.since > START]
    out += [(p.since + timedelta(minutes=30), "forges", "") for p in world.protections if p.since > START]
    apps = {a.name: a for a in world.apps}
    for d in world.deployments:
        when = d.at + timedelta(minutes=5)
        if apps[d.app].controller == "flux":
            out.append((when, "flux", "flux-system"))
        elif not (ARGO_OUTAGE[0] <= when < ARGO_OUTAGE[1]):
            out.append((when, "argocd", d.app))
        out.append((when, "pods", apps[d.app].namespace))
    if world.drift:
        out.append((world.drift[0] + timedelta(minutes=5), "pods", "payments-prod"))
    out.append((END - timedelta(minutes=30), "forges", ""))
    out.append((END - timedelta(minutes=20), "argocd", "*"))
    if with_registry:  # each repository soon after each build (so signatures predate deployments), and at the end
        out += [(i.built_at + timedelta(minutes=10), "registry", i.repository) for i in world.images]
        out.append((END - timedelta(minutes=10), "registry", ""))
    return sorted(set(out))


def replay(world: World, boxes: DemoSandboxes, sources: dict[str, Source], say: Say) -> ReplayFigures:
    """Harvest the quarter as it happened, each harvest at its moment, through harvest_target."""
    figures = ReplayFigures()
    plan = moments(world, boxes.registry is not None)
    for when, what, target in plan:
        began = time.monotonic()
        with time_machine.travel(when, tick=True):
            boxes.set_time(when)
            for source, name in _targets(sources, what, target):
                run = harvest_target(source, name)
                figures.runs += 1
                figures.appended += run.appended
                if run.status != "succeeded":
                    figures.failed.append(
                        f"{when:%Y-%m-%d} {source.name}:{name} {run.status}: {'; '.join(run.errors)[:200]}"
                    )
        figures.moments += 1
        figures.seconds[what] = figures.seconds.get(what, 0.0) + time.monotonic() - began
    return figures


def _targets(sources: dict[str, Source], what: str, target: str) -> list[tuple[Source, str]]:
    if what == "forges":
        github, gitlab = sources["demo-github"], sources["demo-gitlab"]
        return [(github, r) for r in github.setting("repositories")] + [(gitlab, p) for p in gitlab.setting("projects")]
    if what == "argocd":
        argo = sources["demo-argocd"]
        return [(argo, a) for a in argo.setting("applications")] if target == "*" else [(argo, target)]
    if what == "flux":
        return [(sources["demo-flux"], target)]
    if what == "pods":
        return [(sources["demo-pods"], target)]
    if what == "registry" and "demo-registry" in sources:
        registry = sources["demo-registry"]
        return [(registry, r) for r in registry.setting("images") if not target or r == target]
    return []


def final_harvest(sources: list[Source], say: Say) -> ReplayFigures:
    """Every source once, now, exactly as `manage.py harvest` does."""
    figures = ReplayFigures()
    for source in sources:
        for run in harvest_source(source):
            figures.runs += 1
            figures.appended += run.appended
            if run.status != "succeeded":
                figures.failed.append(f"{source.name}:{run.target} {run.status}: {'; '.join(run.errors)[:200]}")
    return figures


def report_incidents(world: World) -> int:
    """POST each incident of the world to /hooks/incident/, signed as an on-call tool would sign it
    (the receiver is the only way incidents get in); returns how many were new. The same bodies on
    a second run are duplicates, so it appends nothing."""
    import hmac

    from django.test import Client, override_settings

    secret = secrets.token_hex(16)  # made up per run: the receiver records which variable, never the value
    created = 0
    with override_settings(INCIDENT_WEBHOOK_SECRET=secret):
        for incident in world.incidents:
            body = json.dumps(
                {
                    "id": incident.id,
                    "environment": incident.environment,
                    "application": incident.application,
                    "started_at": stamp(incident.started_at),
                    "resolved_at": stamp(incident.resolved_at),
                    "title": incident.title,
                }
            ).encode()
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            response = Client().post(
                "/hooks/incident/", body, content_type="application/json", HTTP_X_SIGNATURE=signature
            )
            if response.status_code not in (200, 202):
                raise SandboxError(
                    f"/hooks/incident/ refused {incident.id}: {response.status_code} {response.content!r}"
                )
            created += response.status_code == 202
    return created
