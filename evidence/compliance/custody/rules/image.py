"""Each deployed image digest, and whether a registry harvest has seen it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence.compliance.custody.chain import SATISFIED, Link
from evidence.compliance.custody.rules.base import Case, Rule, stamp

if TYPE_CHECKING:
    from evidence.compliance.custody.build import Context


def check(ctx: Context, case: Case) -> None:
    digest, row = case.digest, case.image_row
    artifacts = ctx.loaded.artifacts.get(digest, [])
    seqs = [row.entry_seq] if row else list(ctx.d.entry_seqs)
    ran = None if row or digest in ctx.d.image_digests else ctx.pod_digests().get(digest)
    if ran is not None:
        seqs = [ran.entry_seq, *ctx.d.entry_seqs]
    seqs += [a.entry_seq for a in artifacts]
    url, name = "", (row.image if row else digest)
    if artifacts:
        a = artifacts[-1]
        name = f"{a.registry}/{a.repository}@{digest}"
        url = f"https://{a.registry}/v2/{a.repository}/manifests/{digest}"
    seen = "seen in its registry" if artifacts else "not yet seen by a registry harvest"
    if ran is not None:
        seen += f"; the controller named no digest, pods ran it at {stamp(ran.observed_at)}"
    ctx.add(Link("image", SATISFIED, f"Deployed {name} ({seen}).", seqs, url, digest))


RULE = Rule(
    name="image",
    scope="image",
    reads=("deployment image digests", "oci.artifact"),
    codes=(),
    explanation="Names each image digest deployed and where the registry holds it.",
    check=check,
)
