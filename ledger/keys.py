"""The ledger's signing keys: C2SP note keys in files beside LEDGER_SIGNING_KEY.

<file>        the current signer (private, 0600)
<file>.pub    the published verifier keys, one a line, current first; auditors take it away,
              and a key stays in it after it is rotated out, so older checkpoints still verify
<file>.next   a signer made by `rotate_signing_key`, not yet switched to: the next checkpoint
              is signed by both keys, then it becomes <file> (see `complete_rotation`)
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from .note import NoteError, Signer, Verifier, parse_verifiers


class SigningKeyError(RuntimeError):
    """No usable signing key; the message says where it was looked for and what to run."""


def key_path() -> Path:
    return Path(settings.LEDGER_SIGNING_KEY)


def public_key_path() -> Path:
    return key_path().with_name(key_path().name + ".pub")


def next_key_path() -> Path:
    return key_path().with_name(key_path().name + ".next")


def _read_signer(path: Path) -> Signer:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SigningKeyError(f"LEDGER_SIGNING_KEY: no key at {path}; run `manage.py create_signing_key`") from None
    except OSError as exc:
        raise SigningKeyError(f"LEDGER_SIGNING_KEY: cannot read {path}: {exc.strerror}") from None
    try:
        return Signer.parse(text)
    except NoteError as exc:
        raise SigningKeyError(f"LEDGER_SIGNING_KEY: {path}: {exc}") from None


def load_signer() -> Signer:
    return _read_signer(key_path())


def load_signers() -> list[Signer]:
    """Who signs the next checkpoint: the current key, and the next one while a rotation is pending."""
    current = load_signer()
    if not next_key_path().exists():
        return [current]
    return [current, _read_signer(next_key_path())]


def load_verifier() -> Verifier:
    """The current key's verifier (the one that signs from now on)."""
    return load_signer().verifier()


def load_verifiers() -> list[Verifier]:
    """Every published verifier key, current first (a checkpoint verifies with any of them)."""
    current = load_signer().verifier()
    try:
        published = parse_verifiers(public_key_path().read_text())
    except (OSError, NoteError):
        published = []
    rest = [v for v in published if v != current]
    if next_key_path().exists():
        pending = _read_signer(next_key_path()).verifier()
        rest = [pending, *(v for v in rest if v != pending)]
    return [current, *rest]


def _write_private(path: Path, signer: Signer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.encode() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _write_public(verifiers: list[Verifier]) -> None:
    tmp = public_key_path().with_name(public_key_path().name + ".tmp")
    tmp.write_text("".join(v.encode() + "\n" for v in verifiers))
    os.replace(tmp, public_key_path())


def create_signing_key(name: str, force: bool = False) -> tuple[Path, Path, Signer]:
    path = key_path()
    if path.exists() and not force:
        raise SigningKeyError(f"LEDGER_SIGNING_KEY: {path} exists; pass --force to replace it")
    signer = Signer.generate(name)
    _write_private(path, signer)
    _write_public([signer.verifier()])
    next_key_path().unlink(missing_ok=True)
    return path, public_key_path(), signer


def rotate_signing_key(name: str | None = None) -> Signer:
    """Make the next key and publish it; the next checkpoint is signed by both, then only by it."""
    current = load_signer()
    if next_key_path().exists():
        raise SigningKeyError(f"a rotation is already pending ({next_key_path()}); sign a checkpoint to finish it")
    signer = Signer.generate(name or current.name)
    _write_private(next_key_path(), signer)
    _write_public([v for v in load_verifiers()])  # current, the new one, then the retired ones
    return signer


def complete_rotation(switched_to: Signer) -> None:
    """After the checkpoint signed by both keys committed: the next key becomes the current one."""
    path = next_key_path()
    if not path.exists() or _read_signer(path).key_id != switched_to.key_id:
        return
    new = switched_to.verifier()
    _write_public([new, *(v for v in load_verifiers() if v != new)])
    os.replace(path, key_path())  # the old private key is gone; its public half stays published
