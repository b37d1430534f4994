"""The figures an audit pack states, computed from its embedded evidence alone.

Django-free and standard-library only: the pack builder computes summary.json with these
functions, and the standalone verifier (which carries this file beside it) recomputes every
figure from the embedded entries and compares. A figure without a recipe here cannot be
verified, so the verifier refuses it; content providers add figures by adding recipes here.

Recipes:
  entries.total / first_seq / last_seq, entries.by_kind / by_source / by_day   from the envelopes
  count.<name>          entries matching summary["counts"][<name>] (kinds, subject prefix, data equals,
                        seqs: one of the listed seqs, e.g. each deployment's first entry)
  findings.total / by_severity / by_code                                        from findings.json
  sample.seqs           from summary["sample"] (seed, size, population), see sample_seqs()
  checkpoint.origin / size / root, ledger_key.fingerprint, signer.certificate_sha256
                        from the signed checkpoint, the ledger key and the PDF signature
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

FORMAT = "evidence-ledger-audit-pack/1"

Envelope = Mapping[str, Any]


def entry_day(envelope: Envelope) -> str:
    """The UTC day a fact belongs to: when it occurred, else when it was observed."""
    return str(envelope.get("occurred_at") or envelope["observed_at"])[:10]


def entry_figures(envelopes: Mapping[int, Envelope]) -> dict[str, Any]:
    seqs = sorted(envelopes)
    return {
        "entries.total": len(seqs),
        "entries.first_seq": seqs[0] if seqs else None,
        "entries.last_seq": seqs[-1] if seqs else None,
        "entries.by_kind": dict(sorted(Counter(e["kind"] for e in envelopes.values()).items())),
        "entries.by_source": dict(sorted(Counter(e["source"] for e in envelopes.values()).items())),
        "entries.by_day": dict(sorted(Counter(entry_day(e) for e in envelopes.values()).items())),
    }


def matches(envelope: Envelope, spec: Mapping[str, Any], seq: int | None = None) -> bool:
    """Does an envelope match a count spec: {"kinds": [...], "subject_prefix": str, "data": {key: value},
    "seqs": [...]}?"""
    seqs = spec.get("seqs")
    if seqs is not None and seq not in seqs:
        return False
    kinds = spec.get("kinds")
    if kinds and envelope["kind"] not in kinds:
        return False
    prefix = spec.get("subject_prefix")
    if prefix and not str(envelope["subject"]).startswith(prefix):
        return False
    data = envelope.get("data") or {}
    return all(data.get(key) == value for key, value in (spec.get("data") or {}).items())


def count_figures(envelopes: Mapping[int, Envelope], counts: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    out = {}
    for name, spec in sorted(counts.items()):
        if spec.get("seqs") is not None:
            spec = {**spec, "seqs": set(spec["seqs"])}  # a set: populations run to thousands
        out[f"count.{name}"] = sum(1 for seq, e in envelopes.items() if matches(e, spec, seq))
    return out


def finding_figures(findings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    items = list(findings)
    return {
        "findings.total": len(items),
        "findings.by_severity": dict(sorted(Counter(str(f["severity"]) for f in items).items())),
        "findings.by_code": dict(sorted(Counter(str(f["code"]) for f in items).items())),
    }


def sample_seqs(population: Iterable[int], size: int, seed: str) -> list[int]:
    """A reproducible sample: the `size` members with the smallest SHA-256("<seed>:<seq>"), in seq order.

    Anyone can redo it by hand or in any language from the recorded seed and population.
    """
    ranked = sorted(population, key=lambda seq: hashlib.sha256(f"{seed}:{seq}".encode()).digest())
    return sorted(ranked[:size])


def sample_figures(sample: Mapping[str, Any] | None) -> dict[str, Any]:
    if not sample:
        return {}
    return {"sample.seqs": sample_seqs(sample["population"], int(sample["size"]), str(sample["seed"]))}


def compute_figures(
    envelopes: Mapping[int, Envelope],
    findings: Iterable[Mapping[str, Any]],
    counts: Mapping[str, Mapping[str, Any]],
    sample: Mapping[str, Any] | None,
    attested: Mapping[str, Any],
) -> dict[str, Any]:
    """Every figure a recipe exists for. `attested` holds the checkpoint, key and signer figures."""
    out: dict[str, Any] = {}
    out.update(entry_figures(envelopes))
    out.update(count_figures(envelopes, counts))
    out.update(finding_figures(findings))
    out.update(sample_figures(sample))
    out.update(attested)
    return out


def entry_time(envelope: Envelope) -> str:
    """RFC 3339 text of when a fact occurred, else when it was observed (the ledger's fixed format sorts as text)."""
    return str(envelope.get("occurred_at") or envelope["observed_at"])


def outside_entries_scope(scope: Mapping[str, Any], envelopes: Mapping[int, Envelope]) -> list[int]:
    """Seqs of embedded entries that an `entries` scope (as stated in summary.json) does not select."""
    seqs = set(scope.get("seqs") or [])
    kinds = set(scope.get("kinds") or [])
    subject, since, until = scope.get("subject"), scope.get("since"), scope.get("until")
    out = []
    for seq, envelope in sorted(envelopes.items()):
        at = entry_time(envelope)
        if (
            (seqs and seq not in seqs)
            or (kinds and envelope["kind"] not in kinds)
            or (subject and envelope["subject"] != subject)
            or (since and at < since)
            or (until and at >= until)
        ):
            out.append(seq)
    return out


def compare_figures(stated: Mapping[str, Any], computed: Mapping[str, Any]) -> list[str]:
    """One line per figure the pack states that the evidence does not give."""
    problems = []
    for name, value in sorted(stated.items()):
        if name not in computed:
            problems.append(f"summary figure {name!r} has no recipe the verifier knows, so it cannot be checked")
        elif computed[name] != value:
            problems.append(
                f"summary figure {name!r}: the pack states {_short(value)}, the evidence gives {_short(computed[name])}"
            )
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
