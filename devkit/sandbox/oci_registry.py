"""The OCI distribution API served from the devkit, for machines without Debian's `docker-registry`.

    with BuiltinRegistry(root).start() as registry:       # anonymous, on 127.0.0.1
        client = RegistryClient(registry.url)
        image = publish_signed_image(client, "acme/payments", "v1", key)

Development only: the demo falls back to it when `docker-registry` is not on the PATH (the tests
keep using the real one). It answers exactly what `RegistryClient`, the publish helpers in
`devkit.sandbox.registry` and the OCI harvester ask, as distribution 2.8 answers it:

    GET  /v2/                                   200 {} (ping)
    POST /v2/<name>/blobs/uploads/              202, Location of the upload session
    PATCH /v2/<name>/blobs/uploads/<id>         202, Range 0-<last byte> (416 out of order)
    PUT  /v2/<name>/blobs/uploads/<id>?digest=  201, Docker-Content-Digest (400 DIGEST_INVALID)
    HEAD|GET /v2/<name>/blobs/<digest>          200 (404 BLOB_UNKNOWN)
    PUT  /v2/<name>/manifests/<tag|digest>      201, Docker-Content-Digest (400 on a bad manifest)
    HEAD|GET /v2/<name>/manifests/<tag|digest>  200 with the stored bytes (404 MANIFEST_UNKNOWN)
    GET  /v2/<name>/tags/list?n=&last=          200 {name, tags}, Link rel="next" (404 NAME_UNKNOWN)
    GET  /v2/<name>/referrers/<digest>          404: distribution 2.8 has no referrers API, so
                                                clients use the tag-schema fallback

Storage uses distribution's filesystem layout under `root/storage` (blobs by digest, per-repository
links for layers, manifest revisions and tags), so what a run stored is served byte for byte by
the next one, by either registry. Nothing is kept in memory but upload sessions' names.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_TYPES = (OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json")
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's limit
# Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
ROUTES = (
    ("ping", re.compile(r"/v2/")),
    ("tags", re.compile(r"/v2/(?P<name>.+)/tags/list")),
    ("manifest", re.compile(r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)")),
    ("upload", re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<session>[^/]*)")),
    ("blob", re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)")),
)


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


# Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
def error(status: int, code: str, message: str, detail: Any = None) -> Answer:
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()
    return Answer(status, body, {"Content-Type": "application/json"})


def media_type_of(body: dict[str, Any]) -> str:
    """What distribution serves a stored manifest as: its own mediaType, else index or image by shape."""
    declared = body.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    return OCI_INDEX if "manifests" in body else OCI_MANIFEST


class BuiltinRegistry:
    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root
        self.port = port  # 0: an ephemeral port; the demo fixes one so its URLs stay the same across runs
        self.requests: list[tuple[str, str]] = []  # (method, path) as received, for tests to inspect
        self._server: ThreadingHTTPServer | None = None
        self._url = ""  # kept after stop, as the real registry's is
        self._lock = threading.Lock()  # one writer at a time: uploads and tags are read-modify-write

    @property
    def url(self) -> str:
        assert self._url, "registry not started"
        return self._url

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def _v2(self) -> Path:
        return self.storage / "docker/registry/v2"

    def blob_path(self, digest: str) -> Path:
        """Where a blob's bytes are kept (the same place as distribution's filesystem driver)."""
        hex_ = digest.split(":", 1)[1]
        return self._v2 / "blobs/sha256" / hex_[:2] / hex_ / "data"

    def start(self) -> BuiltinRegistry:
        self.root.mkdir(parents=True, exist_ok=True)
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client's session expects
            # headers and body go out in two writes: without TCP_NODELAY each answer waits ~40 ms
            # for the client's delayed ACK (Nagle), and a demo harvest makes thousands of requests
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append((self.command, urlsplit(self.path).path))
                answer = owner.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(answer.status)
                headers = {"Docker-Distribution-API-Version": "registry/2.0", **answer.headers}
                headers.setdefault("Content-Length", str(len(answer.body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests and in the demo
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), RequestHandler)
        self._url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BuiltinRegistry:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- routing ----------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        if re.fullmatch(r"/v2/(.+)/referrers/[^/]+", parts.path):
            # distribution 2.8 has no such route: its router's plain 404, so clients fall back to tags
            return Answer(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})
        for route, pattern in ROUTES:
            match = pattern.fullmatch(parts.path)
            if match is None:
                continue
            args = match.groupdict()
            if "name" in args and not NAME.fullmatch(args["name"]):
                return error(400, "NAME_INVALID", "invalid repository name", {"name": args["name"]})
            return self._dispatch(route, method, args, query, headers, body)
        return Answer(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})

    def _dispatch(
        self,
        route: str,
        method: str,
        args: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Answer:
        name = args.get("name", "")
        if route == "ping" and method in ("GET", "HEAD"):
            return Answer(200, b"{}", {"Content-Type": "application/json"})
        if route == "tags" and method in ("GET", "HEAD"):
            return self.list_tags(name, query)
        if route == "manifest" and method in ("GET", "HEAD"):
            return self.get_manifest(name, args["reference"])
        if route == "manifest" and method == "PUT":
            return self.put_manifest(name, args["reference"], headers, body)
        if route == "upload" and method == "POST" and not args["session"]:
            return self.start_upload(name)
        if route == "upload" and method == "PATCH" and args["session"]:
            return self.patch_upload(name, args["session"], headers, body)
        if route == "upload" and method == "PUT" and args["session"]:
            return self.finish_upload(name, args["session"], query.get("digest", [""])[0], body)
        if route == "blob" and method in ("GET", "HEAD"):
            return self.get_blob(name, args["digest"])
        return error(405, "UNSUPPORTED", "the operation is unsupported", {"method": method})

    # --- blobs ------------------------------------------------------------------------------
    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
    def start_upload(self, name: str) -> Answer:
        session = secrets.token_hex(16)
        path = self._upload_path(name, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        return Answer(202, headers=self._upload_headers(name, session, 0))

    def patch_upload(self, name: str, session: str, headers: dict[str, str], body: bytes) -> Answer:
        path = self._upload_path(name, session)
        with self._lock:
            if not path.is_file():
                return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", {"session": session})
            size = path.stat().st_size
            start = (headers.get("Content-Range") or "").partition("-")[0]
            if start and (not start.isdigit() or int(start) != size):
                # a chunk that does not follow the last one: the spec's 416, with where it stands
                return Answer(416, headers=self._upload_headers(name, session, size))
            with path.open("ab") as upload:
                upload.write(body)
            return Answer(202, headers=self._upload_headers(name, session, size + len(body)))

    def finish_upload(self, name: str, session: str, digest: str, body: bytes) -> Answer:
        path = self._upload_path(name, session)
        with self._lock:
            if not path.is_file():
                return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", {"session": session})
            data = path.read_bytes() + body
            if not DIGEST.fullmatch(digest):
                return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", digest)
            actual = "sha256:" + hashlib.sha256(data).hexdigest()
            if actual != digest:
                path.unlink()  # distribution cancels the upload: the client starts over
                return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", digest)
            self._store_blob(name, digest, data)
            path.unlink()
        location = f"/v2/{name}/blobs/{digest}"
        return Answer(201, headers={"Location": location, "Docker-Content-Digest": digest})

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-blobs
    def get_blob(self, name: str, digest: str) -> Answer:
        if not DIGEST.fullmatch(digest):
            return error(400, "DIGEST_INVALID", "invalid digest", digest)
        if not self._linked(name, "_layers", digest) or not self.blob_path(digest).is_file():
            return error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
        data = self.blob_path(digest).read_bytes()
        headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest, "ETag": f'"{digest}"'}
        return Answer(200, data, headers)

    # --- manifests --------------------------------------------------------------------------
    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests
    def put_manifest(self, name: str, reference: str, headers: dict[str, str], raw: bytes) -> Answer:
        by_digest = reference.startswith("sha256:")
        if by_digest and not DIGEST.fullmatch(reference):
            return error(400, "DIGEST_INVALID", "invalid digest", reference)
        if not by_digest and not TAG.fullmatch(reference):
            return error(400, "TAG_INVALID", "manifest tag did not match URI", reference)
        if len(raw) > MAX_MANIFEST_BYTES:
            return error(413, "SIZE_INVALID", "manifest over the registry's limit", len(raw))
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if by_digest and digest != reference:
            return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", reference)
        try:
            body = json.loads(raw)
        except ValueError:
            return error(400, "MANIFEST_INVALID", "manifest invalid", "not JSON")
        if not isinstance(body, dict) or body.get("schemaVersion") != 2:
            return error(400, "MANIFEST_INVALID", "manifest invalid", "not a schemaVersion 2 object")
        declared = (headers.get("Content-Type") or "").split(";")[0].strip()
        if declared and isinstance(body.get("mediaType"), str) and body["mediaType"] != declared:
            return error(400, "MANIFEST_INVALID", "manifest invalid", "mediaType differs from Content-Type")
        missing = self._missing_references(name, body)
        if missing:
            return error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", missing)
        with self._lock:
            self._store_blob(name, digest, raw, link="_manifests/revisions")
            if not by_digest:
                tag = self._repository(name) / "_manifests/tags" / reference
                _write_link(tag / "current/link", digest)
                _write_link(tag / "index/sha256" / digest[7:] / "link", digest)
        location = f"/v2/{name}/manifests/{digest}"
        return Answer(201, headers={"Location": location, "Docker-Content-Digest": digest})

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
    def get_manifest(self, name: str, reference: str) -> Answer:
        digest = reference if DIGEST.fullmatch(reference) else self._tag_digest(name, reference)
        if not digest or not self._linked(name, "_manifests/revisions", digest):
            return error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"name": name, "reference": reference})
        raw = self.blob_path(digest).read_bytes()
        headers = {
            "Content-Type": media_type_of(json.loads(raw)),
            "Docker-Content-Digest": digest,
            "ETag": f'"{digest}"',
        }
        return Answer(200, raw, headers)

    # Reference: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags
    def list_tags(self, name: str, query: dict[str, list[str]]) -> Answer:
        tags_dir = self._repository(name) / "_manifests/tags"
        if not self._repository(name).is_dir():
            return error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
        tags = sorted(p.name for p in tags_dir.iterdir() if (p / "current/link").is_file()) if tags_dir.is_dir() else []
        last = query.get("last", [""])[0]
        if last:
            tags = [t for t in tags if t > last]
        headers = {"Content-Type": "application/json"}
        size = query.get("n", [""])[0]
        if size.isdigit() and int(size) < len(tags):
            tags = tags[: int(size)]
            headers["Link"] = f'</v2/{name}/tags/list?last={quote(tags[-1])}&n={size}>; rel="next"'
        return Answer(200, json.dumps({"name": name, "tags": tags}).encode(), headers)

    # --- storage ----------------------------------------------------------------------------
    def _repository(self, name: str) -> Path:
        return self._v2 / "repositories" / name

    def _upload_path(self, name: str, session: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", session):
            session = "unknown"  # never a path built from what the client sent
        return self._repository(name) / "_uploads" / session / "data"

    def _upload_headers(self, name: str, session: str, size: int) -> dict[str, str]:
        return {
            "Location": f"/v2/{name}/blobs/uploads/{session}",
            "Range": f"0-{max(size - 1, 0)}",
            "Docker-Upload-UUID": session,
        }

    def _linked(self, name: str, kind: str, digest: str) -> bool:
        return (self._repository(name) / kind / "sha256" / digest[7:] / "link").is_file()

    def _tag_digest(self, name: str, tag: str) -> str:
        if not TAG.fullmatch(tag):
            return ""
        try:
            digest = (self._repository(name) / "_manifests/tags" / tag / "current/link").read_text().strip()
        except OSError:
            return ""
        return digest if DIGEST.fullmatch(digest) else ""

    def _store_blob(self, name: str, digest: str, data: bytes, link: str = "_layers") -> None:
        path = self.blob_path(digest)
        if not path.is_file():
            _write_atomically(path, data)
        _write_link(self._repository(name) / link / "sha256" / digest[7:] / "link", digest)

    def _missing_references(self, name: str, body: dict[str, Any]) -> list[str]:
        """Blobs (of an image) or manifests (of an index) the manifest names and this repository lacks."""
        if media_type_of(body) in INDEX_TYPES:
            wanted = [(d.get("digest"), "_manifests/revisions") for d in _descriptors(body.get("manifests"))]
        else:
            wanted = [(d.get("digest"), "_layers") for d in [*_descriptors([body.get("config")])]]
            wanted += [(d.get("digest"), "_layers") for d in _descriptors(body.get("layers"))]
        return [
            str(digest)
            for digest, kind in wanted
            if not isinstance(digest, str) or not DIGEST.fullmatch(digest) or not self._linked(name, kind, digest)
        ]


def _descriptors(value: Any) -> Iterator[dict[str, Any]]:
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            yield item


def _write_link(path: Path, digest: str) -> None:
    _write_atomically(path, digest.encode())


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def start_builtin_registry(root: Path, *, port: int = 0) -> BuiltinRegistry:
    """Serve the distribution API on 127.0.0.1:port (0: any) with storage under root."""
    return BuiltinRegistry(root, port).start()
