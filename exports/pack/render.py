"""HTML (Django templates) to PDF/A-3b with WeasyPrint, attachments embedded, not yet signed."""

from __future__ import annotations

import base64
import io
import re
import warnings
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from .content import Cell, PackContent, Table
from .evidence import Evidence

CSS_PATH = Path(__file__).resolve().parent.parent / "templates" / "exports" / "pack.css"
PDF_VARIANT = "pdf/a-3b"  # PDF/A-3 is the level that allows arbitrary embedded files
RELATIONSHIPS = {".py": "Supplement", ".pub": "Supplement"}  # the rest is the evidence itself ("Data")
# The MIME type of each attachment, by suffix, stated here and never guessed from the host's MIME
# table (which calls a .pub file "application/vnd.exstream-package"). PDF/A-3 requires one on
# every embedded file; the verifier reads attachments by name, not by type.
MIME_TYPES = {
    ".jsonl": "application/jsonl",  # JSON Lines (jsonlines.org): entries.jsonl
    ".json": "application/json",
    ".note": "text/plain",  # a C2SP signed note
    ".pub": "text/plain",  # a C2SP note verifier key: one line of text
    ".py": "text/x-python",
    ".csv": "text/csv",  # RFC 4180
    ".txt": "text/plain",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OTHER_MIME_TYPE = "application/octet-stream"

# Digests in tables: "sha256:" (or nothing) and 16 or more hex digits, shown as the first 12 and
# an ellipsis; the full values are in an appendix of the pack and in its attachments.
DIGEST = re.compile(r"\b((?:sha1|sha256|sha384|sha512):)?([0-9a-f]{16,})\b")
SHORT_HEX = 12
ELLIPSIS = "\u2026"
# A run of 14 or more characters that is not a plain word (a digest, URL, identifier, path) may
# break anywhere when it is wider than its cell (class "t", overflow-wrap: anywhere); words never
# break inside, and columns are made as wide as their longest word.
LONG_RUN = re.compile(r"\S{14,}")
PLAIN_WORD = re.compile(r"[(\[\"'\u201c\u2018]*[^\W\d_]+(?:['\u2019-][^\W\d_]+)*[)\]\"'\u201d\u2019.,;:!?]*")


def mime_type(name: str) -> str:
    return MIME_TYPES.get(Path(name).suffix, OTHER_MIME_TYPE)


def shorten_digests(text: str, shortened: dict[str, str]) -> str:
    """The text with each digest shortened; records full value -> short form in `shortened`."""

    def short(match: re.Match[str]) -> str:
        form = (match.group(1) or "") + match.group(2)[:SHORT_HEX] + ELLIPSIS
        shortened[match.group(0)] = form
        return form

    return DIGEST.sub(short, text) if len(text) >= 16 else text


def inline_html(text: str) -> str:
    """Escaped text in which long runs that are not words may break anywhere (span class "t")."""
    parts, at = [], 0
    for match in LONG_RUN.finditer(text):
        run = match.group(0)
        parts.append(escape(text[at : match.start()]))
        parts.append(escape(run) if PLAIN_WORD.fullmatch(run) else f'<span class="t">{escape(run)}</span>')
        at = match.end()
    parts.append(escape(text[at:]))
    return "".join(parts)


def _cell(value: Cell, mono: bool, shortened: dict[str, str] | None) -> str:
    lines = value if isinstance(value, list) else [str(value)]
    if shortened is not None:
        lines = [shorten_digests(line, shortened) for line in lines]
    if not isinstance(value, list) and "\n" in lines[0]:
        return f"<td><pre>{escape(lines[0])}</pre></td>"  # a document shown whole (JSON)
    body = "<br>".join(inline_html(line) for line in lines)
    return f'<td class="mono">{body}</td>' if mono else f"<td>{body}</td>"


def table_body(table: Table, shortened: dict[str, str]) -> str:
    """Rows as HTML, built here rather than in a template loop: packs have tens of thousands of rows.

    Digests are shortened (unless the table shows values in full) and recorded in `shortened`.
    """
    mono = table.mono
    into = None if table.full_values else shortened
    return "".join(
        "<tr>" + "".join(_cell(v, i in mono, into) for i, v in enumerate(row)) + "</tr>" for row in table.rows
    )


def index_body(evidence: Evidence, anchored: set[int]) -> str:
    parts = []
    for e in evidence.entries:
        anchor = f' id="e-{e.seq}"' if e.seq in anchored else ""
        parts.append(
            f'<tr{anchor}><td>{e.seq}</td><td class="t">{escape(e.kind)}</td>'
            f'<td class="t">{escape(e.subject)}</td><td class="leaf">{e.leaf_hash.hex()}</td></tr>'
        )
    return "".join(parts)


def digests_body(shortened: dict[str, str]) -> str:
    """The appendix of digests shown shortened: short form and full value, ordered by full value."""
    return "".join(
        f'<tr><td class="mono">{escape(short)}</td><td class="mono t">{escape(full)}</td></tr>'
        for full, short in sorted(shortened.items())
    )


def format_figure(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if value is None:
        return "none"
    return str(value)


def _widths(table: Table) -> list[float]:
    weights = table.widths or [1] * len(table.headers)
    total = sum(weights)
    return [round(100 * w / total, 2) for w in weights]


def _anchor(title: str, i: int) -> str:
    return f"s{i}-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40]


def render_html(
    content: PackContent,
    evidence: Evidence,
    summary_doc: dict[str, Any],
    attachment_names: list[str],
    signer_subject: str,
) -> str:
    figures = summary_doc["figures"]
    shortened: dict[str, str] = {}  # full digest -> the short form a table shows
    sections: list[dict[str, Any]] = [
        {
            "title": s.title,
            "anchor": _anchor(s.title, i),
            "intro": s.intro,
            "findings": [_finding(f.as_json()) for f in s.findings],
            "points": s.points,
            "tables": [_table(t, shortened) for t in s.tables],
            "charts": [
                {"title": c.title, "src": svg_data_uri(c.svg), "table": _table(c.table, shortened)} for c in s.charts
            ],
        }
        for i, s in enumerate(content.sections, 1)
    ]
    findings = [_finding(f.as_json()) for f in content.findings]
    cited = {seq for f in findings for seq in f["seqs"]}
    for section in sections:
        cited.update(seq for f in section["findings"] for seq in f["seqs"])
    # Findings are shown once: in the providers' sections when any carries them, else on their own.
    findings_in_sections = any(section["findings"] for section in sections) or any(
        s.title == "Findings" for s in content.sections
    )
    context = {
        "css": CSS_PATH.read_text(),
        "format": summary_doc["format"],
        "content": content,
        "sections": sections,
        "findings": [] if findings_in_sections else findings,
        # Django templates cannot read dotted keys: the same figures, with underscores.
        "summary": {name.replace(".", "_"): value for name, value in figures.items()},
        "summary_rows": [(label, format_figure(figures[name])) for label, name in content.summary_rows],
        "generated_at": summary_doc["generated_at"],
        "generated_by": summary_doc["generated_by"],
        "ledger_key_name": "+".join(evidence.ledger_key.split("+")[:2]),
        "signer_subject": signer_subject,
        "index_body": index_body(evidence, cited),
        "digests_body": digests_body(shortened),
        "short_hex": SHORT_HEX,
        "attachment_names": attachment_names,
        "sample": summary_doc.get("sample"),
        "signoff": content.signoff,
        "scope_json": summary_doc["scope"],
        "checkpoint_size": figures.get("checkpoint.size"),
    }
    # Row bodies are escaped above; mark them safe only here, where they meet the template.
    from django.utils.safestring import mark_safe

    context["index_body"] = mark_safe(context["index_body"])  # noqa: S308 - built from escaped cells
    context["digests_body"] = mark_safe(context["digests_body"])  # noqa: S308 - built from escaped cells
    for section in sections:
        for table in [*section["tables"], *(c["table"] for c in section["charts"])]:
            table["body"] = mark_safe(table["body"])  # noqa: S308 - built from escaped cells
    return render_to_string("exports/pack.html", context)


def _table(t: Table, shortened: dict[str, str]) -> dict[str, Any]:
    return {
        "title": t.title,
        "note": t.note,
        "headers": t.headers,
        "col_widths": _widths(t),
        "body": table_body(t, shortened),
    }


def svg_data_uri(svg: str) -> str:
    """An SVG as an <img> source: WeasyPrint draws it as vectors, its text as text."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode()


def _finding(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding for the template, its explanation as HTML in which only digests and URLs break."""
    from django.utils.safestring import mark_safe

    shown = dict(finding)
    shown["explanation_html"] = mark_safe(inline_html(finding["explanation"]))  # noqa: S308 - escaped there
    return shown


def _weasyprint() -> tuple[Any, Any]:
    """WeasyPrint's HTML and Attachment. Without Debian's libharfbuzz-subset0 WeasyPrint 70 warns at
    import that a future version will need it; this one renders the same without it (fonts are
    subset by fontTools), so that one notice is not printed to every user of the demo and commands.
    bin/setup and the image install the library where they can."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning)
        from weasyprint import HTML, Attachment
    return HTML, Attachment


def render_pdf(html: str, files: dict[str, bytes], when: datetime) -> tuple[bytes, int]:
    """The unsigned PDF and its page count."""
    HTML, Attachment = _weasyprint()

    document = HTML(string=html).render()
    attachments = [
        Attachment(
            file_obj=io.BytesIO(data),
            name=name,
            description=f"audit pack evidence: {name}",
            created=when,
            modified=when,
            relationship=RELATIONSHIPS.get(Path(name).suffix, "Data"),
        )
        for name, data in sorted(files.items())
    ]
    pdf = document.write_pdf(attachments=attachments, pdf_variant=PDF_VARIANT, finisher=_pdfa_finisher)
    return pdf, len(document.pages)


def _pdfa_finisher(document: Any, pdf: Any) -> None:
    """Three PDF/A details WeasyPrint and pyHanko leave wrong or inconsistent between them.

    - The catalog's /AF lists every attachment twice (WeasyPrint 70 adds them from the name tree
      and from the file specs): keep one of each.
    - WeasyPrint guesses each embedded file's /Subtype (MIME type) from the host's MIME table;
      set the one MIME_TYPES states for its name instead.
    - pyHanko's signature rewrites the XMP producer to its own name but appends to the Info one;
      PDF/A wants the two equal, so the Info producer starts as pyHanko's name.
    """
    import pydyf
    from pyhanko.pdf_utils.metadata.model import VENDOR

    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
    for item in pdf.objects:
        if isinstance(item, dict) and item.get("Type") == "/Filespec":
            stream = pdf.objects[int(item["EF"]["F"].split()[0])]
            stream.extra["Subtype"] = "/" + mime_type(item["UF"].string).replace("/", "#2f")
    pdf.info["Producer"] = pydyf.String(VENDOR)
