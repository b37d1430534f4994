"""Branch protection in force on the base branch at the merge, against the policy's settings.

The snapshot recorded at or before the merge is what was in force (a change between the approval
and the merge counts); a setting the credential could not read is unknown, never off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, SATISFIED, UNREADABLE, VIOLATED, Link
from evidence.compliance.custody.rules.base import UNKNOWN, Case, Rule, stamp
from evidence.readmodels.models.forge import ProtectionAt

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def protection_at(ctx, pull) -> ProtectionAt:  # type: ignore[no-untyped-def]
    key = (pull.forge, pull.repository, pull.base)
    at = pull.merged_at
    snapshots = [s for s in ctx.loaded.snapshots.get(key, []) if s.observed_at <= at]
    observations = ctx.loaded.observations.get(key, [])
    before = [o for o in observations if o.observed_at <= at]
    after = [o for o in observations if o.observed_at >= at]
    return ProtectionAt(
        snapshots[-1] if snapshots else None, before[-1] if before else None, after[0] if after else None
    )


def check(ctx: Context, case: Case) -> None:
    pull = case.pull
    if pull is None:
        return
    name, subject = f"{case.prefix}protection", f"{pull.repository}@{pull.base}"

    def add(status: str, text: str, seqs: list[int], codes: list[str] | None = None, reason: str = "") -> None:
        link = Link(name, status, text, seqs, subject=subject, codes=codes or [], repository=pull.repository)
        link.reason = reason
        ctx.add(link)

    if pull.merged_at is None:
        add(NOT_EVIDENCED, f"The merge time of {pull} is unknown.", [pull.entry_seq], reason=UNREADABLE)
        return
    state = protection_at(ctx, pull)
    snapshot, seqs = state.snapshot, state.entry_seqs
    if snapshot is None:
        text = f"No protection of {pull.base} was recorded at or before the merge of {pull}."
        add(NOT_EVIDENCED, text, seqs, reason=NOT_LOOKED)
        return
    settings = snapshot.settings if isinstance(snapshot.settings, dict) else {}
    case.settings = settings
    protected = settings.get("protected", UNKNOWN) if settings else UNKNOWN
    since = f"recorded {stamp(snapshot.observed_at)}"
    if protected == UNKNOWN:
        add(NOT_EVIDENCED, f"Protection of {pull.base} could not be read ({since}): unknown.", seqs, reason=UNREADABLE)
        return
    if protected is False:
        add(VIOLATED, f"{pull.base} was not protected when {pull} was merged ({since}).", seqs, ["protection_off"])
        return
    weaker, unknown = [], []
    for setting, wanted in sorted(ctx.policy.protection.items()):
        actual = settings.get(setting, UNKNOWN)
        if actual == UNKNOWN:
            unknown.append(setting)
        elif isinstance(wanted, bool) and wanted and actual is not True:
            weaker.append(f"{setting} is {actual}, policy wants {wanted}")
        elif isinstance(wanted, int) and not isinstance(wanted, bool) and isinstance(actual, int) and actual < wanted:
            weaker.append(f"{setting} is {actual}, policy wants at least {wanted}")
    text = f"{pull.base} protected when {pull} was merged ({since})"
    if weaker:
        text += (f"; could not read {', '.join(unknown)}" if unknown else "") + ": weaker than policy: "
        add(VIOLATED, text + "; ".join(weaker) + ".", seqs, ["protection_weaker_than_policy"])
    elif unknown:
        text += f", but {', '.join(unknown)} could not be read, so meeting the policy is not evidenced."
        add(NOT_EVIDENCED, text, seqs, reason=UNREADABLE)
    else:
        add(SATISFIED, text + ", meeting the policy.", seqs)


RULE = Rule(
    name="protection",
    scope="change",
    reads=("pull request", "github.branch_protection / gitlab.protected_branch", "policy: protection"),
    codes=("protection_off", "protection_weaker_than_policy", "evidence_gap"),
    explanation="The base branch was protected at the merge, at least as strictly as the policy asks.",
    check=check,
)
