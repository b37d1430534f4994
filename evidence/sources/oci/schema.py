"""What an oci source's config may hold (README "Sources as code"); the harvester checks the values."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from evidence.sources.schemas import SourceConfig


class TrustedIdentity(BaseModel):
    """A keyless signer: OIDC issuer (exact) and certificate subject (glob, or a full-match regex)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    subject: str = ""
    subject_regex: str = ""


class OciConfig(SourceConfig):
    images: list[str] = Field(default_factory=list)  # repo, repo:tag or repo@sha256:<hex> on the registry
    include_deployed: bool = False  # also every digest on this registry that a deployment names
    max_tags: PositiveInt = 200
    timeout: PositiveFloat = 10  # seconds per registry request
    trusted_keys: list[str] = Field(default_factory=list)  # paths of PEM public keys
    trusted_identities: list[TrustedIdentity] = Field(default_factory=list)
    trusted_root: str = ""  # Sigstore trusted root (JSON) for keyless bundles
    github_repositories: list[str] = Field(default_factory=list)  # read their artifact attestations
    github_api_url: str = ""
    github_credential_env: str = ""
