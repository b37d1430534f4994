"""A person can read the pack: contents with page numbers, bookmarks, page numbers, headers repeated."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest

from exports.pack.build import build_pack
from exports.pack.scope import Scope
from exports.verifier import read_attachments
from ledger.append import append_entries

from .conftest import review

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (Debian poppler-utils) is not installed"),
]


def text_of(pdf: bytes, tmp_path) -> list[str]:
    """The text of each page, as pdftotext lays it out."""
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


def test_it_states_the_figures_of_summary_json(shared, tmp_path):
    built, _ = shared
    pages = text_of(built.pdf, tmp_path)
    figures = json.loads(read_attachments(built.pdf)["summary.json"])["figures"]
    text = "\n".join(pages)

    assert re.search(rf"Entries in scope\s+{figures['entries.total']}\b", text)
    assert re.search(rf"Checkpoint size\s+{figures['checkpoint.size']} entries", text)
    assert figures["signer.certificate_sha256"] in text
    assert figures["ledger_key.fingerprint"] in text
    for kind, count in figures["entries.by_kind"].items():
        assert re.search(rf"{re.escape(kind)}\s+{count}\n", text)


def test_it_lists_contents_with_page_numbers_and_bookmarks(shared, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader

    built, _ = shared
    pages = text_of(built.pdf, tmp_path)
    titles = r"Summary|Appendix A: evidence index|Appendix B: how to verify"
    contents = dict(re.findall(rf"^\s*({titles})\s*\.+\s*(\d+)$", pages[0], re.M))
    outline = PdfFileReader(io.BytesIO(built.pdf)).root["/Outlines"]

    assert len(contents) == 3
    for title, number in contents.items():
        assert (
            pages[int(number) - 1].lstrip().split("\n")[1].strip().startswith(title) or title in pages[int(number) - 1]
        )
    assert all(f"Page {i} of {len(pages)}" in page for i, page in enumerate(pages, 1))
    assert outline["/Count"] != 0


def test_it_repeats_table_headers_on_every_page_of_the_index(evidence, operator_signer, tmp_path):
    append_entries([review(n, day=n % 20) for n in range(100, 260)])

    built = build_pack(Scope.from_json({"type": "entries", "kinds": ["github.review"]}), "alice", operator_signer)
    pages = text_of(built.pdf, tmp_path)
    leaf = built.evidence.entries[-1].leaf_hash.hex()
    start = next(i for i, page in enumerate(pages) if re.search(r"^\s*Appendix A: evidence index$", page, re.M))
    end = next(i for i, page in enumerate(pages) if leaf in page)  # a whole hash on one line: wide enough
    index_pages = pages[start : end + 1]

    assert len(index_pages) >= 2
    assert all(re.search(r"Seq\s+Kind\s+Subject\s+Leaf hash \(hex\)", page) for page in index_pages)
