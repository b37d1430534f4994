"""Image references, digests and the tag names cosign and OCI 1.1 derive from a digest."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Tags that hold signatures, attestations, SBOMs or the OCI 1.1 referrers fallback index, not images.
ARTEFACT_TAG = re.compile(r"^sha256-[0-9a-f]{64}(\.[a-z]+)?$")
REPOSITORY = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


class ImageSpecError(ValueError):
    """A reference that cannot name an image; the message says which and why."""


@dataclass(frozen=True)
class ImageSpec:
    """What a source watches in one repository: every tag, one tag, or one digest."""

    repository: str
    tag: str | None = None
    digest: str | None = None


def parse_image_spec(text: str) -> ImageSpec:
    """`repo`, `repo:tag` or `repo@sha256:<hex>` (the registry is the source's url)."""
    if not isinstance(text, str) or not text.strip():
        raise ImageSpecError("image: expected a repository, repository:tag or repository@sha256:<hex>")
    text = text.strip()
    repository, digest, tag = text, None, None
    if "@" in text:
        repository, _, digest = text.partition("@")
        if not DIGEST.match(digest):
            raise ImageSpecError(f"image {text!r}: digest must be sha256:<64 hex>")
    elif ":" in text.rsplit("/", 1)[-1]:
        repository, _, tag = text.rpartition(":")
    if not REPOSITORY.match(repository):
        raise ImageSpecError(f"image {text!r}: {repository!r} is not a repository name")
    return ImageSpec(repository, tag, digest)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def signature_tag(digest: str) -> str:
    """cosign's tag for signatures of a digest: sha256-<hex>.sig."""
    return digest.replace(":", "-") + ".sig"


def attestation_tag(digest: str) -> str:
    """cosign's tag for attestations of a digest: sha256-<hex>.att."""
    return digest.replace(":", "-") + ".att"


def referrers_tag(digest: str) -> str:
    """OCI 1.1 referrers tag schema: the index of referrers lives at sha256-<hex>."""
    return digest.replace(":", "-")


def subject_for(registry: str, repository: str, digest: str) -> str:
    """Ledger subject of an artifact: oci:<registry>/<repository>@sha256:<hex>."""
    return f"oci:{registry}/{repository}@{digest}"
