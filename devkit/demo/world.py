"""The demo's organisation: one coherent, seeded quarter of work across every sandbox.

`build_world()` returns plain data (no servers, no I/O): three GitHub repositories and one GitLab
project with a few hundred merged changes from 2026-01-01 to 2026-03-31, branch protection that
changes over the quarter, images built from merge commits (signed, with SLSA provenance naming
the commit), Argo CD deployments of those images to staging and prod (a rollback, a failed sync),
and the pods that ran them; the GitLab project's service is deployed by Flux instead.
`devkit.demo.run` serves it and harvests it.

Seeded violations, each one named case in `World.seeded` (what it is, which deployments it lands
on, the finding codes custody must raise there): direct push, author-only approval, stale
approval, unsigned image, untrusted signing key, provenance naming another commit, drift (a pod
running a digest no deployment produced), a manual sync, a rollback by hand, and an evidence gap
(Argo CD not harvested while a short history rolled over); and the commit-ancestry and
segregation-of-duties cases of `devkit.demo.ancestry_cases`. The world makes nothing else: each
change gets as many approvals as its repository's protection asks for at its merge. A new case
is one `world.add_case(SeededCase(...))` line where the world makes it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from devkit.sandbox.github import fake_sha

SEED = 2026
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)  # 90 days: the demo's quarter
FIRST_FORGE_HARVEST = START + timedelta(hours=6)  # before it, no branch protection is on record
FORGE_HOST = "https://github.example"
GITLAB_HOST = "https://gitlab.example"
TEAM = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
LEADS = ["lead-olivia", "lead-peter"]
VERBS = ["Fix", "Add", "Refactor", "Speed up", "Log"]
TOPICS = ["checkout", "retries", "limits", "export", "cache", "auth"]
# Argo CD is down for the harvester in this window: payments-staging keeps only 2 history items,
# so the deployments made meanwhile roll over unseen (one evidence gap, derived from the ledger).
ARGO_OUTAGE = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 24, tzinfo=UTC))


@dataclass
class Change:
    """A merged pull request (GitHub) or merge request (GitLab)."""

    forge: str  # github or gitlab
    repository: str  # owner/name or group/project
    number: int
    author: str
    merged_by: str
    merged_at: datetime
    commits: list[str]
    approvers: list[tuple[str, str]]  # (login, commit approved); GitLab approvals carry no commit
    merge_commit: str
    title: str

    @property
    def head(self) -> str:
        return self.commits[-1]


@dataclass
class Protection:
    """Branch protection of main from `since` on (GitHub classic, flat form of the fake)."""

    repository: str
    since: datetime
    settings: dict[str, object]
    note: str


@dataclass
class Image:
    repository: str  # in the registry
    tag: str
    built_at: datetime
    commit: str  # the commit it was built from
    source_repo: str  # URL of the source repository
    signer: str = "release"  # release (trusted), rogue (untrusted) or "" (unsigned)
    provenance_commit: str = ""  # what the provenance claims; "" = commit

    @property
    def content(self) -> bytes:
        """The image's one layer: deterministic, so its digest is too."""
        return f"{self.repository}:{self.tag} built from {self.commit}\n".encode()

    @property
    def claimed_commit(self) -> str:
        return self.provenance_commit or self.commit


@dataclass
class Deployment:
    app: str  # Argo CD application name, e.g. payments-prod
    environment: str
    at: datetime
    image: Image
    revision: str
    user: str = ""  # "" = automated sync; else who synced by hand
    failed: bool = False


@dataclass
class App:
    name: str
    project: str  # Argo CD project = the service
    environment: str
    namespace: str
    repo_url: str
    history_limit: int = 10
    controller: str = "argocd"  # or flux (a Kustomization named after the project, in flux-system)


@dataclass
class SeededCase:
    """One seeded violation: where it lands and the codes findings must raise on each deployment
    it lands on (a deployment of `revision`, or the one of `app` live at `at`)."""

    name: str
    where: str
    codes: tuple[str, ...]
    revision: str = ""
    app: str = ""  # with revision: only this application's deployments; with at: required
    at: datetime | None = None


@dataclass
class Push:
    """A commit pushed straight onto a repository's main branch, without a pull request."""

    repository: str
    sha: str
    author: str
    at: datetime


@dataclass
class Incident:
    """An incident reported by the on-call tool (POSTed, signed, to /hooks/incident/)."""

    id: str
    environment: str
    application: str
    started_at: datetime
    resolved_at: datetime
    title: str


@dataclass
class World:
    seed: int
    changes: list[Change] = field(default_factory=list)
    protections: list[Protection] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    drift: tuple[datetime, Image] | None = None  # a pod started by hand with this image
    seeded: list[SeededCase] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)  # direct pushes to main (devkit.demo.ancestry_cases)
    pushed_by: dict[tuple[str, int], dict[int, str]] = field(default_factory=dict)  # change -> commit i -> who
    incidents: list[Incident] = field(default_factory=list)
    delivery_events: dict[str, str] = field(default_factory=dict)  # DORA events seeded: what -> where

    @property
    def violations(self) -> dict[str, str]:
        """Case name -> where, for people."""
        return {case.name: case.where for case in self.seeded}

    def add_case(self, case: SeededCase) -> None:
        self.seeded.append(case)

    def change(self, repository: str, number: int) -> Change:
        return next(c for c in self.changes if c.repository == repository and c.number == number)

    def landed_on(self, case: SeededCase) -> list[Deployment]:
        """The deployments (of this world) a seeded case lands on: every completed sync of its
        revision, or the sync of its application live at its time."""
        done = [d for d in self.deployments if not d.failed]
        if case.at is not None:
            live = [d for d in done if d.app == case.app and d.at <= case.at]
            return live[-1:]
        return [d for d in done if d.revision == case.revision and (not case.app or d.app == case.app)]


SERVICES = [  # (forge, repository, registry repository, changes, build every n-th, environments)
    ("github", "acme/payments", "acme/payments", 80, 6, ("staging", "prod")),
    ("github", "acme/checkout", "acme/checkout", 70, 7, ("staging", "prod")),
    ("github", "acme/web", "acme/web", 60, 8, ("prod",)),
    ("gitlab", "acme/platform/inventory", "acme/inventory", 50, 10, ("prod",)),
]


def build_world(seed: int = SEED) -> World:
    rng = random.Random(seed)  # noqa: S311 -- a reproducible story, not a secret
    world = World(seed)
    _protections(world)
    for forge, repository, registry_repo, count, every, environments in SERVICES:
        changes = _changes(rng, forge, repository, count, lambda at, r=repository: _required(world, r, at))
        world.changes.extend(changes)
        host = FORGE_HOST if forge == "github" else GITLAB_HOST
        service = repository.rsplit("/", 1)[-1]
        for environment in environments:
            app = App(
                f"{service}-{environment}", service, environment, f"{service}-{environment}", f"{host}/{repository}"
            )
            if app.name == "payments-staging":
                app.history_limit = 2
            if forge == "gitlab":
                app.controller, app.history_limit = "flux", 5  # kustomize-controller keeps five
            world.apps.append(app)
        for n, change in enumerate(changes):
            if n % every == every - 1:
                built = change.merged_at + timedelta(minutes=20)
                image = Image(registry_repo, f"1.{n // every}.0", built, change.merge_commit, f"{host}/{repository}")
                world.images.append(image)
    _violations(world, rng)
    _deployments(world)
    from devkit.demo.ancestry_cases import seed_ancestry_cases  # it builds on this module's world

    seed_ancestry_cases(world)
    _delivery_events(world)
    world.changes.sort(key=lambda c: (c.repository, c.number))
    world.images.sort(key=lambda i: (i.built_at, i.repository))
    world.deployments.sort(key=lambda d: (d.at, d.app))
    return world


def _required(world: World, repository: str, at: datetime) -> int:
    """Approvals the repository's protection asks for at `at` (GitLab's approval rule: one)."""
    rules = [p for p in world.protections if p.repository == repository and p.since <= at]
    return int(rules[-1].settings.get("required_approving_review_count", 1)) if rules else 1


def _changes(
    rng: random.Random, forge: str, repository: str, count: int, required: Callable[[datetime], int]
) -> list[Change]:
    span = (END - START - timedelta(days=1)).total_seconds()
    times = sorted(START + timedelta(seconds=int(rng.random() * span)) for _ in range(count))
    changes = []
    for number, merged_at in enumerate(times, start=1):
        author = rng.choice(TEAM)
        commits = [fake_sha(repository, number, i) for i in range(rng.randint(1, 4))]
        merged = merged_at.replace(second=0, microsecond=0)
        # as many approvals as protection asks for at the merge: the world makes no accidental violation
        reviewers = rng.sample([t for t in TEAM if t != author], max(rng.choice((1, 2, 2)), required(merged)))
        approvers = [(r, commits[-1]) for r in reviewers]
        changes.append(
            Change(
                forge,
                repository,
                number,
                author,
                rng.choice(LEADS),
                merged,
                commits,
                approvers,
                fake_sha(repository, number, "merge"),
                f"{rng.choice(VERBS)} {rng.choice(TOPICS)} ({number})",
            )
        )
    return changes


def _protections(world: World) -> None:
    strict = {"required_approving_review_count": 1, "dismiss_stale_reviews": True, "enforce_admins": True}
    world.protections += [
        Protection("acme/payments", START, dict(strict), "one approval, stale approvals dismissed"),
        Protection(
            "acme/payments",
            datetime(2026, 2, 2, 10, tzinfo=UTC),
            {**strict, "dismiss_stale_reviews": False},
            "dismiss stale approvals turned off",
        ),
        Protection("acme/payments", datetime(2026, 2, 9, 10, tzinfo=UTC), dict(strict), "turned back on"),
        Protection("acme/checkout", START, {**strict, "required_approving_review_count": 2}, "two approvals required"),
        Protection("acme/checkout", datetime(2026, 3, 1, 9, tzinfo=UTC), dict(strict), "required approvals 2 -> 1"),
        Protection("acme/web", START, dict(strict), "one approval, stale approvals dismissed"),
    ]


def _violations(world: World, rng: random.Random) -> None:
    payments = [c for c in world.changes if c.repository == "acme/payments"]
    checkout = [c for c in world.changes if c.repository == "acme/checkout"]

    # Stale approval: a payments change merged while dismiss-stale was off, approved before its last push.
    week = [c for c in payments if datetime(2026, 2, 3, tzinfo=UTC) <= c.merged_at < datetime(2026, 2, 9, tzinfo=UTC)]
    stale = week[0]
    stale.commits = [fake_sha(stale.repository, stale.number, i) for i in range(3)]
    stale.approvers = [(stale.approvers[0][0], stale.commits[1])]
    _build(world, stale, "stale")
    world.add_case(
        SeededCase(
            "stale-approval",
            f"{stale.repository}#{stale.number}: approved on {stale.commits[1][:12]}, head {stale.head[:12]}",
            ("stale_approval", "insufficient_approvals"),  # the one approval was not on the merged head
            revision=stale.merge_commit,
        )
    )

    # Author-only approval: the author approved their own change.
    own = checkout[len(checkout) // 3]
    own.approvers = [(own.author, own.head)]
    _build(world, own, "self")
    world.add_case(
        SeededCase(
            "author-approval",
            f"{own.repository}#{own.number}: approved only by its author {own.author}",
            ("self_approved", "protection_bypassed"),  # merged with none of the approvals protection asks
            revision=own.merge_commit,
        )
    )

    # Direct push: a hotfix commit on main with no pull request, built, signed and deployed.
    direct = fake_sha("acme/payments", "direct-push-hotfix")
    world.images.append(
        Image(
            "acme/payments",
            "1.99.0-hotfix",
            datetime(2026, 2, 20, 22, 15, tzinfo=UTC),
            direct,
            f"{FORGE_HOST}/acme/payments",
        )
    )
    world.add_case(
        SeededCase(
            "direct-push",
            f"acme/payments {direct[:12]}: pushed to main without a pull request, deployed to staging and prod",
            ("no_pull_request",),
            revision=direct,
        )
    )

    web = [i for i in world.images if i.repository == "acme/web"]
    web[2].signer = ""
    world.add_case(
        SeededCase("unsigned-image", f"acme/web:{web[2].tag}: no signature", ("image_unsigned",), web[2].commit)
    )
    web[4].provenance_commit = fake_sha("acme/web", "unreviewed-branch")
    world.add_case(
        SeededCase(
            "provenance-mismatch",
            f"acme/web:{web[4].tag}: provenance names {web[4].provenance_commit[:12]}, built from {web[4].commit[:12]}",
            # the image path follows the commit provenance names, which no pull request merged and
            # the protected branch never was at
            ("provenance_commit_mismatch", "no_pull_request", "not_on_protected_branch"),
            web[4].commit,
        )
    )
    check = [i for i in world.images if i.repository == "acme/checkout"]
    check[3].signer = "rogue"
    world.add_case(
        SeededCase(
            "untrusted-key",
            f"acme/checkout:{check[3].tag}: signed by a key the registry source does not trust",
            ("signer_untrusted", "no_provenance"),  # the same key signed its provenance: none verifies
            check[3].commit,
        )
    )

    drift = Image(
        "acme/payments",
        "debug-shell",
        datetime(2026, 3, 27, 16, tzinfo=UTC),
        direct,
        f"{FORGE_HOST}/acme/payments",
        signer="",
    )
    world.drift = (datetime(2026, 3, 27, 16, 30, tzinfo=UTC), drift)
    world.add_case(
        SeededCase(
            "drift",
            "payments-prod: a pod started by hand on 2026-03-27 runs acme/payments:debug-shell, "
            "which no deployment made",
            ("drift",),
            app="payments-prod",
            at=world.drift[0],
        )
    )
    world.add_case(
        SeededCase(
            "evidence-gap",
            f"Argo CD not harvested {ARGO_OUTAGE[0]:%Y-%m-%d} to {ARGO_OUTAGE[1]:%Y-%m-%d}; "
            "payments-staging keeps 2 history items, so syncs rolled over unseen",
            ("evidence_gap",),  # what pods ran meanwhile may come from an unseen sync: a gap, not drift
            app="payments-staging",
            at=ARGO_OUTAGE[0],
        )
    )
    rng.random()  # keep the stream position stable if violations grow


def _build(world: World, change: Change, reason: str) -> None:
    """Make sure the change's merge commit is built (and therefore deployed)."""
    if any(i.commit == change.merge_commit for i in world.images):
        return
    host = FORGE_HOST if change.forge == "github" else GITLAB_HOST
    registry_repo = next(s[2] for s in SERVICES if s[1] == change.repository)
    world.images.append(
        Image(
            registry_repo,
            f"1.{change.number}.1-{reason}",
            change.merged_at + timedelta(minutes=20),
            change.merge_commit,
            f"{host}/{change.repository}",
        )
    )


def _deployments(world: World) -> None:
    """Each image goes to staging an hour after it is built and to prod a day later (prod only
    where there is no staging), automated by Argo CD; then the story's special syncs."""
    apps = {a.name: a for a in world.apps}
    for image in sorted(world.images, key=lambda i: (i.built_at, i.repository)):
        service = image.repository.rsplit("/", 1)[-1]
        stage = f"{service}-staging"
        if stage in apps:
            world.deployments.append(
                Deployment(stage, "staging", image.built_at + timedelta(hours=1), image, image.commit)
            )
        prod_at = image.built_at + timedelta(days=1) if stage in apps else image.built_at + timedelta(hours=2)
        if prod_at < END - timedelta(hours=2):
            world.deployments.append(Deployment(f"{service}-prod", "prod", prod_at, image, image.commit))
    prod = sorted((d for d in world.deployments if d.environment == "prod"), key=lambda d: d.at)

    # Manual sync: someone pressed SYNC on checkout-prod instead of letting automation do it.
    manual = [d for d in prod if d.app == "checkout-prod"][2]
    manual.user = "carol@acme.example"
    where = f"checkout-prod {manual.at:%Y-%m-%d %H:%M}: synced by hand by {manual.user}"
    world.add_case(SeededCase("manual-sync", where, ("manual_sync",), app=manual.app, at=manual.at))

    # Rollback: payments-prod goes back to the previous image two hours after a release.
    pay = [d for d in prod if d.app == "payments-prod" and d.at > datetime(2026, 3, 5, tzinfo=UTC)]
    bad, previous = pay[0], [d for d in prod if d.app == "payments-prod" and d.at < pay[0].at][-1]
    back = Deployment(
        "payments-prod", "prod", bad.at + timedelta(hours=2), previous.image, previous.revision, "oncall@acme.example"
    )
    world.deployments.append(back)
    where = f"payments-prod {back.at:%Y-%m-%d %H:%M}: rolled back to {previous.image.tag} by hand"
    world.add_case(SeededCase("rollback", where, ("manual_sync",), app=back.app, at=back.at))

    # Failed sync: a web-prod sync fails; the previous deployment keeps running.
    web = [d for d in prod if d.app == "web-prod"][3]
    world.deployments.append(
        Deployment(
            "web-prod",
            "prod",
            web.at + timedelta(hours=6),
            web.image,
            fake_sha("acme/web", "broken-manifest"),
            failed=True,
        )
    )


def _delivery_events(world: World) -> None:
    """What DORA needs beside the rollback (not violations): a hotfix and a revert shipped to
    payments-prod soon after a deployment, and an incident. Only titles change and no random number
    is drawn, so nothing else in the world moves."""
    prod = sorted((d for d in world.deployments if d.app == "payments-prod" and not d.failed), key=lambda d: d.at)
    heads = {c.merge_commit: c for c in world.changes}

    def soon_after(after: datetime) -> tuple[Deployment, Deployment, Change]:
        """The first deployment after `after`, of a reviewed change, within 72 h of the one before."""
        return next(
            (a, b, heads[b.image.commit])
            for a, b in pairwise(prod)
            if a.at > after and b.at - a.at < timedelta(hours=72) and b.image.commit in heads
        )

    before, fix, hotfix = soon_after(datetime(2026, 2, 10, tzinfo=UTC))
    hotfix.title = f"Hotfix: {hotfix.title}"
    world.delivery_events["hotfix"] = (
        f"{hotfix.repository}#{hotfix.number} shipped to payments-prod {fix.at:%Y-%m-%d %H:%M}, "
        f"{(fix.at - before.at).total_seconds() / 3600:.0f} h after the deployment it fixes"
    )
    before, undo, revert = soon_after(fix.at)
    reverted = next(c for c in world.changes if (c.repository, c.number) == (revert.repository, revert.number - 1))
    revert.title = f'Revert "{reverted.title}"'
    world.delivery_events["revert"] = (
        f"{revert.repository}#{revert.number} shipped to payments-prod {undo.at:%Y-%m-%d %H:%M}, "
        f"{(undo.at - before.at).total_seconds() / 3600:.0f} h after the deployment before it"
    )
    live = next(d for d in prod if d.at > datetime(2026, 1, 20, tzinfo=UTC))
    started = live.at + timedelta(hours=3)
    world.incidents.append(
        Incident("INC-2026-014", "prod", "payments", started, started + timedelta(minutes=50), "Card payments time out")
    )
    world.delivery_events["incident"] = (
        f"INC-2026-014 in payments (prod) {started:%Y-%m-%d %H:%M}, resolved 50 minutes later"
    )
