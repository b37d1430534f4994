"""The release gate: may this digest (or Git revision) go to this environment now?

The answer is the chain of custody a deployment of it would get now, under the environment's
policy in force now: the policy, each image's signature and provenance, the commit they name,
its pull request, approvals and protection (the configuration path for a revision). `allow`
only when every link is satisfied by evidence recorded by now; any link violated or not
evidenced is a reason to `deny`, with the entries behind it. A digest no registry harvest,
signature or provenance has ever mentioned is denied as never seen. Links about a deployment's
aftermath (pods, how it was synced, controller history) are not judged: nothing has run yet.

Every decision is itself a ledger entry (`gate.decision`): who asked, what, the answer, the
reasons and the entries they cite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from evidence.compliance.custody.build import Context
from evidence.compliance.custody.chain import SATISFIED, Link
from evidence.compliance.custody.load import load, revision_shas
from evidence.compliance.custody.rules import RULES
from evidence.compliance.custody.rules.base import Case
from evidence.core.digests import sha256_hex
from evidence.readmodels.models import Deployment
from evidence.sources.oci.reference import DIGEST
from ledger.append import append_entry
from ledger.envelope import Record

ALLOW, DENY = "allow", "deny"
JUDGED_SCOPES = ("deployment", "image", "change")  # "after": pods, sync, history — nothing ran yet
SKIPPED_RULES = ("deployment",)  # states a deployment that has not happened


class GateError(ValueError):
    """A question the gate cannot take (the view answers 400 with it)."""


@dataclass
class GateDecision:
    environment: str
    digest: str
    revision: str
    asked_by: str
    at: datetime
    answer: str
    reasons: list[dict[str, Any]]
    links: list[dict[str, Any]]
    policy: dict[str, Any]
    seq: int | None = None  # the gate.decision entry
    entry_seqs: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "environment": self.environment,
            "digest": self.digest or None,
            "revision": self.revision or None,
            "asked_by": self.asked_by,
            "at": self.at.isoformat(),
            "policy": self.policy,
            "reasons": self.reasons,
            "links": self.links,
            "entry_seqs": self.entry_seqs,
            "decision_seq": self.seq,
        }


def decide_release(
    environment: str, digest: str = "", revision: str = "", asked_by: str = "", now: datetime | None = None
) -> GateDecision:
    """Judge the release now and record the decision in the ledger."""
    decision = judge_release(environment, digest, revision, asked_by, now)
    decision.seq = _record(decision)
    return decision


def judge_release(
    environment: str, digest: str = "", revision: str = "", asked_by: str = "", now: datetime | None = None
) -> GateDecision:
    """The decision without recording it (for benchmarks and previews)."""
    if not environment:
        raise GateError("'environment' is required")
    if len(environment) > 100 or not environment.isprintable():
        raise GateError("'environment' must be printable text of at most 100 characters")
    if not digest and not revision:
        raise GateError("give 'digest' (sha256:<64 hex>) or 'revision' (a commit SHA)")
    if digest and not DIGEST.fullmatch(digest):
        raise GateError("'digest' must be sha256:<64 lower-case hex>")
    if revision and revision_shas(revision) != [revision.lower()]:
        raise GateError("'revision' must be a full commit SHA (40 or 64 hex digits)")
    at = now or datetime.now(UTC)
    stand_in = Deployment(
        id=None,
        identity=f"gate:{environment}:{digest or revision}",
        controller="gate",
        environment=environment,
        application="",
        subject=f"gate:{environment}",
        revision=revision,
        image_digests=[digest] if digest else [],
        started_at=at,
        finished_at=at,
        outcome="succeeded",
        automated=None,
        entry_seqs=[],
    )
    loaded = load([stand_in])
    ctx = Context(stand_in, loaded)
    scoped: dict[str, list[Any]] = {}
    for rule in RULES:
        if rule.scope in JUDGED_SCOPES and rule.name not in SKIPPED_RULES:
            scoped.setdefault(rule.scope, []).append(rule)
    for rule in scoped.get("deployment", []):
        ctx.run(rule, Case())
    if digest:
        case = Case(path="image", digest=digest, about=digest)
        for rule in scoped.get("image", []):
            ctx.run(rule, case)
        ctx.change(scoped, case)
        if not (loaded.artifacts.get(digest) or loaded.signatures.get(digest) or loaded.provenance.get(digest)):
            ctx.add(
                Link(
                    "image",
                    "not_evidenced",
                    f"{digest} was never seen: no registry harvest, signature or provenance names it.",
                    [],
                    subject=digest,
                    reason="not_looked",
                ),
                rule="gate",
                path="image",
            )
    for sha in ctx.revision_shas:
        ctx.change(scoped, Case(path="config", sha=sha, about=sha))
    ctx.custody.judge(ctx.explanations)
    links = [link.as_json() for link in ctx.custody.links]
    reasons = [link for link in links if link["status"] != SATISFIED]
    return GateDecision(
        environment=environment,
        digest=digest,
        revision=revision,
        asked_by=asked_by,
        at=at,
        answer=DENY if reasons else ALLOW,
        reasons=reasons,
        links=links,
        policy=ctx.custody.policy,
        entry_seqs=ctx.custody.entry_seqs,
    )


def _record(decision: GateDecision) -> int | None:
    """Append the decision; its seq (None while a Celery sequencer has not yet run: the entry is queued)."""
    asked = decision.digest or decision.revision
    data = {
        "asked_by": decision.asked_by,
        "environment": decision.environment,
        "digest": decision.digest or None,
        "revision": decision.revision or None,
        "answer": decision.answer,
        "asked_at": decision.at.isoformat(),
        "policy_version": decision.policy.get("version"),
        "reasons": [
            {k: r[k] for k in ("rule", "subject", "status", "reason", "findings", "entry_seqs")}
            for r in decision.reasons
        ],
        "entry_seqs": decision.entry_seqs,
    }
    # One decision per question and moment: the same ask at another time is another decision.
    identity = sha256_hex(f"{decision.asked_by}\n{decision.environment}\n{asked}\n{decision.at.isoformat()}".encode())
    record = Record(
        "gate.decision",
        "gate",
        f"gate:{decision.environment}:{asked}",
        f"gate:decision:{identity}",
        data,
        observed_at=decision.at,
        occurred_at=decision.at,
    )
    return append_entry(record).seq
