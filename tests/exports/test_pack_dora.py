"""The environment pack carries a DORA section and the dora.* figures in summary.json, with every
sample attached as dora-samples.csv; the offline verifier recomputes the figures from those samples
and fails a pack whose summary (or samples) disagree. An empty period reads "no data", never zero."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from evidence.compliance.dora import dora_figures
from exports import figures
from exports.pack.build import assemble
from exports.pack.evidence import attachment_files
from exports.pack.providers.dora import dora_part
from exports.verifier import read_attachments, verify
from tests.support.dora_world import T0, World

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def story() -> None:
    """Three live deployments (the second rolled back two hours later), an incident resolved in
    three hours, and a failed sync: every metric has data."""
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    w.deploy(w.change(T0 + 2 * H, opened=timedelta(hours=30)), T0 + 3 * H)
    w.deploy(a, T0 + 5 * H)  # the rollback
    w.incident("INC-1", T0 + 6 * H, T0 + 9 * H, application="")  # joined to none: counts for recovery only
    w.failed_sync("f" * 40, T0 + 7 * H)
    w.append()


@pytest.fixture(scope="module")
def dora_pack(django_db_setup, django_db_blocker, tmp_path_factory, operator_signer):
    """The environment pack over `story`, its ledger key's public half, and the report the pack was
    made from; built once in a rolled-back transaction, like conftest's `custody_packs`."""
    from django.db import transaction
    from django.test import override_settings

    from exports.pack.build import build_pack
    from exports.pack.scope import Scope
    from ledger.keys import create_signing_key
    from tests.support.projection import projecting

    folder = tmp_path_factory.mktemp("dora-ledger")
    inline = override_settings(  # a checkpoint folder of its own: the next pack's key must not meet this one's
        LEDGER_SIGNING_KEY=str(folder / "ledger.key"),
        LEDGER_CHECKPOINT_DIR=str(folder / "checkpoints"),
        CELERY_TASK_ALWAYS_EAGER=True,
    )
    with django_db_blocker.unblock(), inline, projecting():
        with transaction.atomic():
            _, _, signer = create_signing_key("test.ledger/log")
            story()
            report = dora_figures("prod", SINCE, UNTIL)
            scope = Scope.from_json(
                {
                    "type": "environment",
                    "environment": "prod",
                    "since": "2026-03-01T00:00:00Z",
                    "until": "2026-04-01T00:00:00Z",
                }
            )
            built = build_pack(scope, "auditor", operator_signer)
            transaction.set_rollback(True)
    return built, signer.verifier().encode() + "\n", report


def section_of(built, title="DORA metrics"):
    return next(s for s in built.content.sections if s.title == title)


def resigned(built, signer, summary, files):
    return assemble(
        built.scope, built.content, built.evidence, signer, "auditor", built.evidence.checkpoint.signed_at,
        summary=summary, files=files,
    ).pdf  # fmt: skip


def test_the_section_states_each_metric_with_unit_band_edition_and_samples(dora_pack):
    built, _, report = dora_pack
    rows = {row[0]: row[1:] for row in section_of(built).tables[0].rows}

    assert rows["Deployment frequency"] == ["0.097", "deployments per day", "medium", report_edition(), "3"]
    assert rows["Change fail rate"] == ["0.3333", "ratio", "low", report_edition(), "3"]
    assert rows["Rework rate"] == ["0.3333", "ratio", "no published band", "-", "3"]
    lead = report.figures["change_lead_time"]
    assert rows["Change lead time (median)"] == [lead.value, "hours", lead.band, report_edition(), str(lead.samples)]
    assert rows["Failed deployment recovery time (median)"][:3] == ["2.00", "hours", "high"]


def report_edition() -> str:
    from evidence.compliance.dora.bands import EDITION

    return EDITION


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (Debian poppler-utils) is not installed")
def test_the_pdf_prints_the_dora_section(dora_pack, tmp_path):
    built, _, _ = dora_pack
    path = tmp_path / "pack.pdf"
    path.write_bytes(built.pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout

    section = text[text.index("DORA metrics", text.index("Sign-off")) :]  # past the table of contents

    assert re.search(r"Deployment frequency\s+0\.097\s+deployments per day\s+medium", section)
    assert re.search(r"Change fail rate\s+0\.3333\s+ratio\s+low", section)


def test_summary_states_the_report_figures_and_the_pack_attaches_every_sample(dora_pack):
    built, _, report = dora_pack
    stated = built.summary["figures"]
    files = read_attachments(built.pdf)
    rows = figures.dora_rows(files[figures.DORA_SAMPLES])

    assert stated["dora.deployment_frequency.per_day"] == report.figures["deployment_frequency"].value == "0.097"
    assert stated["dora.change_lead_time.median_hours"] == report.figures["change_lead_time"].value
    assert stated["dora.change_lead_time.p90_hours"] == report.figures["change_lead_time"].extra["p90"]
    assert (stated["dora.change_fail_rate.failed"], stated["dora.rework_rate.ratio"]) == (1, "0.3333")
    assert built.summary["dora"]["since"] == SINCE.isoformat()
    assert len(rows) == len(report.samples)
    assert {r["metric"] for r in rows} == set(report.figures)
    cited = {seq for r in rows for seq in r["entry_seqs"]}
    assert cited and cited <= {e.seq for e in built.evidence.entries}  # every cited entry is embedded


def test_the_verifier_recomputes_the_dora_figures_of_an_honest_pack(dora_pack):
    built, ledger_pub, _ = dora_pack

    report = verify(built.pdf, ledger_pub)

    assert report.ok, report.failures
    assert any("summary figures recomputed from the evidence and matching" in n for n in report.notes)


def test_the_verifier_fails_a_pack_whose_dora_figure_was_edited(dora_pack, operator_signer):
    built, ledger_pub, _ = dora_pack
    summary = copy.deepcopy(built.summary)
    summary["figures"]["dora.change_fail_rate.ratio"] = "0.0500"  # "elite", as a forger would like it
    findings = [f.as_json() for f in built.content.findings]
    files = {**attachment_files(built.evidence, summary, findings), **built.content.attachments}

    report = verify(resigned(built, operator_signer, summary, files), ledger_pub)

    assert report.failures == [
        "summary figure 'dora.change_fail_rate.ratio': the pack states '0.0500', the evidence gives '0.3333'"
    ]


def test_the_verifier_fails_a_pack_whose_dora_samples_were_edited(dora_pack, operator_signer):
    built, ledger_pub, _ = dora_pack
    rows = figures.dora_rows(built.files[figures.DORA_SAMPLES])
    for row in rows:
        if row["metric"] == "change_fail_rate":
            row["value"] = 0  # the rolled-back deployment no longer failed
        if row["metric"] == "rework_rate":
            row["entry_seqs"] = [*row["entry_seqs"], 99999]
    files = {**built.files, figures.DORA_SAMPLES: figures.dora_csv(rows)}

    failures = verify(resigned(built, operator_signer, built.summary, files), ledger_pub).failures

    assert "summary figure 'dora.change_fail_rate.failed': the pack states 1, the evidence gives 0" in failures
    assert any(f.startswith("DORA sample rework_rate") and f.endswith("[99999]") for f in failures)


def test_an_empty_period_reads_no_data_never_zero():
    part = dora_part("prod", SINCE, UNTIL, size=1)

    values = [row[1] for row in part.section.tables[0].rows]
    assert values == ["no data"] * 5
    assert part.summary["dora.deployment_frequency.per_day"] is None
    assert part.summary["dora.change_fail_rate.ratio"] is None
    assert figures.dora_figures(part.spec, figures.dora_rows(part.attachment)) == part.summary
