"""Watching a deployment's log from outside: every checkpoint it serves must extend the last one seen.

`manage.py monitor URL` keeps what it saw in a state file (the last checkpoint and the keys it
trusts) and a bundle of every note it accepted beside it (`<state>.notes`, which
`verify_ledger --checkpoints` reads). Each run fetches the checkpoints served since, checks each
signature, and asks the deployment for a consistency proof from the last one seen: a proof that
does not verify, or another root for a size already seen, is a split view (the log shows
different histories to different readers, or was rolled back). Keys: those pinned with --key, else
the ones served on the first run (trust on first use); a new key is trusted once a checkpoint
signed by a trusted key also carries its signature (the switch checkpoint of a rotation).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from . import merkle
from .checkpoint_files import fetch_text
from .note import Checkpoint, NoteError, Verifier, note_signers, split_notes

PAGE = 1000


def api_token() -> str:
    """LEDGER_MONITOR_TOKEN, or the file named by LEDGER_MONITOR_TOKEN_FILE: an auditor's API token."""
    path = os.environ.get("LEDGER_MONITOR_TOKEN_FILE", "")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get("LEDGER_MONITOR_TOKEN", "").strip()


@dataclass
class MonitorReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what it did, for the operator
    checked: int = 0


def api_base(url: str) -> str:
    """The deployment's /api/v1/ from its address (given with or without the API path)."""
    url = url.rstrip("/") + "/"
    return url if url.endswith("/api/v1/") else url + "api/v1/"


class _Api:
    def __init__(self, url: str, token: str) -> None:
        self.base, self.token = api_base(url), token

    def text(self, path: str, **query: int | str) -> str:
        suffix = f"?{urlencode(query)}" if query else ""
        return fetch_text(self.base + path + suffix, self.token)

    def json(self, path: str, **query: int | str) -> Any:
        return json.loads(self.text(path, **query))


def _load_state(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return value if isinstance(value, dict) else {}


def _save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def notes_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".notes")


def run_monitor(url: str, state_path: Path, token: str = "", pinned: list[Verifier] | None = None) -> MonitorReport:
    """One pass: fetch, check, remember. Problems are the lines to print; any means exit non-zero."""
    api = _Api(url, token)
    report = MonitorReport()
    state = _load_state(state_path)
    served = [Verifier.parse(k["verifier_key"]) for k in api.json("checkpoints/key/")["keys"]]
    if pinned:
        trusted = list(pinned)
    elif state.get("keys"):
        trusted = [Verifier.parse(k) for k in state["keys"]]
    else:
        trusted = served
        report.notes.append("trusting on first use: " + ", ".join(f"{v.name}+{v.key_id.hex()}" for v in served))
    candidates = [v for v in served if v not in trusted]
    last: Checkpoint | None = None
    if state.get("note"):
        last = Checkpoint.parse(state["note"].rpartition("\n\n")[0] + "\n")
        try:
            again = api.text(f"checkpoints/{last.size}/", **{"as": "note"})
        except OSError as exc:
            report.problems.append(f"checkpoint {last.size}, seen before, is no longer served ({exc}): rolled back")
            return report
        seen_again = _open(again, trusted, candidates, report)
        if seen_again is not None and seen_again.root != last.root:
            report.problems.append(
                f"split view: checkpoint {last.size} now has root {_b64(seen_again.root)}, "
                f"seen before with {_b64(last.root)}"
            )
            return report
    after: dict[str, int] = {"after": last.size} if last else {}
    while not report.problems:
        page = split_notes(api.text("checkpoints/notes/", **after, limit=PAGE))
        for note in page:
            opened = _open(note, trusted, candidates, report)
            if opened is None:
                break
            if last is not None and not _extends(api, last, opened, report):
                break
            if last is None and state.get("origin") and opened.origin != state["origin"]:
                report.problems.append(f"checkpoint {opened.size}: origin {opened.origin!r} is not {state['origin']!r}")
                break
            with notes_path(state_path).open("a") as bundle:
                bundle.write(note + "\n")
            last, after = opened, {"after": opened.size}
            state.update(note=note, origin=opened.origin, size=opened.size, root=_b64(opened.root))
            report.checked += 1
        if len(page) < PAGE:
            break
    state["keys"] = [v.encode() for v in trusted]
    state["url"] = api.base
    _save_state(state_path, state)
    if last is not None:
        report.notes.append(f"log consistent up to size {last.size} (root {_b64(last.root)})")
    return report


def _open(note: str, trusted: list[Verifier], candidates: list[Verifier], report: MonitorReport) -> Checkpoint | None:
    try:
        signers = note_signers(note, [*trusted, *candidates])
        body = Checkpoint.parse(note.rpartition("\n\n")[0] + "\n")
    except NoteError as exc:
        report.problems.append(f"bad signature: {exc}")
        return None
    if not any(s in trusted for s in signers):
        report.problems.append(f"bad signature: checkpoint {body.size} is not signed by a key this monitor trusts")
        return None
    for new in (s for s in signers if s not in trusted):
        trusted.append(new)  # co-signed with a trusted key: the switch checkpoint of a key rotation
        candidates.remove(new)
        report.notes.append(f"checkpoint {body.size} switches to key {new.name}+{new.key_id.hex()}: now trusted")
    return body


def _extends(api: _Api, last: Checkpoint, new: Checkpoint, report: MonitorReport) -> bool:
    if new.size == last.size:
        if new.root != last.root:
            report.problems.append(f"split view: two roots for size {new.size}")
            return False
        return True
    if new.size < last.size:
        report.problems.append(f"checkpoint {new.size} served after {last.size}: rolled back")
        return False
    try:
        proof = api.json("checkpoints/consistency/", **{"from": last.size, "to": new.size})
        path = [base64.b64decode(p) for p in proof["path"]]
        merkle.verify_consistency(last.size, new.size, last.root, new.root, path)
    except (OSError, ValueError, KeyError, TypeError, merkle.ProofError) as exc:
        report.problems.append(
            f"split view: checkpoint {new.size} is not proven consistent with checkpoint {last.size} seen before "
            f"({exc})"
        )
        return False
    return True


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
