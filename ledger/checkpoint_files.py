"""Checkpoints held outside the database: one signed note a file, and reading them back.

Every checkpoint the ledger signs is also written to LEDGER_CHECKPOINT_DIR as `<size>.note`,
created once and never overwritten, plus `latest` (a copy of the newest note, replaced atomically).
Whoever rolls the database back or deletes checkpoint rows cannot also make these files agree
without touching a second place; copy the directory off the host (or run `manage.py monitor`
elsewhere) to make that a second machine. `verify_ledger --checkpoints` compares the database
with such a copy: a directory of notes, a file of notes one after another, or an http(s) URL
serving them (such as /api/v1/checkpoints/notes/ of a mirror).
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from .note import Checkpoint, NoteError, split_notes

LATEST = "latest"
FETCH_TIMEOUT = 30
API_PAGE = 1000  # ledger.api.CheckpointNotes.LIMIT


class CheckpointFileError(RuntimeError):
    """A checkpoint file cannot be written (or a different note is already held for that size)."""


def checkpoint_dir() -> Path:
    return Path(settings.LEDGER_CHECKPOINT_DIR)


def note_path(size: int) -> Path:
    return checkpoint_dir() / f"{size}.note"


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointFileError(f"LEDGER_CHECKPOINT_DIR: cannot read {path}: {exc.strerror}") from None


def read_note(size: int) -> str | None:
    return _read(note_path(size))


def read_latest() -> str | None:
    return _read(checkpoint_dir() / LATEST)


def write_note(size: int, note: str) -> None:
    """Create `<size>.note` with the note, whole or not at all; never replace a different one."""
    directory = checkpoint_dir()
    final = note_path(size)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{size}.{os.getpid()}.tmp"
        _write_synced(tmp, note)
        try:
            os.link(tmp, final)  # fails if the name exists: create-only, and never half-written
        except FileExistsError:
            if final.read_text() != note:
                raise CheckpointFileError(
                    f"{final} holds a different checkpoint for size {size}; refusing to replace it"
                ) from None
        finally:
            tmp.unlink(missing_ok=True)
        tmp = directory / f".{LATEST}.{os.getpid()}.tmp"
        _write_synced(tmp, note)
        os.replace(tmp, directory / LATEST)
        _sync_dir(directory)
    except OSError as exc:
        raise CheckpointFileError(f"LEDGER_CHECKPOINT_DIR: cannot write {final}: {exc.strerror}") from None


def _write_synced(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_notes(source: str, token: str = "") -> list[tuple[str, str]]:
    """(where, note) for every signed note at source: a directory of *.note files, a file, or a URL.

    A URL is read as one bundle of notes; the ledger API's /checkpoints/notes/ is read page by page.
    """
    if source.startswith(("http://", "https://")):
        return [(source, note) for note in _fetch_notes(source, token)]
    path = Path(source)
    if path.is_dir():
        found = []
        for item in sorted(path.glob("*.note"), key=lambda p: (len(p.name), p.name)):
            found += [(str(item), note) for note in split_notes(item.read_text())]
        return found
    if path.is_file():
        return [(str(path), note) for note in split_notes(path.read_text())]
    raise NoteError(f"{source}: no such file, directory or http(s) URL")


def _fetch_notes(url: str, token: str) -> list[str]:
    notes = split_notes(fetch_text(url, token))
    if not urlsplit(url).path.endswith("/checkpoints/notes/") or urlsplit(url).query:
        return notes
    page = notes
    while len(page) >= API_PAGE:  # the API serves at most API_PAGE notes an answer, in size order
        last = Checkpoint.parse(page[-1].rpartition("\n\n")[0] + "\n").size
        page = split_notes(fetch_text(f"{url}?after={last}", token))
        notes += page
    return notes


def fetch_text(url: str, token: str = "") -> str:
    """GET url (loopback in tests); a non-2xx answer raises OSError naming the status."""
    if not url.startswith(("http://", "https://")):
        raise OSError(f"{url}: only http(s) URLs are fetched")
    request = urllib.request.Request(url, headers={"Accept": "text/plain, application/json"})  # noqa: S310
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 -- http(s) only, checked by callers
        return str(response.read().decode("utf-8"))
