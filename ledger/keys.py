"""The ledger's signing key: a C2SP note key in the file named by LEDGER_SIGNING_KEY.

The public (verifier) key sits beside it in <file>.pub, for auditors to take away.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from .note import NoteError, Signer, Verifier


class SigningKeyError(RuntimeError):
    """No usable signing key; the message says where it was looked for and what to run."""


def key_path() -> Path:
    return Path(settings.LEDGER_SIGNING_KEY)


def public_key_path() -> Path:
    return key_path().with_name(key_path().name + ".pub")


def load_signer() -> Signer:
    path = key_path()
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


def load_verifier() -> Verifier:
    return load_signer().verifier()


def create_signing_key(name: str, force: bool = False) -> tuple[Path, Path, Signer]:
    path = key_path()
    if path.exists() and not force:
        raise SigningKeyError(f"LEDGER_SIGNING_KEY: {path} exists; pass --force to replace it")
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.encode() + "\n")
    public_key_path().write_text(signer.verifier().encode() + "\n")
    return path, public_key_path(), signer
