"""Audit pack benchmark: the project's signed pack beside a plain WeasyPrint table of the same size.

    python bench/packs.py                          # a small pack (30 entries) and 1,000 entries, 50 sampled
    python bench/packs.py --entries 20000 --sample 50   # nearer the issue's quarter pack
    python bench/packs.py --break-all              # also time the plain table with word-break: break-all

Each pack row is one entry in the evidence index (seq, kind, subject, leaf hash); the baseline renders
the same rows, same columns, with WeasyPrint's defaults (automatic table layout, default font).
Runs on a temporary SQLite database with its own ledger key and demo certificate.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "devkit.settings"
    os.environ["LEDGER_SIGNING_KEY"] = str(folder / "ledger.key")
    os.environ["PACK_SIGNING_CERT"] = str(folder / "pack.crt")
    os.environ["PACK_SIGNING_KEY"] = str(folder / "pack.key")
    os.environ["PACK_STORAGE_DIR"] = str(folder / "packs")
    import django

    django.setup()
    import io

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("create_signing_key", stdout=io.StringIO())
    call_command("create_pack_certificate", "--name", "Bench operator", stdout=io.StringIO())


def records(count: int, offset: int = 0):
    from ledger.envelope import Record

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(offset, offset + count):
        kind = ("github.pull_request", "github.review", "argocd.deployment", "oci.signature")[i % 4]
        at = start + timedelta(minutes=131 * i)
        data = {
            "number": i,
            "head_sha": hashlib.sha1(str(i).encode()).hexdigest(),  # noqa: S324 - a fake commit id
            "title": f"Change {i}: adjust the payments ledger rounding",
            "body": "x" * 400,
        }
        subject = f"acme/service-{i % 40}#{i}" if i % 9 else f"https://git.example.com/acme/service-{i % 40}/pull/{i}"
        yield Record(kind, "bench", subject, f"bench:{i}", data, at, at)


def append(count: int, offset: int = 0) -> list[int]:
    from ledger.append import append_entries

    seqs: list[int] = []
    batch = list(records(count, offset))
    for k in range(0, len(batch), 1000):
        seqs += [a.seq for a in append_entries(batch[k : k + 1000])]
    return seqs


def time_pack(scope_json: dict) -> dict:
    from exports.pack import build as build_module
    from exports.pack import render as render_module
    from exports.pack.build import build_pack
    from exports.pack.scope import Scope
    from exports.signing import load_pack_signer

    timings: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
                timings[name + " cpu"] = timings.get(name + " cpu", 0.0) + time.process_time() - c

        return wrapper

    # Time the stages in place (the builder calls these by their module-level names).
    originals = (
        build_module.render_html,
        build_module.render_pdf,
        build_module.sign_pdf,
        build_module.collect_evidence,
    )
    build_module.render_html = timed("html", render_module.render_html)
    build_module.render_pdf = timed("weasyprint", render_module.render_pdf)
    build_module.sign_pdf = timed("sign", originals[2])
    build_module.collect_evidence = timed("evidence+proofs", originals[3])
    try:
        signer = load_pack_signer()
        t, c = time.perf_counter(), time.process_time()
        built = build_pack(Scope.from_json(scope_json), "bench", signer)
        total, total_cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        (build_module.render_html, build_module.render_pdf, build_module.sign_pdf, build_module.collect_evidence) = (
            originals
        )
    return {"built": built, "total": total, "total cpu": total_cpu, **timings}


def time_verify(pdf: bytes) -> float:
    from exports.verifier import verify
    from ledger.keys import load_verifier

    key = load_verifier().encode()
    t = time.perf_counter()
    report = verify(pdf, key)
    elapsed = time.perf_counter() - t
    if not report.ok:
        raise SystemExit("bench: the pack did not verify:\n" + report.text())
    return elapsed


def plain_table(built, break_all: bool) -> tuple[int, int, float, float]:
    """WeasyPrint with its defaults on the same rows: the baseline."""
    from html import escape

    from weasyprint import HTML

    style = "td.h { word-break: break-all; }" if break_all else ""
    rows = "".join(
        f"<tr><td>{e.seq}</td><td>{escape(e.kind)}</td><td>{escape(e.subject)}</td>"
        f'<td class="h">{e.leaf_hash.hex()}</td></tr>'
        for e in built.evidence.entries
    )
    html = (
        f"<html><head><style>{style}</style></head><body><table><thead><tr><th>Seq</th><th>Kind</th>"
        f"<th>Subject</th><th>Leaf hash</th></tr></thead><tbody>{rows}</tbody></table></body></html>"
    )
    t, c = time.perf_counter(), time.process_time()
    document = HTML(string=html).render()
    pdf = document.write_pdf()
    return len(document.pages), len(pdf), time.perf_counter() - t, time.process_time() - c


def line(name: str, pages: int, size: int, wall: float, cpu: float, rows: int) -> str:
    """Wall and CPU time: the machine may be shared, and CPU seconds are what layout costs."""
    return (
        f"  {name:<42} {pages:>5} pages {size / 1024:>7.0f} KiB {wall:>7.2f} s {cpu:>7.2f} s cpu "
        f"{cpu / pages:>6.3f} s/page (cpu) {1000 * cpu / rows:>6.1f} ms/row (cpu)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1000, help="entries in the large pack (default 1000)")
    parser.add_argument("--sample", type=int, default=50, help="entries sampled in full (default 50)")
    parser.add_argument("--small", type=int, default=30, help="entries in the small pack (default 30)")
    parser.add_argument("--break-all", action="store_true", help="also time the baseline with word-break: break-all")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-packs-") as tmp:
        setup(Path(tmp))
        t = time.perf_counter()
        small = append(args.small)
        large = append(args.entries, offset=args.small)
        print(f"appended {len(small) + len(large)} entries in {time.perf_counter() - t:.1f} s (SQLite, inline)")

        # Warm WeasyPrint's font setup once, so neither side pays it.
        from weasyprint import HTML

        HTML(string="<p>warm</p>").write_pdf()

        results = []
        for label, seqs, sample in (("small pack", small, 0), ("large pack", large, args.sample)):
            scope = {"type": "entries", "seqs": seqs, "sample": sample, "seed": "bench"}
            timing = time_pack(scope)
            timing["verify"] = time_verify(timing["built"].pdf)
            results.append((label, len(seqs), sample, timing))

        print("\nsigned audit pack (project) beside a plain WeasyPrint table of the same rows (baseline):")
        for label, count, sample, timing in results:
            built = timing["built"]
            print(f"{label}: {count} entries, {sample} sampled in full")
            n = len(built.evidence.entries)
            pdf_size = len(built.pdf)
            print(
                line("project pack, end to end, signed", built.pages, pdf_size, timing["total"], timing["total cpu"], n)
            )
            print(
                line("  of which WeasyPrint", built.pages, pdf_size, timing["weasyprint"], timing["weasyprint cpu"], n)
            )
            print(line("baseline: same rows, WeasyPrint defaults", *plain_table(built, break_all=False), n))
            if args.break_all:
                print(line("baseline with word-break: break-all", *plain_table(built, break_all=True), n))
            stages = ", ".join(
                f"{name} {timing[name]:.2f} s" for name in ("evidence+proofs", "html", "weasyprint", "sign")
            )
            print(f"  stages: {stages}; verify_pack {timing['verify']:.2f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
