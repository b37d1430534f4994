"""A real OCI registry on loopback: Debian's `docker-registry` (distribution 2.8) in a temp dir.

Used by the tests, `bench/artifacts.py` and the demo:

    with running_registry(tmp_path) as registry:          # anonymous
        client = RegistryClient(registry.url)
        image = publish_signed_image(client, "acme/payments", "v1", key)

Auth variants: `htpasswd={"alice": "secret"}` (basic) or `token_server=TokenServer(...)` (the
401 -> token realm -> bearer flow, as Docker Hub does). The registry listens on port 0; its log
says which port it got. Distribution 2.8 has no OCI 1.1 referrers API (it answers 404), so
referrers are published with the spec's tag-schema fallback (an index at tag sha256-<hex>).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from evidence.sources.oci.client import RegistryClient
from evidence.sources.oci.reference import attestation_tag, referrers_tag, signature_tag

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
COSIGN_SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO = "application/vnd.in-toto+json"
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class SandboxError(RuntimeError):
    """The sandbox registry could not start; the message says why."""


def registry_binary() -> str:
    path = shutil.which("docker-registry") or shutil.which("registry")
    if not path:
        raise SandboxError("docker-registry not found: apt-get install -y docker-registry")
    return path


@dataclass
class Registry:
    url: str
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def blob_path(self, digest: str) -> Path:
        """Where distribution's filesystem driver keeps a blob (tests alter it to play an attacker)."""
        hex_ = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_registry(
    root: Path,
    *,
    htpasswd: dict[str, str] | None = None,
    token_server: TokenServer | None = None,
    port: int = 0,
) -> Registry:
    """Start `docker-registry serve` on 127.0.0.1:port (0: any) with storage under root; wait until it answers."""
    root.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "storage")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    if htpasswd:
        import bcrypt

        lines = [
            f"{user}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode()}" for user, pw in htpasswd.items()
        ]
        (root / "htpasswd").write_text("\n".join(lines) + "\n")
        config["auth"] = {"htpasswd": {"realm": "sandbox", "path": str(root / "htpasswd")}}
    elif token_server:
        bundle = root / "token-ca.pem"
        bundle.write_bytes(token_server.certificate_pem)
        config["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(bundle),
            }
        }
    (root / "config.yml").write_text(json.dumps(config))  # JSON is YAML
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        [registry_binary(), "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        match = LISTENING.search((root / "registry.log").read_text(errors="replace"))
        if match:
            return Registry(f"http://127.0.0.1:{match.group(1)}", root, process)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    tail = (root / "registry.log").read_text(errors="replace")[-500:]
    raise SandboxError(f"docker-registry did not start: {tail}")


@contextmanager
def running_registry(root: Path, **kwargs: Any) -> Iterator[Registry]:
    registry = start_registry(root, **kwargs)
    try:
        yield registry
    finally:
        registry.stop()


# -- token server ------------------------------------------------------------------------------


@dataclass
class TokenServer:
    """The Docker token service on loopback: checks basic credentials, issues ES256 JWTs (x5c)."""

    users: dict[str, str] = field(default_factory=dict)  # empty: anonymous tokens for anyone
    service: str = "sandbox-registry"
    issuer: str = "sandbox-token-issuer"
    issued: int = 0
    refused: int = 0

    def __post_init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sandbox token signer")])
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/token"

    @property
    def certificate_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # Reference: https://distribution.github.io/distribution/spec/auth/jwt/
    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        import jwt

        query = parse_qs(urlsplit(request.path).query)
        subject = ""
        if self.users:
            header = request.headers.get("Authorization", "")
            user, _, password = (
                base64.b64decode(header[6:] or b"").decode().partition(":")
                if header.startswith("Basic ")
                else ("", "", "")
            )
            if not user or self.users.get(user) != password:
                self.refused += 1
                request.send_response(401)
                request.end_headers()
                return
            subject = user
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        x5c = [base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()]
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"x5c": x5c})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.issued += 1
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


# -- publishing images, signatures and attestations ------------------------------------------


@dataclass(frozen=True)
class Published:
    repository: str
    digest: str
    manifest: bytes
    signature_manifest: str = ""
    attestation_manifest: str = ""


def sign(key: SigningKey, message: bytes) -> bytes:
    """cosign's keyed signing: ECDSA P-256 over SHA-256 (DER), or pure Ed25519."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def public_pem(key: SigningKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def self_signed_certificate(key: ec.EllipticCurvePrivateKey, email: str) -> str:
    """A PEM certificate naming email as its SAN, as cosign attaches next to a signature."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(minutes=10))
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def push_image(client: RegistryClient, repository: str, tag: str | None, content: bytes) -> Published:
    """A minimal OCI image (one config, one layer), at tag if given."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    config_digest = client.push_blob(repository, config.encode())
    layer_digest = client.push_blob(repository, content)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config),
        },
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(content)}
        ],
    }
    raw = json.dumps(manifest, indent=2).encode()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    client.push_manifest(repository, tag or digest, raw, OCI_MANIFEST)
    return Published(repository, digest, raw)


def simple_signing_payload(repository: str, digest: str) -> bytes:
    """The payload `cosign sign` writes (critical.image.docker-manifest-digest names the image)."""
    doc = {
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": None,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def push_signature(
    client: RegistryClient,
    repository: str,
    digest: str,
    key: SigningKey | None,
    *,
    payload: bytes | None = None,
    signature: bytes | None = None,
    annotations: dict[str, str] | None = None,
    referrer: bool = False,
) -> str:
    """A cosign signature manifest for digest: at tag sha256-<hex>.sig, or as an OCI 1.1 referrer
    (subject set, listed in the fallback index) when referrer=True. Returns the manifest digest."""
    payload = payload if payload is not None else simple_signing_payload(repository, digest)
    if signature is None and key is not None:
        signature = sign(key, payload)
    layer_annotations = dict(annotations or {})
    if signature is not None:
        layer_annotations.setdefault("dev.cosignproject.cosign/signature", base64.b64encode(signature).decode())
    payload_digest = client.push_blob(repository, payload)
    layer = {
        "mediaType": SIMPLE_SIGNING,
        "digest": payload_digest,
        "size": len(payload),
        "annotations": layer_annotations,
    }
    config_type = COSIGN_SIG_ARTIFACT if referrer else "application/vnd.oci.image.config.v1+json"
    return push_artifact(client, repository, digest, config_type, [layer], referrer, signature_tag(digest))


def dsse_envelope(statement: dict[str, Any], key: SigningKey, keyid: str = "") -> bytes:
    from evidence.sources.oci.signatures import pae

    body = json.dumps(statement, separators=(",", ":")).encode()
    signature = sign(key, pae(IN_TOTO, body))
    envelope = {
        "payloadType": IN_TOTO,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}],
    }
    return json.dumps(envelope).encode()


def slsa_provenance(
    digests: list[str],
    *,
    repository: str = "https://github.com/acme/payments",
    commit: str = "c0ffee" * 6 + "c0ff",
    builder_id: str = "https://github.com/actions/runner/github-hosted",
    invocation_id: str = "https://github.com/acme/payments/actions/runs/1/attempts/1",
    ref: str = "refs/heads/main",
) -> dict[str, Any]:
    """An in-toto Statement v1 with SLSA provenance v1, shaped as GitHub Actions writes it."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "image", "digest": {"sha256": d.split(":", 1)[1]}} for d in digests],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {"ref": ref, "repository": repository, "path": ".github/workflows/release.yml"}
                },
                "resolvedDependencies": [{"uri": f"git+{repository}@{ref}", "digest": {"gitCommit": commit}}],
            },
            "runDetails": {"builder": {"id": builder_id}, "metadata": {"invocationId": invocation_id}},
        },
    }


def push_attestation(
    client: RegistryClient,
    repository: str,
    digest: str,
    envelope: bytes,
    *,
    referrer: bool = False,
    predicate_type: str = "https://slsa.dev/provenance/v1",
) -> str:
    """A DSSE attestation: cosign's .att tag layout, or an in-toto OCI 1.1 referrer."""
    blob_digest = client.push_blob(repository, envelope)
    layer = {
        "mediaType": DSSE_ENVELOPE,
        "digest": blob_digest,
        "size": len(envelope),
        "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": predicate_type},
    }
    config_type = IN_TOTO if referrer else "application/vnd.oci.image.config.v1+json"
    return push_artifact(client, repository, digest, config_type, [layer], referrer, attestation_tag(digest))


def push_bundle(client: RegistryClient, repository: str, digest: str, bundle: bytes) -> str:
    """A Sigstore bundle as an OCI 1.1 referrer (cosign v3 layout)."""
    blob_digest = client.push_blob(repository, bundle)
    layer = {"mediaType": BUNDLE_V03, "digest": blob_digest, "size": len(bundle)}
    return push_artifact(client, repository, digest, BUNDLE_V03, [layer], True, "")


def push_artifact(
    client: RegistryClient,
    repository: str,
    digest: str,
    config_type: str,
    layers: list[dict[str, Any]],
    referrer: bool,
    tag: str,
) -> str:
    """An artifact manifest about digest: at tag, or (referrer=True) with `subject` set and listed
    in the referrers fallback index. Returns the manifest digest."""
    config = b"{}"
    config_digest = client.push_blob(repository, config)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type if not referrer else EMPTY_CONFIG, "digest": config_digest, "size": 2},
        "layers": layers,
    }
    if referrer:
        subject = client.get_manifest(repository, digest)
        manifest["artifactType"] = config_type
        manifest["subject"] = {"mediaType": subject.media_type, "digest": digest, "size": len(subject.raw)}
    raw = json.dumps(manifest).encode()
    manifest_digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    client.push_manifest(repository, manifest_digest if referrer else tag, raw, OCI_MANIFEST)
    if referrer:
        _add_to_referrers_index(client, repository, digest, manifest_digest, len(raw), config_type)
    return manifest_digest


# Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#referrers-tag-schema
def _add_to_referrers_index(
    client: RegistryClient, repository: str, digest: str, manifest_digest: str, size: int, artifact_type: str
) -> None:
    from evidence.sources.oci.client import NotFound

    try:
        index = client.get_manifest(repository, referrers_tag(digest)).body
    except NotFound:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    index["manifests"].append(
        {"mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": size, "artifactType": artifact_type}
    )
    client.push_manifest(repository, referrers_tag(digest), json.dumps(index).encode(), OCI_INDEX)


def publish_signed_image(
    client: RegistryClient,
    repository: str,
    tag: str,
    key: SigningKey,
    *,
    content: bytes | None = None,
    commit: str = "c0ffee" * 6 + "c0ff",
    source_repo: str = "https://github.com/acme/payments",
) -> Published:
    """An image at tag with a cosign signature (.sig tag) and SLSA v1 provenance (.att tag), both by key."""
    image = push_image(client, repository, tag, content or f"{repository}:{tag}".encode())
    signature = push_signature(client, repository, image.digest, key)
    envelope = dsse_envelope(slsa_provenance([image.digest], repository=source_repo, commit=commit), key)
    attestation = push_attestation(client, repository, image.digest, envelope)
    return Published(repository, image.digest, image.manifest, signature, attestation)


@dataclass(frozen=True)
class DemoRegistry:
    registry: Registry
    digest: str
    source: dict[str, Any]  # a sources-file entry (kind oci) that trusts the demo key


def start_demo_registry(
    root: Path,
    *,
    name: str = "demo-registry",
    repository: str = "acme/payments",
    tag: str = "1.4.0",
    commit: str = "deadbeef" * 5,
    source_repo: str = "https://github.com/acme/payments",
) -> DemoRegistry:
    """For the demo: a running registry holding one image signed by a fresh key, with SLSA provenance
    naming commit, and the source entry that trusts that key. Call `.registry.stop()` when done."""
    registry = start_registry(root / "registry")
    key = ec.generate_private_key(ec.SECP256R1())
    (root / "release.pub").write_bytes(public_pem(key))
    client = RegistryClient(registry.url)
    image = publish_signed_image(client, repository, tag, key, commit=commit, source_repo=source_repo)
    source = {
        "name": name,
        "kind": "oci",
        "url": registry.url,
        "images": [repository],
        "trusted_keys": [str(root / "release.pub")],
    }
    return DemoRegistry(registry, image.digest, source)
