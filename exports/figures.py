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
  dora.<metric>.<name>  from the DORA samples attached as dora-samples.csv and summary["dora"] (the period),
                        see dora_figures(): counts, per day, medians and p90 (nearest rank), rates
  checkpoint.origin / size / root, ledger_key.fingerprint, signer.certificate_sha256
                        from the signed checkpoint, the ledger key and the PDF signature
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
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


DORA_SAMPLES = "dora-samples.csv"
DORA_HEADER = ["metric", "at", "subject", "value", "entry_seqs"]  # value: whole seconds, 1/0, or empty (none)


def dora_csv(samples: Iterable[Mapping[str, Any]]) -> bytes:
    """The DORA samples as RFC 4180 CSV: one row per sample, its entry seqs joined by ';'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DORA_HEADER)
    for s in samples:
        value = "" if s["value"] is None else str(s["value"])
        writer.writerow([s["metric"], s["at"], s["subject"], value, ";".join(map(str, s["entry_seqs"]))])
    return out.getvalue().encode("utf-8")


def dora_rows(data: bytes) -> list[dict[str, Any]]:
    """dora-samples.csv read back: value an int or None, entry_seqs a list of ints."""
    rows = []
    try:
        read = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    except csv.Error as exc:
        raise ValueError(f"{DORA_SAMPLES}: {exc}") from None
    for row in read:
        rows.append(
            {
                "metric": row["metric"],
                "at": row["at"],
                "subject": row["subject"],
                "value": int(row["value"]) if row["value"] != "" else None,
                "entry_seqs": [int(s) for s in row["entry_seqs"].split(";") if s],
            }
        )
    return rows


def _nearest_rank(values: list[int], p: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, -(-p * len(ordered) // 100)) - 1]


def _hours(seconds: int | None) -> str | None:
    return None if seconds is None else str((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


def _ratio(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def dora_figures(dora: Mapping[str, Any] | None, samples: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
    """The DORA figures from their samples (docs/dora.md): `dora` holds the period (since, until).

    A figure without data is None (never zero): no deployment, no change, no failure measured.
    """
    if not dora:
        return {}
    by: dict[str, list[int | None]] = {}
    for s in samples or []:
        by.setdefault(str(s["metric"]), []).append(s["value"])
    deployments = by.get("deployment_frequency", [])
    seconds = int((datetime.fromisoformat(dora["until"]) - datetime.fromisoformat(dora["since"])).total_seconds())
    per_day = None
    if deployments and seconds:
        per_day = str((Decimal(len(deployments)) / (Decimal(seconds) / 86400)).quantize(Decimal("0.001")))
    lead = [v for v in by.get("change_lead_time", []) if v is not None]
    recovery = by.get("recovery_time", [])
    restored = [v for v in recovery if v is not None]
    failed = [v or 0 for v in by.get("change_fail_rate", [])]
    rework = [v or 0 for v in by.get("rework_rate", [])]
    return {
        "dora.deployment_frequency.deployments": len(deployments),
        "dora.deployment_frequency.per_day": per_day,
        "dora.change_lead_time.samples": len(lead),
        "dora.change_lead_time.median_hours": _hours(_nearest_rank(lead, 50)),
        "dora.change_lead_time.p90_hours": _hours(_nearest_rank(lead, 90)),
        "dora.change_fail_rate.deployments": len(failed),
        "dora.change_fail_rate.failed": sum(failed),
        "dora.change_fail_rate.ratio": _ratio(sum(failed), len(failed)),
        "dora.recovery_time.samples": len(restored),
        "dora.recovery_time.not_restored": len(recovery) - len(restored),
        "dora.recovery_time.median_hours": _hours(_nearest_rank(restored, 50)),
        "dora.recovery_time.p90_hours": _hours(_nearest_rank(restored, 90)),
        "dora.rework_rate.deployments": len(rework),
        "dora.rework_rate.unplanned": sum(rework),
        "dora.rework_rate.ratio": _ratio(sum(rework), len(rework)),
    }


def compute_figures(
    envelopes: Mapping[int, Envelope],
    findings: Iterable[Mapping[str, Any]],
    counts: Mapping[str, Mapping[str, Any]],
    sample: Mapping[str, Any] | None,
    attested: Mapping[str, Any],
    dora: Mapping[str, Any] | None = None,
    dora_samples: Iterable[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Every figure a recipe exists for. `attested` holds the checkpoint, key and signer figures;
    `dora`/`dora_samples` are summary["dora"] and the rows of dora-samples.csv, when the pack has them."""
    out: dict[str, Any] = {}
    out.update(entry_figures(envelopes))
    out.update(count_figures(envelopes, counts))
    out.update(finding_figures(findings))
    out.update(sample_figures(sample))
    out.update(dora_figures(dora, dora_samples))
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
