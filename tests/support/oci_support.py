"""Fixtures and helpers for the OCI tests (tests/sources/test_oci_*.py), loaded as a plugin by the root
conftest (fixture names are prefixed so they shadow nothing of pytest-django's)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from devkit.sandbox.registry import Registry, public_pem, running_registry
from evidence.sources.oci.client import RegistryClient
from evidence.sources.oci.trust import TrustPolicy, load_policy

DATA = Path(__file__).parent / "data"


@dataclass
class Keys:
    """Release keys of the team (trusted) and of someone else (not)."""

    release: ec.EllipticCurvePrivateKey
    release_ed25519: ed25519.Ed25519PrivateKey
    stranger: ec.EllipticCurvePrivateKey
    paths: list[str] = field(default_factory=list)  # PEM files of the trusted public keys

    def policy(self, **kwargs: Any) -> TrustPolicy:
        return load_policy(self.paths, kwargs.get("identities", []), kwargs.get("trusted_root", ""))


@pytest.fixture
def signing_keys(tmp_path: Path) -> Keys:
    k = Keys(
        ec.generate_private_key(ec.SECP256R1()),
        ed25519.Ed25519PrivateKey.generate(),
        ec.generate_private_key(ec.SECP256R1()),
    )
    for name, key in (("release", k.release), ("release-ed25519", k.release_ed25519)):
        path = tmp_path / f"{name}.pub"
        path.write_bytes(public_pem(key))
        k.paths.append(str(path))
    return k


@pytest.fixture(scope="module")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real distribution registry (Debian docker-registry), anonymous, for this test module."""
    with running_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture
def oci_client(oci_registry: Registry) -> RegistryClient:
    return RegistryClient(oci_registry.url)


# -- a registry WITH the OCI 1.1 referrers API (distribution 2.8 has none) --------------------


class ReferrersRegistry:
    """A minimal in-memory registry that answers the referrers API, for the path distribution 2.8
    cannot exercise. Content is added directly; every request path is remembered."""

    def __init__(self) -> None:
        self.manifests: dict[str, tuple[str, bytes]] = {}  # digest or tag -> (media type, bytes)
        self.blobs: dict[str, bytes] = {}
        self.paths: list[str] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                store._answer(self, body=True)

            def do_HEAD(self) -> None:
                store._answer(self, body=False)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return digest

    def add_manifest(self, manifest: dict[str, Any], tag: str = "") -> str:
        raw = json.dumps(manifest).encode()
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        self.manifests[digest] = (manifest["mediaType"], raw)
        if tag:
            self.manifests[tag] = (manifest["mediaType"], raw)
        return digest

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers
    def _answer(self, request: BaseHTTPRequestHandler, body: bool) -> None:
        self.paths.append(request.path)
        parts = request.path.split("?")[0].split("/")
        status, media_type, data = 404, "application/json", b'{"errors":[{"code":"NAME_UNKNOWN"}]}'
        if request.path == "/v2/":
            status, data = 200, b"{}"
        elif "referrers" in parts:
            subject = parts[-1]
            found = []
            for key, (mt, raw) in self.manifests.items():
                doc = json.loads(raw)
                if key.startswith("sha256:") and (doc.get("subject") or {}).get("digest") == subject:
                    found.append(
                        {"mediaType": mt, "digest": key, "size": len(raw), "artifactType": doc.get("artifactType", "")}
                    )
            status, media_type = 200, "application/vnd.oci.image.index.v1+json"
            data = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": found}).encode()
        elif "manifests" in parts and parts[-1] in self.manifests:
            media_type, data = self.manifests[parts[-1]]
            status = 200
        elif "blobs" in parts and parts[-1] in self.blobs:
            status, media_type, data = 200, "application/octet-stream", self.blobs[parts[-1]]
        request.send_response(status)
        request.send_header("Content-Type", media_type)
        request.send_header("Content-Length", str(len(data)))
        if status == 200 and "manifests" in parts:
            request.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())
        request.end_headers()
        if body:
            request.wfile.write(data)


@pytest.fixture
def referrers_registry() -> Iterator[ReferrersRegistry]:
    fake = ReferrersRegistry()
    yield fake
    fake.stop()
