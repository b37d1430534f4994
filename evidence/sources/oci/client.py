"""A small OCI distribution registry client over `requests`: manifests, blobs, tags, referrers.

Auth: anonymous, HTTP basic, and the bearer-token flow (a 401 with `WWW-Authenticate: Bearer
realm=..,service=..,scope=..` -> GET the realm with basic credentials if any -> retry with the
token), as Docker Hub, GHCR, Harbor and distribution's token auth do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from evidence.sources.oci.reference import DIGEST, referrers_tag

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit
MAX_BLOB_BYTES = 8 * 1024 * 1024  # signature payloads, envelopes and bundles are a few KiB
CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(RuntimeError):
    """The registry could not answer; the message says what and where (never a credential)."""


class NotFound(RegistryError):
    """404 for a manifest, blob or tag: the registry answered that it does not have it."""


class Unreachable(RegistryError):
    """No HTTP answer at all (refused, reset, timed out)."""


@dataclass(frozen=True)
class Manifest:
    digest: str  # sha256 of the exact bytes served
    media_type: str
    raw: bytes
    body: dict[str, Any]


@dataclass
class RegistryClient:
    """One registry; `credential` is `user:password` (basic, and for the token realm) or a bare token."""

    base_url: str
    credential: str = ""
    timeout: float = 10.0
    session: requests.Session = field(default_factory=requests.Session)
    requests_made: int = 0
    _tokens: dict[str, str] = field(default_factory=dict)
    _basic: bool = False  # the registry asked for basic auth once; send it up front from now on

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session.headers["User-Agent"] = "evidence-ledger-oci/1"

    @property
    def host(self) -> str:
        """host[:port] as used in ledger subjects."""
        return urlsplit(self.base_url).netloc

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#determining-support
    def ping(self) -> None:
        """Check that an OCI distribution API answers at /v2/ (401 counts: auth comes later)."""
        response = self._request("GET", "/v2/", scope="")
        if response.status_code not in (200, 401):
            raise RegistryError(f"{self.base_url}/v2/: HTTP {response.status_code}, not an OCI registry API")

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest at a tag or digest; a digest reference must match the bytes served."""
        response = self._request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        where = f"{repository}:{reference}" if not DIGEST.match(reference) else f"{repository}@{reference}"
        self._raise_for(response, f"manifest {where}")
        raw = response.content
        if len(raw) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"manifest {where}: {len(raw)} bytes is over {MAX_MANIFEST_BYTES}")
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if DIGEST.match(reference) and digest != reference:
            raise RegistryError(f"manifest {where}: registry served bytes with digest {digest}")
        try:
            body = response.json()
        except ValueError:
            raise RegistryError(f"manifest {where}: not JSON") from None
        if not isinstance(body, dict):
            raise RegistryError(f"manifest {where}: not a JSON object")
        media_type = body.get("mediaType") or response.headers.get("Content-Type", "").split(";")[0]
        return Manifest(digest, media_type, raw, body)

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#checking-if-content-exists-in-the-registry
    def resolve(self, repository: str, tag: str) -> str:
        """The digest a tag points at now (HEAD; registries send Docker-Content-Digest)."""
        response = self._request(
            "HEAD",
            f"/v2/{repository}/manifests/{tag}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        self._raise_for(response, f"manifest {repository}:{tag}")
        digest = response.headers.get("Docker-Content-Digest", "")
        return digest if DIGEST.match(digest) else self.get_manifest(repository, tag).digest

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-blobs
    def get_blob(self, repository: str, digest: str, max_bytes: int = MAX_BLOB_BYTES) -> bytes:
        """A blob's bytes as served, NOT checked against the digest: callers judge a mismatch."""
        response = self._request(
            "GET", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull", stream=True
        )
        self._raise_for(response, f"blob {repository}@{digest}")
        data: bytes = response.raw.read(max_bytes + 1, decode_content=True)
        response.close()
        if len(data) > max_bytes:
            raise RegistryError(f"blob {repository}@{digest}: over {max_bytes} bytes")
        return data

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags
    def list_tags(self, repository: str, page_size: int = 1000, limit: int = 10000) -> list[str]:
        """Every tag of a repository, following `Link: <...>; rel="next"` pages."""
        tags: list[str] = []
        path = f"/v2/{repository}/tags/list?n={page_size}"
        while path and len(tags) < limit:
            response = self._request("GET", path, scope=f"repository:{repository}:pull")
            self._raise_for(response, f"tags of {repository}")
            tags.extend(response.json().get("tags") or [])
            path = response.links.get("next", {}).get("url", "")
        return tags

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers
    def referrers(self, repository: str, digest: str) -> tuple[str, list[dict[str, Any]]]:
        """Descriptors of manifests whose `subject` is digest, and how they were found.

        Uses the referrers API; a 404 there means the registry has none (distribution 2.x), so
        the spec's fallback applies: the image index at tag sha256-<hex>, if one was pushed.
        """
        response = self._request("GET", f"/v2/{repository}/referrers/{digest}", scope=f"repository:{repository}:pull")
        content_type = response.headers.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith(INDEX_TYPE):
            return "referrers-api", list(response.json().get("manifests") or [])
        if response.status_code not in (404, 405):
            self._raise_for(response, f"referrers of {repository}@{digest}")
        try:
            index = self.get_manifest(repository, referrers_tag(digest))
        except NotFound:
            return "tag-schema", []
        return "tag-schema", list(index.body.get("manifests") or [])

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#post-then-put
    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload a blob (POST then PUT, monolithic); return its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        scope = f"repository:{repository}:pull,push"
        response = self._request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope)
        self._raise_for(response, f"upload to {repository}")
        location = urljoin(self.base_url + "/", response.headers["Location"])
        separator = "&" if "?" in location else "?"
        response = self._request(
            "PUT",
            f"{location}{separator}digest={digest}",
            scope=scope,
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        self._raise_for(response, f"blob {repository}@{digest}")
        return digest

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests
    def push_manifest(self, repository: str, reference: str, raw: bytes, media_type: str) -> str:
        """Put a manifest at a tag or digest; return the digest of its bytes."""
        response = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull,push",
            data=raw,
            headers={"Content-Type": media_type},
        )
        self._raise_for(response, f"manifest {repository}:{reference}")
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def _request(self, method: str, path: str, *, scope: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base_url + path
        headers = dict(kwargs.pop("headers", {}))
        token = self._tokens.get(scope)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif self.credential and ":" not in self.credential:
            headers["Authorization"] = f"Bearer {self.credential}"
        if self._basic:
            kwargs["auth"] = self._basic_auth()
        response = self._send(method, url, headers, kwargs)
        if response.status_code != 401:
            return response
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic" and ":" in self.credential and not self._basic:
            self._basic = True
            return self._send(method, url, headers, {**kwargs, "auth": self._basic_auth()})
        if scheme == "bearer":
            headers["Authorization"] = f"Bearer {self._fetch_token(challenge, scope)}"
            return self._send(method, url, headers, kwargs)
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> requests.Response:
        self.requests_made += 1
        try:
            return self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as exc:
            reason = type(exc.__context__ or exc).__name__
            raise Unreachable(f"{self.base_url}: no answer ({reason})") from None
        except requests.Timeout:
            raise Unreachable(f"{self.base_url}: timed out after {self.timeout}s") from None

    # Reference: https://distribution.github.io/distribution/spec/auth/token/
    def _fetch_token(self, challenge: str, scope: str) -> str:
        """Ask the realm named in the challenge for a token for this scope."""
        params = dict(CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", "")
        if not realm.startswith(("http://", "https://")):
            raise RegistryError(f"{self.base_url}: bearer challenge without a usable realm")
        query = {"service": params.get("service", "")}
        if params.get("scope") or scope:
            query["scope"] = params.get("scope") or scope
        auth = self._basic_auth() if ":" in self.credential else None
        self.requests_made += 1
        try:
            response = self.session.get(realm, params=query, auth=auth, timeout=self.timeout)
        except requests.RequestException as exc:
            raise Unreachable(f"token service {realm}: no answer ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise RegistryError(f"token service {realm}: refused (HTTP {response.status_code}), check the credential")
        if response.status_code != 200:
            raise RegistryError(f"token service {realm}: HTTP {response.status_code}")
        body = response.json()
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"token service {realm}: answer has no token")
        self._tokens[scope] = token
        return token

    def _basic_auth(self) -> tuple[str, str]:
        user, _, password = self.credential.partition(":")
        return user, password

    def _raise_for(self, response: requests.Response, what: str) -> None:
        if response.status_code < 300:
            return
        if response.status_code == 404:
            raise NotFound(f"{what}: not found at {self.base_url}")
        if response.status_code in (401, 403):
            raise RegistryError(f"{what}: access denied by {self.base_url} (HTTP {response.status_code})")
        raise RegistryError(f"{what}: HTTP {response.status_code} from {self.base_url}")
