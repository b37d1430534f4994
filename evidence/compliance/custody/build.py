"""build_custody: deployment -> images -> signatures, provenance -> commit -> pull request ->
approvals on the merged head -> protection in force at merge; and the configuration path:
the deployed Git revision -> its pull request -> approvals -> protection.

Each link is judged by the environment's policy version in force when the deployment happened
(`policy.version` entries), or by the baseline where none was recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import Any

from evidence.compliance.custody.chain import FAILING, MISSING, PRESENT, Custody, Link
from evidence.compliance.custody.load import (
    Loaded,
    deployed_at,
    load,
    load_acceptances,
    load_changes,
    load_policies,
    revision_shas,
)
from evidence.compliance.findings.policy import BASELINE, PolicyRules
from evidence.readmodels.models import Approval, Deployment, ProtectionSnapshot, Provenance, PullRequest
from evidence.readmodels.models.forge import ProtectionAt
from evidence.sources import kinds

UNKNOWN = "unknown"


def build_custody(deployment: Deployment) -> Custody:
    """The chain of custody of one deployment, with its findings (constant number of queries)."""
    return build_many([deployment])[0]


def build_many(deployments: list[Deployment]) -> list[Custody]:
    loaded = load(deployments)
    chains = [_Builder(d, loaded).build() for d in deployments]
    accepted = load_acceptances([f.key for c in chains for f in c.findings])
    for chain in chains:
        _apply_acceptances(chain, accepted)
    return chains


def build_changes(pulls: list[PullRequest], environment: str = "") -> dict[int, Custody]:
    """The review part of the chain for merged pull requests (approvals on the merged head,
    protection in force at merge, bypasses), judged by `environment`'s policy at each merge time
    (the baseline when none is given): the repository-over-period view. Constant queries."""
    loaded = Loaded()
    load_changes(loaded, pulls)
    if environment:
        load_policies(loaded, [environment])
    out: dict[int, Custody] = {}
    for pull in pulls:
        at = pull.merged_at or datetime.min.replace(tzinfo=UTC)
        stand_in = Deployment(
            id=None,
            identity=f"change:{pull}",
            environment=environment,
            application=pull.repository,
            subject=str(pull),
            revision=pull.merge_commit_sha or pull.squash_commit_sha,
            started_at=at,
            finished_at=at,
            controller="forge",
            outcome="succeeded",
            entry_seqs=[pull.entry_seq],
        )
        builder = _Builder(stand_in, loaded)
        builder.section = "change"
        builder.add(Link("pull request", PRESENT, f"{pull}: {pull.title}", [pull.entry_seq], pull.url, str(pull)))
        counted = builder.approvals(pull, "", "change")
        builder.protection(pull, "", "change", counted)
        builder.custody.judge(builder.explanations)
        out[pull.id] = builder.custody
    accepted = load_acceptances([f.key for c in out.values() for f in c.findings])
    for chain in out.values():
        _apply_acceptances(chain, accepted)
    return out


def _apply_acceptances(chain: Custody, accepted: dict[str, list[Any]]) -> None:
    for finding in chain.findings:
        rows = accepted.get(finding.key)
        if rows:
            latest = rows[-1]  # the latest acceptance stands (an extension or a shortening)
            finding.accepted_until = latest.until
            finding.accepted_by = latest.accepted_by
            finding.acceptance_reason = latest.reason
            finding.acceptance_seq = latest.entry_seq


def policy_at(loaded: Loaded, environment: str, at: datetime) -> PolicyRules:
    versions = [p for p in loaded.policies.get(environment, []) if p.effective_at <= at]
    if not versions:
        return BASELINE
    p = versions[-1]
    return PolicyRules(
        min_approvals=p.min_approvals,
        require_signature=p.require_signature,
        trusted_signers=list(p.trusted_signers),
        require_provenance=p.require_provenance,
        trusted_builders=list(p.trusted_builders),
        protection=dict(p.protection),
        environment=p.environment,
        version=p.version,
        entry_seq=p.entry_seq,
    )


def _trusted(name: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatch(name, pattern) for pattern in patterns)


def _commit_url(sha: str, pull: PullRequest | None, source_repo: str = "") -> str:
    url = kinds.commit_url_of_change(pull.forge, pull.url, sha) if pull is not None and pull.url else ""
    repo = source_repo.removeprefix("git+").removesuffix(".git")
    if not url and repo.startswith("https://"):
        url = kinds.commit_url_of_repository(repo, sha)
    return url


class _Builder:
    def __init__(self, deployment: Deployment, loaded: Loaded) -> None:
        self.d = deployment
        self.loaded = loaded
        self.at = deployed_at(deployment)
        self.policy = policy_at(loaded, deployment.environment, self.at)
        self.explanations: dict[tuple[str, str], str] = {}
        self.stale: dict[int, list[Approval]] = {}  # per pull request: approvals on an older head
        self.section = "deployment"  # which part of the chain links are added to
        self.custody = Custody(
            deployment_id=deployment.id,
            identity=deployment.identity,
            environment=deployment.environment,
            application=deployment.application,
            revision=deployment.revision,
            deployed_at=self.at,
            policy=self.policy.as_json(),
            deployment_seqs=sorted(deployment.entry_seqs),
        )

    def add(self, link: Link) -> Link:
        link.path = link.path or self.section
        return self.custody.add(link)

    def build(self) -> Custody:
        d, c = self.d, self.custody
        self.add(
            Link(
                "deployment",
                PRESENT,
                f"{d.controller} deployed {d.application} to {d.environment} at {self.at:%Y-%m-%d %H:%M} UTC "
                f"({d.outcome}).",
                list(d.entry_seqs),
                subject=d.subject,
            )
        )
        if self.policy.entry_seq is not None:
            self.add(
                Link(
                    "policy",
                    PRESENT,
                    f"Judged by {d.environment} policy version {self.policy.version}, in force at the deployment.",
                    [self.policy.entry_seq],
                    subject=f"policy:{d.environment}",
                )
            )
        else:
            self.add(
                Link(
                    "policy",
                    MISSING,
                    f"No policy was recorded for {d.environment} by then; judged by the baseline (one approval by "
                    "someone other than the author, signed images, verified provenance, protection on).",
                    subject=f"policy:{d.environment}",
                )
            )
        self.section = "image"
        self.images()
        self.section = "config"
        self.config_path()
        self.section = "deployment"
        self.running()
        self.sync()
        self.history()
        c.judge(self.explanations)
        return c

    # --- image path -------------------------------------------------------------------------
    def images(self) -> None:
        rows = {i.digest: i for i in self.loaded.images.get(self.d.id, [])}
        digests = sorted(set(rows) | set(self.d.image_digests))
        if not digests:
            self.add(
                Link(
                    "image",
                    MISSING,
                    "No image digest is known for this deployment: the controller named none and no pods were seen.",
                    list(self.d.entry_seqs),
                    subject=self.d.subject,
                    codes=["evidence_gap"],
                )
            )
            return
        for digest in digests:
            self.image(digest, rows.get(digest))

    def image(self, digest: str, row: Any) -> None:
        artifacts = self.loaded.artifacts.get(digest, [])
        seqs = [row.entry_seq] if row else list(self.d.entry_seqs)
        seqs += [a.entry_seq for a in artifacts]
        url = ""
        name = row.image if row else digest
        if artifacts:
            a = artifacts[-1]
            name = f"{a.registry}/{a.repository}@{digest}"
            url = f"https://{a.registry}/v2/{a.repository}/manifests/{digest}"
        seen = "seen in its registry" if artifacts else "not yet seen by a registry harvest"
        self.add(Link("image", PRESENT, f"Deployed {name} ({seen}).", seqs, url, digest))
        self.signature(digest)
        commit, pull_repo_check = self.provenance(digest)
        self.change_chain(commit, digest, "image", pull_repo_check)

    def signature(self, digest: str) -> None:
        rows = self.loaded.signatures.get(digest, [])
        seqs = [r.entry_seq for r in rows]
        patterns = self.policy.trusted_signers
        good = [r for r in rows if r.verdict == "verified" and _trusted(r.signer, patterns)]
        verified_elsewhere = [r for r in rows if r.verdict == "verified" and r not in good]
        untrusted = [r for r in rows if r.verdict == "untrusted_signer"] + verified_elsewhere
        invalid = [r for r in rows if r.verdict in ("invalid_signature", "digest_mismatch")]
        failed = [r for r in rows if r.verdict == "fetch_failed"]
        if good:
            signers = ", ".join(sorted({r.signer for r in good}))
            link = Link("signature", PRESENT, f"Signature verified, signed by {signers}.", seqs, subject=digest)
        elif untrusted:
            signers = ", ".join(sorted({r.signer or "an unnamed signer" for r in untrusted}))
            link = Link(
                "signature",
                FAILING,
                f"Signed by {signers}, which the policy does not trust.",
                seqs,
                subject=digest,
                codes=["signer_untrusted"],
            )
        elif invalid:
            reasons = "; ".join(sorted({r.reason or r.verdict for r in invalid}))
            link = Link(
                "signature",
                FAILING,
                f"A signature is attached but does not verify: {reasons}.",
                seqs,
                subject=digest,
                codes=["signature_invalid"],
            )
        elif failed and not [r for r in rows if r.verdict == "no_signature"]:
            link = Link(
                "signature",
                MISSING,
                "The registry could not be read for signatures, so whether the image is signed is unknown.",
                seqs,
                subject=digest,
                codes=["evidence_gap"],
            )
        else:
            why = "No signature was found" if rows else "No signature check was recorded"
            required = self.policy.require_signature
            link = Link(
                "signature",
                MISSING,
                f"{why} for this digest{'; the policy requires one' if required else ''}.",
                seqs,
                subject=digest,
                codes=["image_unsigned"] if required else [],
            )
        self.add(link)

    def provenance(self, digest: str) -> tuple[str, Provenance | None]:
        rows = self.loaded.provenance.get(digest, [])
        verified = [r for r in rows if r.verdict == "verified"]
        seqs = [r.entry_seq for r in rows]
        if not verified:
            why = "No provenance statement was recorded" if not rows else "No provenance statement verifies"
            required = self.policy.require_provenance
            self.add(
                Link(
                    "provenance",
                    MISSING,
                    f"{why} for this digest, so which commit and builder produced it is not proven.",
                    seqs,
                    subject=digest,
                    codes=["no_provenance"] if required else [],
                )
            )
            return "", None
        chosen = verified[-1]
        commits = sorted({r.source_commit.lower() for r in verified if r.source_commit})
        codes, problems = [], []
        if len(commits) > 1:
            codes.append("provenance_commit_mismatch")
            problems.append(f"statements name different commits ({', '.join(c[:12] for c in commits)})")
        if not _trusted(chosen.builder_id, self.policy.trusted_builders):
            codes.append("builder_untrusted")
            problems.append(f"builder {chosen.builder_id or '(unnamed)'} is not trusted by the policy")
        text = (
            f"Built by {chosen.builder_id or '(unnamed builder)'} from {chosen.source_repo or '(unnamed repository)'}"
        )
        text += f" at {chosen.source_commit[:12] or '(no commit)'}"
        text += "." if not problems else ": " + "; ".join(problems) + "."
        link = Link("provenance", FAILING if codes else PRESENT, text, seqs, subject=digest, codes=codes)
        link.repository = chosen.source_repo
        self.add(link)
        return (commits[0] if len(commits) == 1 else chosen.source_commit.lower()), chosen

    # --- commit -> pull request -> approvals -> protection --------------------------------
    def change_chain(self, sha: str, about: str, path: str, provenance: Provenance | None = None) -> None:
        prefix = "" if path == "image" else "config "
        if not sha:
            self.add(
                Link(
                    f"{prefix}commit",
                    MISSING,
                    "No source commit is known (no verified provenance), so no pull request can be traced.",
                    subject=about,
                    path=path,
                )
            )
            self.add(
                Link(
                    f"{prefix}pull request",
                    MISSING,
                    f"The change behind {about[:19]} cannot be traced to a reviewed pull request.",
                    subject=about,
                    path=path,
                    codes=["no_pull_request"],
                )
            )
            return
        pulls = self.loaded.pulls_by_sha.get(sha, [])
        exact = [p for p in pulls if sha in (p.merge_commit_sha, p.squash_commit_sha)]
        pull = (exact or pulls or [None])[-1]
        seqs = [provenance.entry_seq] if provenance else list(self.d.entry_seqs)
        self.add(
            Link(
                f"{prefix}commit",
                PRESENT,
                f"Commit {sha[:12]}" + (f" of {provenance.source_repo}." if provenance else " deployed from Git."),
                seqs,
                _commit_url(sha, pull, provenance.source_repo if provenance else ""),
                sha,
                path,
            )
        )
        if pull is None:
            self.add(
                Link(
                    f"{prefix}pull request",
                    MISSING,
                    f"No merged pull request contains commit {sha[:12]}: a direct push, or a change the forge "
                    "harvest never saw.",
                    seqs,
                    subject=sha,
                    path=path,
                    codes=["no_pull_request"],
                )
            )
            return
        how = "merged as" if pull in exact else "contains"
        text = f"{pull} by {pull.author or 'unknown'} {how} {sha[:12]}, merged into {pull.base}"
        text += f" at {pull.merged_at:%Y-%m-%d %H:%M} UTC by {pull.merged_by or 'unknown'}." if pull.merged_at else "."
        link = Link(f"{prefix}pull request", PRESENT, text, [pull.entry_seq], pull.url, str(pull), path)
        link.repository = pull.repository
        if provenance is not None and provenance.source_repo:
            repo = provenance.source_repo.lower().removesuffix(".git").rstrip("/")
            if not repo.endswith(pull.repository.lower()):
                link.status = FAILING
                link.codes.append("provenance_commit_mismatch")
                link.explanation += f" Provenance names repository {provenance.source_repo}, not {pull.repository}."
                link.entry_seqs.append(provenance.entry_seq)
        self.add(link)
        counted = self.approvals(pull, prefix, path)
        self.protection(pull, prefix, path, counted)

    def approvals(self, pull: PullRequest, prefix: str, path: str) -> list[Approval]:
        rows = [a for a in self.loaded.approvals.get(pull.id, []) if a.state in ("APPROVED", "DISMISSED", "REVOKED")]
        counted: list[Approval] = []
        stale: list[Approval] = []
        own: list[Approval] = []
        subject = str(pull)
        for a in rows:
            seqs = [a.entry_seq] + ([a.dismissal_seq] if a.dismissal_seq else [])
            when = f" at {a.submitted_at:%Y-%m-%d %H:%M}" if a.submitted_at else ""
            on = a.commit_id[:12] if a.commit_id and a.commit_id != UNKNOWN else "an unstated commit"
            base = f"{a.reviewer or 'unknown'} approved{when} on {on}"
            link = Link(f"{prefix}approval", PRESENT, base + ".", seqs, pull.url, subject, path)
            link.repository = pull.repository
            if a.dismissed or a.state != "APPROVED":
                link.status, link.explanation = FAILING, f"{base}; dismissed or revoked, so it does not count."
            elif a.reviewer and a.reviewer == pull.author:
                link.status, link.explanation = FAILING, f"{base}; the reviewer is the author, so it does not count."
                own.append(a)
            elif pull.merged_at and a.submitted_at and a.submitted_at > pull.merged_at:
                link.status, link.explanation = FAILING, f"{base}; given after the merge, so it does not count."
            elif a.commit_id and a.commit_id != UNKNOWN and pull.head_sha and a.commit_id != pull.head_sha:
                link.status = FAILING
                link.explanation = f"{base}; stale: the merged head is {pull.head_sha[:12]}, commits came after it."
                link.codes.append("stale_approval")
                stale.append(a)
                self.stale.setdefault(pull.id, []).append(a)
            else:
                counted.append(a)
            self.add(link)
        if stale:
            names = ", ".join(sorted({a.reviewer for a in stale}))
            self.explanations[("stale_approval", subject)] = (
                f"{subject}: approval by {names} was given on an older head; commits were pushed after it and it was "
                f"not given again on the merged head {pull.head_sha[:12]}."
            )
        need = self.policy.min_approvals
        people = sorted({a.reviewer for a in counted})
        seqs = [a.entry_seq for a in rows] + [pull.entry_seq]
        if len(people) >= need:
            text = f"{len(people)} approval(s) on the merged head by people other than the author ({', '.join(people)})"
            self.add(
                Link(
                    f"{prefix}approvals",
                    PRESENT,
                    text + f"; the policy asks for {need}.",
                    seqs,
                    pull.url,
                    subject,
                    path,
                )
            )
        else:
            code = (
                "self_approved"
                if own and not [a for a in rows if a.reviewer != pull.author]
                else "insufficient_approvals"
            )
            text = (
                f"{subject} was merged with {len(people)} valid approval(s) on its merged head; the policy in force "
                f"asks for {need} by someone other than the author."
            )
            if code == "self_approved":
                text = f"{subject} was approved only by its author {pull.author}; no one else approved it."
            link = Link(f"{prefix}approvals", FAILING, text, seqs, pull.url, subject, path, [code], pull.repository)
            self.add(link)
        return counted

    def protection(self, pull: PullRequest, prefix: str, path: str, counted: list[Approval]) -> None:
        key = (pull.forge, pull.repository, pull.base)
        at = pull.merged_at
        subject = f"{pull.repository}@{pull.base}"
        if at is None:
            self.add(
                Link(
                    f"{prefix}protection",
                    MISSING,
                    "The merge time is unknown.",
                    [pull.entry_seq],
                    subject=subject,
                    path=path,
                )
            )
            return
        snapshots = [s for s in self.loaded.snapshots.get(key, []) if s.observed_at <= at]
        observations = self.loaded.observations.get(key, [])
        before = [o for o in observations if o.observed_at <= at]
        after = [o for o in observations if o.observed_at >= at]
        state = ProtectionAt(
            snapshots[-1] if snapshots else None, before[-1] if before else None, after[0] if after else None
        )
        snapshot: ProtectionSnapshot | None = state.snapshot
        seqs = state.entry_seqs
        mk = lambda status, text, codes=(): Link(  # noqa: E731
            f"{prefix}protection",
            status,
            text,
            seqs,
            subject=subject,
            path=path,
            codes=list(codes),
            repository=pull.repository,
        )
        if snapshot is None:
            self.add(
                mk(
                    MISSING,
                    f"No protection of {pull.base} was recorded at or before the merge of {pull}.",
                    ["evidence_gap"],
                )
            )
            return
        settings = snapshot.settings if isinstance(snapshot.settings, dict) else {}
        protected = settings.get("protected", UNKNOWN) if settings else UNKNOWN
        since = f"recorded {snapshot.observed_at:%Y-%m-%d %H:%M} UTC"
        if protected == UNKNOWN:
            self.add(mk(MISSING, f"Protection of {pull.base} could not be read ({since}): unknown.", ["evidence_gap"]))
        elif protected is False:
            self.add(
                mk(FAILING, f"{pull.base} was not protected when {pull} was merged ({since}).", ["protection_off"])
            )
        else:
            weaker, unknown = [], []
            for name, wanted in sorted(self.policy.protection.items()):
                actual = settings.get(name, UNKNOWN)
                if actual == UNKNOWN:
                    unknown.append(name)
                elif isinstance(wanted, bool) and wanted and actual is not True:
                    weaker.append(f"{name} is {actual}, policy wants {wanted}")
                elif (
                    isinstance(wanted, int)
                    and not isinstance(wanted, bool)
                    and isinstance(actual, int)
                    and actual < wanted
                ):
                    weaker.append(f"{name} is {actual}, policy wants at least {wanted}")
            text = f"{pull.base} protected when {pull} was merged ({since})"
            if unknown:
                text += f"; could not read {', '.join(unknown)}"
            if weaker:
                self.add(
                    mk(
                        FAILING,
                        text + ": weaker than policy: " + "; ".join(weaker) + ".",
                        ["protection_weaker_than_policy"],
                    )
                )
            else:
                self.add(mk(PRESENT, text + ", meeting the policy."))
        self.bypass(pull, settings, counted, prefix, path, subject)
        if not state.backed:
            if state.seen_before is None or state.seen_after is None:
                side = "before" if state.seen_before is None else "after"
                text = f"No harvest looked at {pull.base}'s protection {side} the merge of {pull} (within 30 days)."
            else:
                seen = f"{state.seen_before.observed_at:%Y-%m-%d %H:%M}, {state.seen_after.observed_at:%Y-%m-%d %H:%M}"
                text = (
                    f"The protection seen either side of the merge ({seen}) differs from the settings recorded; "
                    "what was in force at the merge itself was not observed."
                )
            self.add(
                Link(
                    f"{prefix}protection observed",
                    MISSING,
                    text,
                    seqs,
                    subject=subject,
                    path=path,
                    codes=["evidence_gap"],
                    repository=pull.repository,
                )
            )

    def bypass(
        self, pull: PullRequest, settings: dict[str, Any], counted: list[Approval], prefix: str, path: str, subject: str
    ) -> None:
        suites = []
        for sha in {pull.merge_commit_sha, pull.squash_commit_sha, pull.head_sha} - {""}:
            suites += self.loaded.bypasses.get((pull.repository, sha), [])
        required = settings.get("required_approvals")
        # Without dismiss-stale, the forge itself counts approvals on older heads: no bypass there.
        also = self.stale.get(pull.id, []) if settings.get("dismiss_stale_reviews") is False else []
        reviewers = {a.reviewer for a in [*counted, *also]}
        short = isinstance(required, int) and not isinstance(required, bool) and len(reviewers) < required
        if suites:
            actors = ", ".join(sorted({str(s.get("actor_name") or "someone") for _, s in suites}))
            text = f"{actors} bypassed the rules on {pull.base} to merge {pull} (rule suite result: bypass)."
            seqs = [seq for seq, _ in suites] + [pull.entry_seq]
        elif short:
            text = (
                f"{pull} was merged with {len(reviewers)} approval(s) on its merged head while protection required "
                f"{required}: an administrator or bypass actor merged past it."
            )
            seqs = [pull.entry_seq] + [a.entry_seq for a in counted]
        else:
            return
        self.add(
            Link(
                f"{prefix}protection bypass",
                FAILING,
                text,
                seqs,
                pull.url,
                subject,
                path,
                ["protection_bypassed"],
                pull.repository,
            )
        )

    # --- configuration path and the deployment itself ---------------------------------------
    def config_path(self) -> None:
        shas = revision_shas(self.d.revision)
        if not shas:
            self.add(
                Link(
                    "config revision",
                    MISSING,
                    f"The deployment names no Git commit (revision {self.d.revision or 'empty'!r}).",
                    list(self.d.entry_seqs),
                    subject=self.d.subject,
                    path="config",
                )
            )
            return
        for sha in shas:
            self.change_chain(sha, sha, "config")

    def running(self) -> None:
        if self.d.finished_at is None or self.d.outcome in ("failed", "in_progress"):
            return
        key = (self.d.environment, self.d.application)
        later = [t for t in self.loaded.live_times.get(key, []) if t > self.d.finished_at]
        until = later[0] if later else None
        snaps = [
            s
            for s in self.loaded.workloads.get(key, [])
            if s.observed_at >= self.d.finished_at and (until is None or s.observed_at < until)
        ]
        subject = f"{self.d.environment}/{self.d.application}"
        if not snaps:
            self.add(
                Link("running", MISSING, "No pods were observed while this deployment was the latest.", subject=subject)
            )
            return
        deployed = set(self.d.image_digests)
        strays = [s for s in snaps if deployed and set(s.digests) - deployed]
        if strays:
            extra = sorted({x for s in strays for x in s.digests} - deployed)
            text = (
                f"Pods ran {', '.join(x[:19] for x in extra)} at {strays[0].observed_at:%Y-%m-%d %H:%M} UTC, "
                "which no recorded deployment produced here."
            )
            self.add(
                Link(
                    "running",
                    FAILING,
                    text,
                    [s.entry_seq for s in strays] + list(self.d.entry_seqs),
                    subject=subject,
                    codes=["drift"],
                )
            )
        else:
            self.add(
                Link(
                    "running",
                    PRESENT,
                    f"Pods ran the deployed digests ({len(snaps)} observation(s)).",
                    [s.entry_seq for s in snaps],
                    subject=subject,
                )
            )

    def sync(self) -> None:
        if self.d.automated is False:
            text = (
                f"Synced by hand by {self.d.initiated_by or 'someone'}, not by the controller following Git "
                "on its own; the reviewed revision alone did not decide what ran."
            )
            self.add(
                Link("sync", FAILING, text, list(self.d.entry_seqs), subject=self.d.subject, codes=["manual_sync"])
            )
        elif self.d.automated:
            self.add(
                Link("sync", PRESENT, "Synced automatically from Git.", list(self.d.entry_seqs), subject=self.d.subject)
            )

    def history(self) -> None:
        for gap in self.loaded.gaps.get((self.d.environment, self.d.application), []):
            if gap.after and gap.after > self.at:
                continue
            if gap.before and gap.before < self.at:
                continue
            text = (
                f"The controller's history rolled over unseen around this deployment ({len(gap.missing)} item(s) "
                "never observed), so deployments may be missing from the record."
            )
            self.add(
                Link(
                    "history",
                    MISSING,
                    text,
                    [gap.entry_seq],
                    subject=f"{self.d.environment}/{self.d.application}",
                    codes=["evidence_gap"],
                )
            )
