"""build_custody: run the rules of `custody.rules` over what `load` read, in chain order.

deployment -> policy -> each image: signature, provenance -> the commit it names -> pull request
-> approvals standing at the merge -> protection in force at the merge; the configuration path:
each commit of the deployed Git revision -> its pull request -> approvals -> protection; then the
pods that ran, how it was synced, and the controller's history.

Each link is judged by the environment's policy version in force when the deployment happened
(`policy.version` entries), or by the baseline where none was recorded. A failed or unfinished
sync is an attempt: its chain is shown, but it raises no finding and gets the verdict `attempt`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evidence.compliance.custody.chain import SATISFIED, Custody, Link
from evidence.compliance.custody.load import (
    Loaded,
    deployed_at,
    load,
    load_acceptances,
    load_changes,
    load_policies,
    revision_shas,
    running_snapshots,
)
from evidence.compliance.custody.rules import RULES
from evidence.compliance.custody.rules.base import Case, Rule
from evidence.compliance.custody.verdict import decide
from evidence.compliance.findings.policy import BASELINE, PolicyRules
from evidence.readmodels.models import Deployment, PullRequest

ATTEMPT_OUTCOMES = ("failed", "in_progress")  # the sync did not (yet) change what runs


def build_custody(deployment: Deployment) -> Custody:
    """The chain of custody of one deployment, with its findings (constant number of queries)."""
    return build_many([deployment])[0]


def build_many(deployments: list[Deployment]) -> list[Custody]:
    loaded = load(deployments)
    chains = [Context(d, loaded).build() for d in deployments]
    _finish(chains)
    return chains


def build_changes(pulls: list[PullRequest], environment: str = "") -> dict[int, Custody]:
    """The review part of the chain for merged pull requests (approvals standing at the merge,
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
        ctx = Context(stand_in, loaded)
        ctx.add(
            Link("pull request", SATISFIED, f"{pull}: {pull.title}", [pull.entry_seq], pull.url, str(pull)),
            rule="pull_request",
            path="change",
        )
        case = Case(path="change", sha=stand_in.revision, about=str(pull), pull=pull)
        for rule in RULES:
            if rule.scope == "change" and rule.name not in ("commit", "pull_request"):
                ctx.run(rule, case)
        ctx.custody.judge(ctx.explanations)
        out[pull.id] = ctx.custody
    _finish(list(out.values()))
    return out


def _finish(chains: list[Custody]) -> None:
    accepted = load_acceptances([f.key for c in chains for f in c.findings])
    for chain in chains:
        for finding in chain.findings:
            rows = accepted.get(finding.key)
            if rows:
                latest = rows[-1]  # the latest approved acceptance stands (an extension or a shortening)
                finding.accepted_until = latest.until
                finding.accepted_by = latest.accepted_by
                finding.acceptance_approved_by = latest.approved_by
                finding.acceptance_reason = latest.reason
                finding.acceptance_seq = latest.entry_seq
                finding.acceptance_approval_seq = latest.approval_seq
        chain.verdict, chain.verdict_reason = decide(chain.findings, chain.outcome, chain.attempt)


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
        approval_seq=p.approval_seq,
    )


class Context:
    """One deployment being judged: what was loaded, the policy in force, the chain so far."""

    def __init__(self, deployment: Deployment, loaded: Loaded) -> None:
        self.d = deployment
        self.loaded = loaded
        self.at = deployed_at(deployment)
        self.started = deployment.started_at  # evidence must be recorded by then to vouch for it
        self.policy = policy_at(loaded, deployment.environment, self.at)
        self.explanations: dict[tuple[str, str], str] = {}
        self.revision_shas = revision_shas(deployment.revision)
        self.custody = Custody(
            deployment_id=deployment.id,
            identity=deployment.identity,
            environment=deployment.environment,
            application=deployment.application,
            revision=deployment.revision,
            deployed_at=self.at,
            policy=self.policy.as_json(),
            deployment_seqs=sorted(deployment.entry_seqs),
            outcome=deployment.outcome,
            attempt=deployment.outcome in ATTEMPT_OUTCOMES,
        )
        self._rule = ""
        self._path = "deployment"
        self.cases: list[Case] = []  # every commit traced, for the rules run after (who deployed what)

    def add(self, link: Link, rule: str = "", path: str = "") -> Link:
        link.rule = link.rule or rule or self._rule
        link.path = link.path or path or self._path
        return self.custody.add(link)

    def explain(self, code: str, subject: str, text: str) -> None:
        """The finding's explanation, when it should say more than the link that raises it."""
        self.explanations[(code, subject)] = text

    def run(self, rule: Rule, case: Case) -> None:
        self._rule, self._path = rule.name, case.path
        rule.check(self, case)

    def build(self) -> Custody:
        scoped: dict[str, list[Rule]] = {}
        for rule in RULES:
            scoped.setdefault(rule.scope, []).append(rule)
        deployment = Case()
        for rule in scoped.get("deployment", []):
            self.run(rule, deployment)
        for digest, row in self.digests():
            case = Case(path="image", digest=digest, image_row=row, about=digest)
            for rule in scoped.get("image", []):
                self.run(rule, case)
            self.change(scoped, case)
        for sha in self.revision_shas:
            self.change(scoped, Case(path="config", sha=sha, about=sha))
        for rule in scoped.get("after", []):
            self.run(rule, deployment)
        self.custody.judge(self.explanations)
        return self.custody

    def change(self, scoped: dict[str, list[Rule]], case: Case) -> None:
        if not case.sha:
            return
        for rule in scoped.get("change", []):
            self.run(rule, case)
        self.cases.append(case)

    def digests(self) -> list[tuple[str, Any]]:
        """Each image digest deployed, with its DeploymentImage row; where the controller named none,
        the digests pods ran while this deployment was the latest (rows None: see `pod_digests`)."""
        rows = {i.digest: i for i in self.loaded.images.get(self.d.id, [])}
        named = sorted(set(rows) | set(self.d.image_digests))
        if named or self.custody.attempt:
            return [(digest, rows.get(digest)) for digest in named]
        return [(digest, None) for digest in sorted(self.pod_digests())]

    def pod_digests(self) -> dict[str, Any]:
        """Digest -> the pods snapshot that showed it: the first one after the deployment finished
        (what it rolled out; later snapshots may show drift, which the running rule judges)."""
        snapshots = self.running_snapshots()
        return {digest: snapshots[0] for digest in snapshots[0].digests} if snapshots else {}

    def running_snapshots(self) -> list[Any]:
        """Pods observed from the deployment's finish until the next deployment of the application."""
        return running_snapshots(self.loaded, self.d)
