"""A deployment with no image digest known cannot be traced to a build: an evidence gap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import NOT_EVIDENCED, NOT_LOOKED, Link
from evidence.compliance.custody.rules.base import Case, Rule

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    if ctx.digests():
        return
    text = "No image digest is known for this deployment: the controller named none and no pods were seen."
    ctx.add(
        Link("image", NOT_EVIDENCED, text, list(ctx.d.entry_seqs), subject=ctx.d.subject, reason=NOT_LOOKED),
        path="image",
    )


RULE = Rule(
    name="image_digests",
    scope="deployment",
    reads=("deployment image digests", "kubernetes.pods"),
    codes=("evidence_gap",),
    explanation="Every deployment names at least one image digest (from the controller or the pods).",
    check=check,
)
