"""The environment pack is a change-management workpaper: its sections in an audit firm's order,
a reproducible sample, a control matrix, exceptions with management response, and the population
and exceptions attached as CSV and XLSX with stated MIME types."""

from __future__ import annotations

import csv
import io
import re

import pytest

from exports import figures
from exports.verifier import read_attachments

pytestmark = pytest.mark.django_db

ORDER = [
    "Scope and period",
    "Population and completeness",
    "Limitations",
    "Sample",
    "Control matrix",
    "Exceptions",
    "Risk acceptances",
    "Sample of 3 deployments in full",
    "Findings",
    "Branch protection",
    "DORA metrics",  # the five figures of the environment and period, their samples attached
    "Who held which role",  # access evidence: who could approve, merge and deploy in the period
]


@pytest.fixture
def workpaper(custody_packs):
    return custody_packs["environment"]


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_it_lays_out_the_workpaper_in_order_and_ends_with_a_sign_off(workpaper):

    assert [s.title for s in workpaper.content.sections] == ORDER
    assert workpaper.content.title == "Change-management workpaper"
    assert workpaper.content.signoff


def test_it_attaches_the_population_and_the_exceptions(workpaper):
    files = read_attachments(workpaper.pdf)
    population = rows_of(files["population.csv"])
    exceptions = rows_of(files["exceptions.csv"])
    violations = [f for f in workpaper.content.findings if f.code not in {"evidence_gap", "evidence_recorded_late"}]

    assert len(population) == workpaper.summary["figures"]["count.deployments"]
    assert sorted(int(r["first_entry_seq"]) for r in population) == workpaper.summary["sample"]["population"]
    assert sorted(r["code"] for r in exceptions) == sorted(f.code for f in violations)
    assert {r["in_sample"] for r in population} == {"yes", "no"}

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(files["workpaper.xlsx"]))
    assert book.sheetnames == ["Population", "Exceptions"]
    assert book["Population"].max_row == len(population) + 1  # a header row, then one per deployment


def test_it_states_the_attachments_mime_types(workpaper):
    from tests.exports.test_pack_pdfa import reader_of

    reader = reader_of(workpaper.pdf)
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    types = {
        str(names[i]): str(names[i + 1].get_object()["/EF"]["/F"].get_object()["/Subtype"])
        for i in range(0, len(names), 2)
    }

    assert types["population.csv"] == "/text/csv" and types["exceptions.csv"] == "/text/csv"
    assert types["workpaper.xlsx"] == "/application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_it_draws_a_sample_anyone_can_redraw_from_its_seed(workpaper):
    sample = workpaper.summary["sample"]
    redrawn = figures.sample_seqs(sample["population"], sample["size"], sample["seed"])
    sampled = next(s for s in workpaper.content.sections if s.title.startswith("Sample of"))
    method = next(s for s in workpaper.content.sections if s.title == "Sample")
    population = rows_of(read_attachments(workpaper.pdf)["population.csv"])

    assert workpaper.summary["figures"]["sample.seqs"] == redrawn
    assert f"\u201c{sample['seed']}:seq\u201d" in method.intro
    shown = {int(re.match(r"Deployment (\d+):", t.title).group(1)) for t in sampled.tables}
    assert shown == {int(r["deployment_id"]) for r in population if r["in_sample"] == "yes"}
    assert len(shown) == sample["size"]


def test_it_concludes_each_control_from_its_exceptions(workpaper):
    matrix = next(s for s in workpaper.content.sections if s.title == "Control matrix").tables[0]
    by_control = {row[0][0]: row for row in matrix.rows}
    unsigned = by_control["Deployed images are signed by trusted signers"]
    reviewed = by_control["Production runs only what Git deployed, synced automatically"]

    assert matrix.headers == [
        "Control",
        "Test procedure",
        "Population",
        "Sample",
        "Exceptions",
        "Conclusion",
        "Requirements",
    ]
    assert unsigned[2] == str(workpaper.summary["figures"]["count.deployments"]) and unsigned[3] == "3"
    assert unsigned[4] == "1" and unsigned[5].startswith("Not effective: 1 of 5")
    assert reviewed[4] == "0" and not reviewed[5].startswith("Not effective")


def test_it_lists_each_exception_with_its_management_response(workpaper):
    exceptions = next(s for s in workpaper.content.sections if s.title == "Exceptions").tables[0]

    assert exceptions.headers == ["Deployment", "Exception", "Status", "Management response", "Owner", "Due", "Entries"]
    unsigned = next(row for row in exceptions.rows if row[1][0] == "Image not signed")
    assert unsigned[2:6] == ["open", "none recorded", "none recorded", "none"]
