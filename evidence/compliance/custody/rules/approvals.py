"""Approvals standing at the merge, by people other than the author, on the merged head.

Each reviewer's latest review given by the merge decides (approve, then request changes: not
approving). A dismissal or revocation takes an approval away only when made before the merge: at
its own recorded time (a GitHub dismissal event), else by when it was first seen removed; when a
removal is known only to lie somewhere around the merge, whether the approval stood is not
evidenced. An approval on an older head is stale. An approval by someone who authored or pushed a
commit of the change does not count either (segregation of duties: `approver_committed`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, SATISFIED, UNREADABLE, VIOLATED, Link
from evidence.compliance.custody.rules.base import UNKNOWN, Case, Rule, person, pushers, stamp
from evidence.core.times import parse_time

OPINIONS = ("APPROVED", "CHANGES_REQUESTED")
REMOVED = ("DISMISSED", "REVOKED")

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def given_as(a) -> str:  # type: ignore[no-untyped-def]
    """What the review was given as; "" when only its dismissal was ever seen."""
    state = (a.submitted_state or a.state or "").upper()
    return "" if state in REMOVED else state


def _seen(a, states: tuple[str, ...]) -> list[datetime]:  # type: ignore[no-untyped-def]
    out = []
    for item in a.history or []:
        if item.get("state") in states and (at := parse_time(item.get("at"), to_utc=True)) is not None:
            out.append(at)
    return sorted(out)


def standing_at_merge(a, merged: datetime) -> str:  # type: ignore[no-untyped-def]
    """'yes', 'no' (removed before the merge) or 'unknown' for a review given by the merge."""
    if not a.dismissed and (a.state or "").upper() not in REMOVED:
        return "yes"
    if a.forge == "github" and a.dismissal_seq is not None and a.dismissed_at is not None:
        return "yes" if a.dismissed_at > merged else "no"  # the dismissal event's own time
    removed = _seen(a, REMOVED) or ([a.dismissed_at] if a.dismissed_at else [])
    if removed and removed[0] <= merged:
        return "no"
    standing = [t for t in _seen(a, OPINIONS) if not removed or t < removed[0]]
    if standing and standing[-1] >= merged:
        return "yes"  # still listed as given after the merge; removed later
    return "unknown"


def check(ctx: Context, case: Case) -> None:
    pull, prefix, path = case.pull, case.prefix, case.path
    if pull is None:
        return
    merged = pull.merged_at
    subject = str(pull)
    rows = [a for a in ctx.loaded.approvals.get(pull.id, []) if given_as(a) in OPINIONS or a.dismissed]
    by_reviewer: dict[str, list] = {}
    for a in rows:
        given = merged is None or a.submitted_at is None or a.submitted_at <= merged
        if given and given_as(a) in OPINIONS:
            by_reviewer.setdefault(a.reviewer, []).append(a)
    latest = {
        r: max(items, key=lambda a: (a.submitted_at is not None, a.submitted_at, a.id))
        for r, items in by_reviewer.items()
    }
    counted, stale, own, unknown, committed, late = [], [], [], [], [], []
    wrote = pushers(ctx.loaded, pull)
    commit_rows = ctx.loaded.pull_commits.get(pull.id, [])
    if commit_rows and not any(c.author or c.committer or c.author_email or c.committer_email for c in commit_rows):
        text = (
            f"Who authored and pushed the commits of {subject} was not recorded (it was harvested before commit "
            "authors were), so whether an approver also pushed to it is not evidenced."
        )
        ctx.add(
            Link(f"{prefix}committers", NOT_EVIDENCED, text, [pull.entry_seq], pull.url, subject, reason=UNREADABLE)
        )
    for a in rows:
        if given_as(a) != "APPROVED" and not (a.dismissed and not given_as(a)):
            continue  # requests for changes show on the approval they supersede
        seqs = [a.entry_seq] + ([a.dismissal_seq] if a.dismissal_seq else [])
        on = a.commit_id[:12] if a.commit_id and a.commit_id != UNKNOWN else "an unstated commit"
        base = f"{a.reviewer or 'unknown'} approved at {stamp(a.submitted_at)} on {on}"
        if not given_as(a):
            base = f"A review by {a.reviewer or 'unknown'} was dismissed; what it was given as was never recorded"
        link = Link(
            f"{prefix}approval", SATISFIED, base + ".", seqs, pull.url, subject, path, repository=pull.repository
        )
        standing = standing_at_merge(a, merged) if merged else "yes"
        last = latest.get(a.reviewer)
        removal = f" by {a.dismissed_by}" if a.dismissed_by else ""
        theirs = sorted({sha for name in person(a.reviewer) for sha in wrote.get(name, [])})
        if merged and a.submitted_at and a.submitted_at > merged:
            link.status, link.explanation = VIOLATED, f"{base}; given after the merge, so it does not count."
            late.append(a)
        elif not given_as(a):
            link.status, link.explanation = VIOLATED, f"{base}, so it does not count."
        elif standing == "no":
            when = stamp(a.dismissed_at) if a.dismissed_at else "a time before the merge"
            link.status = VIOLATED
            link.explanation = f"{base}; dismissed{removal} at {when}, before the merge, so it does not count."
        elif standing == "unknown":
            link.status, link.reason = NOT_EVIDENCED, NOT_LOOKED
            link.explanation = (
                f"{base}; it was removed{removal} at a time not recorded, first seen removed after the merge, so "
                "whether it stood at the merge is not evidenced."
            )
            unknown.append(a)
        elif last is not None and last is not a and given_as(last) == "CHANGES_REQUESTED":
            link.status = VIOLATED
            link.explanation = (
                f"{base}; superseded: {a.reviewer} then requested changes at {stamp(last.submitted_at)}, before the "
                "merge, so they were not approving when it was merged."
            )
            link.entry_seqs.append(last.entry_seq)
        elif last is not None and last is not a and given_as(last) == "APPROVED":
            link.explanation = f"{base}; superseded by their later approval at {stamp(last.submitted_at)}."
        elif a.reviewer and a.reviewer == pull.author:
            link.status, link.explanation = VIOLATED, f"{base}; the reviewer is the author, so it does not count."
            own.append(a)
        elif theirs:
            link.status = VIOLATED
            link.explanation = (
                f"{base}; {a.reviewer} also authored or pushed {len(theirs)} commit(s) of the change "
                f"({', '.join(x[:12] for x in theirs)}), so the approval does not count (segregation of duties)."
            )
            link.codes.append("approver_committed")
            link.entry_seqs.append(pull.entry_seq)
            committed.append(a)
        elif a.commit_id and a.commit_id != UNKNOWN and pull.head_sha and a.commit_id != pull.head_sha:
            link.status = VIOLATED
            link.explanation = f"{base}; stale: the merged head is {pull.head_sha[:12]}, commits came after it."
            link.codes.append("stale_approval")
            stale.append(a)
        else:
            if standing == "yes" and a.dismissed:
                link.explanation = f"{base}; dismissed{removal} at {stamp(a.dismissed_at)}, after the merge: it stood."
            counted.append(a)
        ctx.add(link)
    if stale:
        names = ", ".join(sorted({a.reviewer for a in stale}))
        ctx.explain(
            "stale_approval",
            subject,
            f"{subject}: approval by {names} was given on an older head; commits were pushed after it and it was "
            f"not given again on the merged head {pull.head_sha[:12]}.",
        )
    case.counted, case.stale, case.committed, case.after_fact = counted, stale, committed, late
    need = ctx.policy.min_approvals
    people = sorted({a.reviewer for a in counted})
    seqs = [a.entry_seq for a in rows] + [pull.entry_seq]
    if len(people) >= need:
        text = f"{len(people)} approval(s) standing at the merge on the merged head by people other than the author"
        text += f" ({', '.join(people)}); the policy asks for {need}." if people else f"; the policy asks for {need}."
        ctx.add(Link(f"{prefix}approvals", SATISFIED, text, seqs, pull.url, subject, path))
        return
    if len(people) + len({a.reviewer for a in unknown}) >= need:
        text = (
            f"{subject} had {len(people)} approval(s) certainly standing at the merge; whether the others stood is not "
            f"evidenced, and the policy asks for {need}."
        )
        ctx.add(Link(f"{prefix}approvals", NOT_EVIDENCED, text, seqs, pull.url, subject, path, reason=NOT_LOOKED))
        return
    others = [a for a in rows if a.reviewer != pull.author and given_as(a) == "APPROVED"]
    code = "self_approved" if own and not others else "insufficient_approvals"
    text = (
        f"{subject} was merged with {len(people)} valid approval(s) standing on its merged head; the policy in force "
        f"asks for {need} by someone other than the author."
    )
    if code == "self_approved":
        text = f"{subject} was approved only by its author {pull.author}; no one else approved it."
    ctx.add(Link(f"{prefix}approvals", VIOLATED, text, seqs, pull.url, subject, path, [code], pull.repository))


RULE = Rule(
    name="approvals",
    scope="change",
    reads=(
        "pull request",
        "pull request commits (authors, committers)",
        "github.review",
        "github.review_dismissal",
        "gitlab.approval",
        "policy: min_approvals",
    ),
    codes=("stale_approval", "self_approved", "approver_committed", "insufficient_approvals", "evidence_gap"),
    explanation="Enough approvals stood at the merge, on the merged head, by people other than the author and "
    "those who wrote or pushed its commits.",
    check=check,
)
