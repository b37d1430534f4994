"""An auditor can read every page: no text printed over other text or off the page, no word broken
inside, no page left nearly empty, digests short in tables and whole in an appendix, settings in
words, the findings once. Measured on the word boxes poppler reports (pdftotext -bbox-layout)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .pdf_layout import broken_words, overlapping_words, read_pages, text_cover, words_off_page

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (Debian poppler-utils) is not installed"),
]

PACKS = ["environment", "repository", "deployment", "entries"]
LONG_WORDS = frozenset({"deployment", "VIOLATED", "EVIDENCED", "explanation", "succeeded", "provenance", "protection"})
WHOLE = {
    "environment": {"deployment", "VIOLATED", "EVIDENCED", "Explanation", "succeeded", "provenance"},
    "repository": {"Approvals", "Protection", "protection", "Explanation"},
    "deployment": {"deployment", "VIOLATED", "EVIDENCED", "Explanation", "provenance"},
    "entries": {"idempotency", "Entries"},
}
MIN_COVER = 0.3  # of a page's height in lines of text; a page per small section left 9-25% on many


@pytest.fixture
def pack(request, custody_packs, shared):
    return shared[0] if request.param == "entries" else custody_packs[request.param]


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("pack", PACKS, indirect=True)
def test_it_prints_no_word_over_another_or_off_the_page(pack, tmp_path):
    pages = read_pages(pack.pdf, tmp_path)

    words = {w.text for page in pages for w in page.words}
    printed = [t for s in pack.content.sections for t in s.tables if t.rows]  # an empty table prints its note
    headers = {word for t in printed for h in t.headers for word in h.split()}

    assert len(pages) > 1
    for page in pages:
        overlaps = [(a.text, b.text) for a, b in overlapping_words(page)]
        assert not overlaps, f"page {page.number}: words printed over each other: {overlaps[:5]}"
        assert not words_off_page(page), f"page {page.number}: words off the page"
    # Text running up against the next cell's reads as one word ("ChangeTitle"): each header stands alone.
    assert headers - words == set()


@pytest.mark.parametrize("pack", PACKS, indirect=True)
def test_it_breaks_no_word_inside(pack, tmp_path):
    pages = read_pages(pack.pdf, tmp_path)
    words = {w.text.strip(".,;:()") for page in pages for w in page.words}

    assert broken_words(pages, LONG_WORDS) == []
    assert WHOLE[pack.scope.type] <= words  # each printed whole, in narrow columns too
    lines = text_of(pack.pdf, tmp_path).splitlines()
    fragments = [line for line in lines if re.search(r"\b[A-Za-z]{2,}-$", line.rstrip())]
    assert fragments == []  # no line ends in a hyphenated part of a word


@pytest.mark.parametrize("pack", PACKS, indirect=True)
def test_it_leaves_no_page_near_empty_but_the_last(pack, tmp_path):
    pages = read_pages(pack.pdf, tmp_path)

    covers = {page.number: round(text_cover(page), 2) for page in pages[:-1]}
    assert all(cover >= MIN_COVER for cover in covers.values()), covers


@pytest.mark.parametrize("pack", ["environment"], indirect=True)
def test_it_shortens_digests_in_tables_and_lists_them_in_full(pack, tmp_path):
    text = text_of(pack.pdf, tmp_path)
    body, _, appendix = text.partition("Appendix C: digests in full\n")
    image = next(e for e in pack.evidence.envelopes().values() if e["kind"] == "oci.artifact")["data"]["digest"]
    short = image[: len("sha256:") + 12] + "\u2026"

    assert short in body and image not in body  # the chains show the image digest short
    assert re.search(rf"{re.escape(short)}\s+{image}", appendix)  # and the appendix in full
    tables = body[re.search(r"^\s*Population$", body, re.M).start() : body.rindex("Appendix A: evidence index")]
    assert re.findall(r"[0-9a-f]{13,}", tables) == []  # no digest in full before the index


@pytest.mark.parametrize("pack", ["environment", "repository", "deployment"], indirect=True)
def test_it_states_protection_settings_in_words(pack, tmp_path):
    text = text_of(pack.pdf, tmp_path)

    assert "protected=True" not in text and "=True" not in text and "=False" not in text
    assert re.search(r"Required approvals: 1\b", text)
    assert re.search(r"Dismiss stale approvals: yes\b", text)
    assert re.search(r"Dismiss stale approvals: no\b", text)  # story e weakened it
    assert re.search(r"Enforced for administrators: yes\b", text)


@pytest.mark.parametrize("pack", ["environment", "repository", "deployment"], indirect=True)
def test_it_shows_the_findings_once(pack, tmp_path):
    text = text_of(pack.pdf, tmp_path)
    headings = re.findall(r"^\s*Findings\s*$", text, re.M)
    contents = re.findall(r"^\s*Findings\s*\.+\s*\d+$", text, re.M)

    assert len(headings) == 1 and len(contents) == 1
    for code, number in pack.summary["figures"]["findings.by_code"].items():  # each finding shown once
        assert len(re.findall(rf"^\s*{code} \((high|medium|low)", text, re.M)) == number
