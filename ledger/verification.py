"""verify_ledger: recompute every hash from the stored bytes and check every checkpoint.

One pass in seq order: each payload's leaf hash, the chain, every denormalised column against the
payload it copies, and every Merkle node it completes (compared with the stored node as it is
produced, one streaming cursor per tree level), the root at every checkpoint size (and the
checkpoint's signature), and finally the head row. Then the checkpoints held outside the
database (LEDGER_CHECKPOINT_DIR, and any copy given with --checkpoints) are held against the log:
one signed outside but missing here, or naming another root, means rows were deleted, or the log
was rolled back or forked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from . import merkle, timestamp
from .envelope import ENVELOPE_COLUMNS, differing_columns, open_envelope
from .models import Checkpoint, Entry, Head, TreeNode
from .note import Checkpoint as CheckpointBody
from .note import NoteError, Verifier, note_signers, verify_checkpoint

CHUNK = 5000


@dataclass
class Report:
    ok: bool
    entries: int
    nodes: int
    checkpoints: int
    problem: str = ""
    bad_seq: int | None = None
    outside: int = 0  # checkpoints held outside the database that were compared
    outside_problems: list[str] = field(default_factory=list)
    timestamped: int = 0  # checkpoints whose RFC 3161 token verified
    not_timestamped: list[int] = field(default_factory=list)  # sizes of checkpoints signed without a token

    def line(self) -> str:
        if self.ok:
            held = f", {self.outside} held outside" if self.outside else ""
            return (
                f"ledger OK: {self.entries} entries, {self.nodes} tree nodes, "
                f"{self.checkpoints} checkpoints verified{held}{self.timestamps()}"
            )
        if not self.problem:
            return f"ledger BROKEN: {len(self.outside_problems)} checkpoint(s) held outside disagree with the database"
        where = f"seq {self.bad_seq}: " if self.bad_seq is not None else ""
        return f"ledger BROKEN at {where}{self.problem}"

    def timestamps(self) -> str:
        """RFC 3161 tokens, when any checkpoint has one or a TSA is configured (a missing one is no tamper)."""
        if not self.timestamped and not (self.not_timestamped and settings.LEDGER_TSA_URL):
            return ""
        text = f", {self.timestamped} timestamped"
        if self.not_timestamped:
            sizes = ", ".join(str(size) for size in self.not_timestamped[:5])
            more = ", ..." if len(self.not_timestamped) > 5 else ""
            text += f", {len(self.not_timestamped)} not timestamped (size {sizes}{more})"
        return text

    def lines(self) -> list[str]:
        """The verdict, then one line per problem with the checkpoints held outside."""
        return [self.line(), *self.outside_problems]


@dataclass(frozen=True)
class HeldCheckpoint:
    """A signed note held outside the database, and where it was found (file or URL)."""

    where: str
    note: str


class _Broken(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq, self.problem = seq, problem


def _stream(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows of a query, fetched in chunks (a named server-side cursor on PostgreSQL)."""
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor(name=f"verify_{id(sql)}_{params[0] if params else 0}") as cursor:
            cursor.itersize = CHUNK
            cursor.execute(sql, params)
            yield from cursor
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(CHUNK):
                yield from rows


class _LevelStreams:
    """Stored nodes, one ordered stream per level, consumed as the recomputation produces them."""

    def __init__(self) -> None:
        self._streams: dict[int, Iterator[tuple[Any, ...]]] = {}
        self.count = 0
        table = TreeNode._meta.db_table
        self._sql = f"SELECT {connection.ops.quote_name('index')}, hash FROM {table} WHERE level = %s ORDER BY 1"

    def check(self, level: int, index: int, digest: bytes, first_seq: int, last_seq: int) -> None:
        stream = self._streams.get(level)
        if stream is None:
            stream = self._streams[level] = _stream(self._sql, [level])
        row = next(stream, None)
        if row is None or int(row[0]) != index:
            raise _Broken(
                last_seq, f"tree node (level {level}, index {index}) covering seqs {first_seq}-{last_seq} is missing"
            )
        if bytes(row[1]) != digest:
            raise _Broken(
                last_seq,
                f"tree node (level {level}, index {index}) covering seqs {first_seq}-{last_seq} has a wrong hash",
            )
        self.count += 1

    def close(self) -> None:
        for stream in self._streams.values():
            stream.close()  # type: ignore[attr-defined]

    def leftovers(self) -> str | None:
        for level in sorted(self._streams):
            row = next(self._streams[level], None)
            if row is not None:
                return f"tree node (level {level}, index {row[0]}) exists beyond the log"
        extra = (
            TreeNode.objects.exclude(level__in=list(self._streams)).first()
            if self._streams
            else TreeNode.objects.first()
        )
        if extra is not None:
            return f"tree node (level {extra.level}, index {extra.index}) exists beyond the log"
        return None


def _verifiers(verifier: Verifier | Sequence[Verifier] | None) -> list[Verifier] | None:
    if verifier is None:
        return None
    return [verifier] if isinstance(verifier, Verifier) else list(verifier)


def verify_ledger(
    verifier: Verifier | Sequence[Verifier] | None, held: Sequence[HeldCheckpoint] = (), tsa_cert: bytes | None = None
) -> Report:
    """Check everything; stop at the first problem in the database, then compare what is held outside.

    verifier: the published key(s), any of which may have signed a checkpoint; None skips signatures.
    tsa_cert: the certificate RFC 3161 tokens must be signed by; None: the one each token embeds.
    """
    verifiers = _verifiers(verifier)
    stamps = _Stamps(tsa_cert)
    checkpoints = {c.size: c for c in Checkpoint.objects.all()}
    outside = _open_held(held, verifiers)
    report = Report(True, 0, 0, 0, outside=len(outside.by_size))
    report.outside_problems = outside.problems
    roots: dict[int, bytes] = {}  # recomputed root at each size a checkpoint (here or outside) names
    wanted = set(checkpoints) | set(outside.by_size)
    levels = _LevelStreams()
    frontier = merkle.Frontier()
    chain = merkle.GENESIS_CHAIN
    entry_table = Entry._meta.db_table
    try:
        with transaction.atomic():  # one snapshot for every stream (PostgreSQL)
            roots[0] = merkle.EMPTY_ROOT
            if 0 in checkpoints:
                _check_checkpoint(checkpoints[0], merkle.EMPTY_ROOT, verifiers, stamps)
                report.checkpoints += 1
            rows = _stream(
                f"SELECT seq, payload, leaf_hash, chain_hash, {', '.join(ENVELOPE_COLUMNS)} "
                f"FROM {entry_table} ORDER BY seq",
                [],
            )
            try:
                chain = _replay(rows, frontier, chain, levels, checkpoints, wanted, roots, (verifiers, stamps), report)
                extra = levels.leftovers()
            finally:  # close server-side cursors while their transaction is still open
                rows.close()  # type: ignore[attr-defined]
                levels.close()
            report.entries = frontier.size
            report.nodes = levels.count
            if extra:
                raise _Broken(None, extra)
            beyond = [size for size in checkpoints if size > frontier.size]
            if beyond:
                raise _Broken(None, f"checkpoint for size {min(beyond)} but the log has {frontier.size} entries")
            _check_head(frontier, chain)
    except _Broken as broken:
        report.ok, report.bad_seq, report.problem = False, broken.seq, broken.problem
        report.entries = report.entries or frontier.size
    report.timestamped, report.not_timestamped = stamps.verified, stamps.missing
    # Held outside and beyond the log means rolled back; a replay that stopped early has not seen the end.
    last = Entry.objects.order_by("-seq").values_list("seq", flat=True).first()
    stored = frontier.size if report.ok else max(frontier.size, (last or -1) + 1)
    report.outside_problems += _compare_held(outside, checkpoints, roots, stored, report)
    if report.outside_problems:
        report.ok = False
    return report


def _check_head(frontier: merkle.Frontier, chain: bytes) -> None:
    """A head row that disagrees with verified entries is the head's problem, not theirs."""
    head = Head.objects.filter(id=1).first()
    if head is None:
        return
    for what, stored, actual in (
        ("size", head.size, frontier.size),
        ("root", bytes(head.root), frontier.root()),
        ("chain hash", bytes(head.chain_hash), chain),
    ):
        if stored != actual:
            raise _Broken(
                None,
                f"head row: its {what} disagrees with the entries (size {frontier.size}), which verify; "
                "the head row was moved",
            )


def _replay(
    rows: Iterator[tuple[Any, ...]],
    frontier: merkle.Frontier,
    chain: bytes,
    levels: _LevelStreams,
    checkpoints: dict[int, Checkpoint],
    wanted: set[int],
    roots: dict[int, bytes],
    checks: tuple[list[Verifier] | None, _Stamps],
    report: Report,
) -> bytes:
    for row in rows:
        seq, payload, stored_leaf, stored_chain = row[:4]
        if seq != frontier.size:
            raise _Broken(frontier.size, f"entry missing (next stored seq is {seq})")
        payload = bytes(payload)
        leaf = merkle.leaf_hash(payload)
        if leaf != bytes(stored_leaf):
            raise _Broken(seq, "payload does not match its stored leaf hash (payload or leaf hash altered)")
        chain = merkle.chain_hash(chain, leaf)
        if chain != bytes(stored_chain):
            raise _Broken(seq, "chain hash does not follow from the previous entry")
        _check_columns(seq, payload, row[4:])
        for level, index, digest in frontier.append(leaf):
            levels.check(level, index, digest, index << level, ((index + 1) << level) - 1)
        if frontier.size in wanted:
            root = roots[frontier.size] = frontier.root()
            if frontier.size in checkpoints:
                _check_checkpoint(checkpoints[frontier.size], root, *checks)
                report.checkpoints += 1
    return chain


def _check_columns(seq: int, payload: bytes, values: tuple[Any, ...]) -> None:
    """kind, source, subject, the times and the key are copies of the payload's fields: prove each."""
    try:
        envelope = open_envelope(payload)
    except ValueError:
        raise _Broken(seq, "payload is not a JSON object") from None
    wrong = differing_columns(dict(zip(ENVELOPE_COLUMNS, values, strict=True)), envelope)
    if wrong:
        name, stored, hashed = wrong[0]
        raise _Broken(seq, f"column {name} is {stored!r} but the payload says {hashed!r} (the column was edited)")


@dataclass
class _Stamps:
    """RFC 3161 tokens over checkpoint notes: checked where present, counted where missing."""

    tsa_cert: bytes | None
    verified: int = 0
    missing: list[int] = field(default_factory=list)

    def check(self, checkpoint: Checkpoint, seq: int | None) -> None:
        if checkpoint.timestamp_token is None:
            self.missing.append(checkpoint.size)
            return
        try:
            timestamp.verify_token(bytes(checkpoint.timestamp_token), checkpoint.note, self.tsa_cert)
        except timestamp.TimestampError as exc:
            raise _Broken(seq, f"checkpoint {checkpoint.size}: its RFC 3161 timestamp token: {exc}") from None
        self.verified += 1


def _check_checkpoint(checkpoint: Checkpoint, root: bytes, verifiers: list[Verifier] | None, stamps: _Stamps) -> None:
    seq = checkpoint.size - 1 if checkpoint.size else None
    if bytes(checkpoint.root) != root:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: stored root differs from the recomputed tree")
    stamps.check(checkpoint, seq)
    if verifiers is None:
        return
    try:
        body = verify_checkpoint(checkpoint.note, verifiers, settings.LEDGER_ORIGIN)
        signers = note_signers(checkpoint.note, verifiers)
    except NoteError as exc:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: {exc}") from None
    if body.size != checkpoint.size or body.root != root:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: signed note names another size or root")
    if checkpoint.key_id not in {s.key_id.hex() for s in signers}:
        raise _Broken(seq, f"checkpoint {checkpoint.size}: column key_id {checkpoint.key_id!r} did not sign the note")


@dataclass
class _Outside:
    by_size: dict[int, tuple[HeldCheckpoint, CheckpointBody]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _open_held(held: Sequence[HeldCheckpoint], verifiers: list[Verifier] | None) -> _Outside:
    out = _Outside()
    for item in held:
        try:
            if verifiers is None:
                body = CheckpointBody.parse(item.note.rpartition("\n\n")[0] + "\n")
            else:
                body = verify_checkpoint(item.note, verifiers)
        except NoteError as exc:
            out.problems.append(f"checkpoint held at {item.where}: bad signature or form: {exc}")
            continue
        if body.origin != settings.LEDGER_ORIGIN:
            out.problems.append(f"checkpoint held at {item.where}: origin {body.origin!r} is not this log's")
            continue
        seen = out.by_size.get(body.size)
        if seen is not None and seen[1].root != body.root:
            out.problems.append(
                f"checkpoint {body.size}: {seen[0].where} and {item.where} name two different roots (a split view)"
            )
            continue
        out.by_size.setdefault(body.size, (item, body))
    return out


def _compare_held(
    outside: _Outside, checkpoints: dict[int, Checkpoint], roots: dict[int, bytes], size: int, report: Report
) -> list[str]:
    problems = []
    for held_size in sorted(outside.by_size):
        item, body = outside.by_size[held_size]
        name = f"checkpoint {held_size} held at {item.where}"
        if held_size > size:
            problems.append(f"{name} is beyond the log's {size} entries: the database was rolled back")
            continue
        root = roots.get(held_size)
        if root is None and held_size in checkpoints and not report.ok:
            root = bytes(checkpoints[held_size].root)  # the replay stopped early; compare with the row
        if root is not None and root != body.root:
            problems.append(f"{name} names another root than the log's: the database was rolled back or forked")
        elif held_size not in checkpoints:
            problems.append(f"{name} is missing from the database (its row was deleted)")
    return problems
