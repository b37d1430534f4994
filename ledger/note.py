"""C2SP signed notes with Ed25519, and C2SP tlog-checkpoint bodies.

Django-free: standard library and `cryptography` only, so the offline verifier carries it as is.
Key formats are those of golang.org/x/mod/sumdb/note, which C2SP signed-note describes:
  signer   PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>
  verifier <name>+<key id hex>+<base64(0x01 || 32-byte public key)>
key id = first 4 bytes of SHA-256(<name> || "\n" || 0x01 || public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space


class NoteError(ValueError):
    """A malformed key, note or checkpoint, or a signature that does not verify."""


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without '+' or white space")


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("verifier key must look like <name>+<key id>+<base64 key>")
        name, hexid, b64 = parts
        _check_name(name)
        try:
            key_id = bytes.fromhex(hexid)
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"verifier key is not well encoded: {exc}") from None
        if len(key_id) != 4 or len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("verifier key is not an Ed25519 note key")
        if _key_id(name, raw[1:]) != key_id:
            raise NoteError("verifier key id does not match its name and key")
        return cls(name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def encode(self) -> str:
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([ED25519]) + raw).decode()}"

    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, hex: what a person compares by eye."""
        return hashlib.sha256(self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def parse_verifiers(text: str) -> list[Verifier]:
    """Verifier keys, one a line (blank lines and '#' comments skipped): a log's published keys."""
    keys = [Verifier.parse(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise NoteError("no verifier key in the text")
    return keys


@dataclass(frozen=True)
class Signer:
    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(name, _key_id(name, public), key)

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("signer key must look like PRIVATE+KEY+<name>+<key id>+<base64 key>")
        name, hexid, b64 = parts[2:]
        _check_name(name)
        try:
            key_id = bytes.fromhex(hexid)
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"signer key is not well encoded: {exc}") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("signer key is not an Ed25519 note key")
        key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if _key_id(name, public) != key_id:
            raise NoteError("signer key id does not match its name and key")
        return cls(name, key_id, key)

    def encode(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([ED25519]) + seed).decode()}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.private_key.public_key())

    def sign(self, text: str) -> str:
        """The signed note: text, a blank line, and this signer's signature line."""
        _check_text(text)
        signature = self.private_key.sign(text.encode())
        line = base64.b64encode(self.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {line}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end with a newline and contain no blank line")


def open_note(note: str, verifiers: Sequence[Verifier]) -> str:
    """Return the note's text if at least one signature verifies with a known key, else raise."""
    text, _ = _open(note, verifiers)
    return text


def note_signers(note: str, verifiers: Sequence[Verifier]) -> list[Verifier]:
    """The known keys whose signatures on the note verify (raise if none does, or one fails)."""
    return _open(note, verifiers)[1]


def _open(note: str, verifiers: Sequence[Verifier]) -> tuple[str, list[Verifier]]:
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise NoteError("note has no signature block")
    text += "\n"
    _check_text(text)
    if not signatures.endswith("\n"):
        raise NoteError("note does not end with a newline")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise NoteError(f"signature by {name} is not base64") from None
        if len(raw) < 5:
            raise NoteError(f"signature by {name} is too short")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue  # signatures by keys we do not know are allowed and ignored
        try:
            verifier.public_key.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"signature by {name} ({raw[:4].hex()}) does not verify") from None
        verified.append(verifier)
    if not verified:
        raise NoteError("no signature by a known key")
    return text, verified


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note with one signature line per signer, in the order given (a key switch: two)."""
    if not signers:
        raise NoteError("a note needs at least one signer")
    first = signers[0].sign(text)
    return first + "".join(s.sign(text).rpartition("\n\n")[2] for s in signers[1:])


def split_notes(text: str) -> list[str]:
    """Signed notes written one after another, each followed by a blank line (a bundle) -> the notes."""
    notes: list[str] = []
    body: list[str] = []
    signatures: list[str] = []
    for line in text.split("\n"):
        if signatures and not line.startswith(SIGNATURE_PREFIX):
            notes.append("\n".join(body) + "\n\n" + "\n".join(signatures) + "\n")
            body, signatures = [], []
        if line.startswith(SIGNATURE_PREFIX) and body:
            signatures.append(line)
        elif line:
            body.append(line)
    if signatures:
        notes.append("\n".join(body) + "\n\n" + "\n".join(signatures) + "\n")
    elif body:
        raise NoteError("bundle ends with a note that has no signature")
    return notes


def join_notes(notes: Sequence[str]) -> str:
    """A bundle: each note followed by a blank line (split_notes reads it back)."""
    return "".join(note + "\n" for note in notes)


@dataclass(frozen=True)
class Checkpoint:
    """C2SP tlog-checkpoint body: origin, tree size, root hash (and optional extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("checkpoint needs origin, size and root lines")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin:
            raise NoteError("checkpoint origin is empty")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise NoteError("checkpoint root is not base64") from None
        if len(root) != 32:
            raise NoteError("checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size_text), root, tuple(lines[3:-1]))


def verify_checkpoint(note: str, verifier: Verifier | Sequence[Verifier], origin: str | None = None) -> Checkpoint:
    """Open a signed checkpoint with a key (or any of several: a rotated log); optionally insist on its origin."""
    checkpoint = Checkpoint.parse(open_note(note, [verifier] if isinstance(verifier, Verifier) else verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
