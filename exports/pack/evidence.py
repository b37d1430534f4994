"""The evidence a pack embeds: exact entry bytes, inclusion proofs against ONE signed checkpoint,
that checkpoint's signed note and the ledger's verifier key, plus the verifier and its helpers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import merkle, note, timestamp
from ledger.checkpoints import sign_checkpoint
from ledger.envelope import open_envelope
from ledger.keys import load_verifiers
from ledger.models import Checkpoint, Entry
from ledger.store import fetch_nodes

from .. import verifier as verifier_module
from ..errors import PackError

HELPER_SOURCES = {
    "merkle.py": Path(merkle.__file__),
    "note.py": Path(note.__file__),
    "timestamp.py": Path(timestamp.__file__),
    "figures.py": Path(verifier_module.__file__).with_name("figures.py"),
    verifier_module.SCRIPT: Path(verifier_module.__file__),
}


@dataclass(frozen=True)
class EvidenceEntry:
    seq: int
    kind: str
    subject: str
    leaf_hash: bytes
    payload: bytes


@dataclass
class Evidence:
    checkpoint: Checkpoint
    ledger_key: str  # C2SP verifier key text
    ledger_key_fingerprint: str
    entries: list[EvidenceEntry]
    proofs: dict[int, list[bytes]]  # seq -> audit path against checkpoint.size
    _envelopes: dict[int, dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def root_b64(self) -> str:
        return base64.b64encode(bytes(self.checkpoint.root)).decode()

    def envelopes(self) -> dict[int, dict[str, Any]]:
        """Parsed once: a large pack would otherwise parse every payload for each use."""
        if self._envelopes is None:
            self._envelopes = {e.seq: json.loads(e.payload) for e in self.entries}
        return self._envelopes


def signed_checkpoint() -> Checkpoint:
    """Sign (or reuse) the checkpoint of the current tree: every pack is proven against one."""
    checkpoint = sign_checkpoint()
    if checkpoint is None:
        raise PackError("the ledger is empty: there is nothing to put in a pack")
    return checkpoint


CHUNK = 5000  # seqs or nodes per query: under SQLite's variable limit, few round trips


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def collect_evidence(seqs: list[int], checkpoint: Checkpoint) -> Evidence:
    size = checkpoint.size
    wanted = sorted(set(seqs))
    outside = [s for s in wanted if not 0 <= s < size]
    if outside:
        raise PackError(f"entries {outside[:5]} are not in the checkpoint of size {size}")
    entries = []
    for chunk in _chunks(wanted):
        rows = Entry.objects.filter(seq__in=chunk).order_by("seq")
        for seq, leaf, payload in rows.values_list("seq", "leaf_hash", "payload"):
            envelope = open_envelope(bytes(payload))  # kind and subject as hashed, not as the columns say
            entries.append(EvidenceEntry(seq, envelope["kind"], envelope["subject"], bytes(leaf), bytes(payload)))
    missing = sorted(set(wanted) - {e.seq for e in entries})
    if missing:
        raise PackError(f"entries {missing[:5]} are not in the ledger")
    key = note.note_signers(checkpoint.note, load_verifiers())[-1]  # the key that signed it (keys rotate)
    proofs = inclusion_proofs(entries, size, bytes(checkpoint.root))
    return Evidence(checkpoint, key.encode(), key.fingerprint(), entries, proofs)


def inclusion_proofs(entries: list[EvidenceEntry], size: int, root: bytes) -> dict[int, list[bytes]]:
    """RFC 9162 audit paths for many entries, from one batched read of the stored tree.

    ledger.proofs.inclusion_proof gives the same paths (tests compare them) but reads the store
    once per entry; a pack of tens of thousands of entries plans its node reads together. Each
    path is verified against the checkpoint root before it is embedded: the pack never vouches
    for what the ledger cannot prove.
    """
    needed: set[merkle.Node] = set()
    for entry in entries:
        needed.update(merkle.inclusion_nodes(entry.seq, size))
    nodes: dict[merkle.Node, bytes] = {}
    for chunk in _chunks(sorted(needed)):
        nodes.update(fetch_nodes(set(chunk)))

    def fetch(wanted: set[merkle.Node]) -> dict[merkle.Node, bytes]:
        # Only the nodes asked for: merkle compares the answer's keys with the request per proof.
        return {node: nodes[node] for node in wanted if node in nodes}

    proofs = {}
    for entry in entries:
        path = merkle.inclusion_proof(entry.seq, size, fetch)
        try:
            merkle.verify_inclusion(entry.seq, size, entry.leaf_hash, path, root)
        except merkle.ProofError:
            raise PackError(
                f"entry {entry.seq}: its stored leaf hash is not in the checkpoint of size {size}; run verify_ledger"
            ) from None
        proofs[entry.seq] = path
    return proofs


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def attachment_files(evidence: Evidence, summary: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, bytes]:
    """Every file the pack embeds, by name (exports.verifier reads exactly these)."""
    v = verifier_module
    entries = "".join(
        json.dumps(
            {
                "seq": e.seq,
                "kind": e.kind,
                "subject": e.subject,
                "leaf_hash": e.leaf_hash.hex(),
                "payload": _b64(e.payload),
            },
            ensure_ascii=False,
        )
        + "\n"
        for e in evidence.entries
    )
    proofs = {
        "checkpoint_size": evidence.checkpoint.size,
        "proofs": [
            {"seq": seq, "tree_size": evidence.checkpoint.size, "path": [_b64(p) for p in path]}
            for seq, path in sorted(evidence.proofs.items())
        ],
    }
    files = {
        v.ENTRIES: entries.encode(),
        v.PROOFS: json.dumps(proofs, indent=1).encode(),
        v.CHECKPOINT: evidence.checkpoint.note.encode(),
        v.LEDGER_KEY: (evidence.ledger_key + "\n").encode(),
        v.SUMMARY: json.dumps(summary, indent=1, ensure_ascii=False).encode(),
        v.FINDINGS: json.dumps(findings, indent=1, ensure_ascii=False).encode(),
    }
    if evidence.checkpoint.timestamp_token is not None:
        files[v.TIMESTAMP] = bytes(evidence.checkpoint.timestamp_token)
    for name, path in HELPER_SOURCES.items():
        files[name] = path.read_bytes()
    return files
