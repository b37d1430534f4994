"""The built-in OCI registry answers bad requests as distribution does (4xx with the spec's error
codes) and serves a manifest's bytes as they were pushed, by tag and by digest, across restarts."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import requests

from devkit.sandbox.oci_registry import BuiltinRegistry
from devkit.sandbox.registry import OCI_MANIFEST, push_image, running_registry
from evidence.sources.oci.client import NotFound, RegistryClient, RegistryError

MISSING = "sha256:" + "0" * 64
needs_registry = pytest.mark.skipif(
    not (shutil.which("docker-registry") or shutil.which("registry")),
    reason="docker-registry not installed (apt-get install -y docker-registry)",
)


@pytest.fixture
def registry(tmp_path):
    with BuiltinRegistry(tmp_path / "registry").start() as running:
        yield running


def codes(response: requests.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def test_it_answers_404_for_an_unknown_blob_or_manifest(registry):
    client = RegistryClient(registry.url)
    push_image(client, "shop/cart", "v1", b"cart")

    blob = requests.get(f"{registry.url}/v2/shop/cart/blobs/{MISSING}", timeout=5)
    manifest = requests.get(f"{registry.url}/v2/shop/cart/manifests/v2", timeout=5)
    tags = requests.get(f"{registry.url}/v2/shop/nothing/tags/list", timeout=5)

    assert (blob.status_code, codes(blob)) == (404, ["BLOB_UNKNOWN"])
    assert (manifest.status_code, codes(manifest)) == (404, ["MANIFEST_UNKNOWN"])
    assert (tags.status_code, codes(tags)) == (404, ["NAME_UNKNOWN"])
    with pytest.raises(NotFound):
        client.get_manifest("shop/cart", MISSING)


def test_it_refuses_an_upload_whose_digest_does_not_match_its_bytes(registry):
    started = requests.post(f"{registry.url}/v2/shop/cart/blobs/uploads/", timeout=5)
    assert started.status_code == 202
    location = registry.url + started.headers["Location"]

    wrong = requests.put(location, params={"digest": MISSING}, data=b"layer", timeout=5)

    assert (wrong.status_code, codes(wrong)) == (400, ["DIGEST_INVALID"])
    assert requests.head(f"{registry.url}/v2/shop/cart/blobs/{MISSING}", timeout=5).status_code == 404
    again = requests.put(location, params={"digest": "sha256:" + hashlib.sha256(b"layer").hexdigest()}, timeout=5)
    assert again.status_code == 404  # the failed upload was cancelled: the client starts over


def test_it_accepts_an_upload_in_chunks_and_refuses_one_out_of_order(registry):
    started = requests.post(f"{registry.url}/v2/shop/cart/blobs/uploads/", timeout=5)
    location = registry.url + started.headers["Location"]
    first = requests.patch(location, data=b"lay", headers={"Content-Range": "0-2"}, timeout=5)
    assert (first.status_code, first.headers["Range"]) == (202, "0-2")
    skipped = requests.patch(
        registry.url + first.headers["Location"], data=b"r", headers={"Content-Range": "4-4"}, timeout=5
    )
    assert skipped.status_code == 416
    digest = "sha256:" + hashlib.sha256(b"layer").hexdigest()

    done = requests.put(registry.url + first.headers["Location"], params={"digest": digest}, data=b"er", timeout=5)

    assert (done.status_code, done.headers["Docker-Content-Digest"]) == (201, digest)
    assert RegistryClient(registry.url).get_blob("shop/cart", digest) == b"layer"


def test_it_refuses_a_manifest_naming_blobs_it_does_not_have(registry):
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": MISSING, "size": 2},
        "layers": [],
    }
    client = RegistryClient(registry.url)

    with pytest.raises(RegistryError, match="HTTP 400"):
        client.push_manifest("shop/cart", "v1", json.dumps(manifest).encode(), OCI_MANIFEST)
    with pytest.raises(RegistryError, match="HTTP 400"):
        client.push_manifest("shop/cart", "sha256:" + "1" * 64, b"{}", OCI_MANIFEST)  # digest of other bytes


def test_it_serves_a_manifest_put_by_tag_with_the_same_bytes_by_digest(registry):
    client = RegistryClient(registry.url)
    image = push_image(client, "shop/cart", "v1", b"cart")

    by_digest = requests.get(f"{registry.url}/v2/shop/cart/manifests/{image.digest}", timeout=5)
    head = requests.head(f"{registry.url}/v2/shop/cart/manifests/v1", timeout=5)

    assert by_digest.content == image.manifest
    assert by_digest.headers["Content-Type"] == OCI_MANIFEST
    assert by_digest.headers["Docker-Content-Digest"] == image.digest == head.headers["Docker-Content-Digest"]
    assert int(head.headers["Content-Length"]) == len(image.manifest)


def test_it_serves_what_it_stored_after_a_restart_on_the_same_directory(tmp_path):
    with BuiltinRegistry(tmp_path / "registry").start() as first:
        image = push_image(RegistryClient(first.url), "shop/cart", "v1", b"cart")
        before = requests.get(f"{first.url}/v2/shop/cart/manifests/v1", timeout=5)

    with BuiltinRegistry(tmp_path / "registry").start() as second:
        after = requests.get(f"{second.url}/v2/shop/cart/manifests/v1", timeout=5)
        assert RegistryClient(second.url).list_tags("shop/cart") == ["v1"]

    assert after.content == before.content == image.manifest
    assert second.blob_path(image.digest).read_bytes() == image.manifest  # distribution's layout


@needs_registry
def test_it_keeps_its_storage_in_distributions_layout_so_either_registry_serves_it(tmp_path):
    with BuiltinRegistry(tmp_path / "registry").start() as ours:
        image = push_image(RegistryClient(ours.url), "shop/cart", "v1", b"cart")

    with running_registry(tmp_path / "registry") as theirs:  # a later run where docker-registry is installed
        client = RegistryClient(theirs.url)
        manifest = client.get_manifest("shop/cart", "v1")
        assert manifest.raw == image.manifest
        assert client.get_blob("shop/cart", manifest.body["layers"][0]["digest"]) == b"cart"
        assert client.list_tags("shop/cart") == ["v1"]
