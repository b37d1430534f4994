"""The devkit's built-in OCI registry answers the calls the real client, the publish helpers and the
OCI harvester make, with the verdicts the real registry (Debian's docker-registry) gives."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from devkit.sandbox.oci_registry import BuiltinRegistry
from devkit.sandbox.registry import public_pem, publish_signed_image, push_image, running_registry
from evidence.readmodels.models import Provenance, SignatureVerdict
from evidence.sources.harvest import harvest_source
from evidence.sources.models import Source
from evidence.sources.oci.client import RegistryClient
from ledger.models import Entry

pytestmark = pytest.mark.django_db
needs_registry = pytest.mark.skipif(
    not (shutil.which("docker-registry") or shutil.which("registry")),
    reason="docker-registry not installed (apt-get install -y docker-registry)",
)


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # sequence and project before append returns, even with REDIS_URL


@pytest.fixture
def release_key(tmp_path):
    """The engineer's release key: Ed25519, so the same image signs to the same bytes everywhere."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"engineer release key").digest())
    (tmp_path / "release.pub").write_bytes(public_pem(key))
    return key


@pytest.fixture
def builtin(tmp_path):
    with BuiltinRegistry(tmp_path / "builtin").start() as registry:
        yield registry


def publish_and_harvest(url, name, key, key_path):
    """Publish a signed image with provenance and an unsigned one, harvest them; (digest, kind, verdict) per entry."""
    client = RegistryClient(url)
    signed = publish_signed_image(client, "shop/payments", "v1", key, commit="4b" * 20)
    push_image(client, "shop/payments", "v0", b"unsigned")
    source = Source.objects.create(
        name=name, kind="oci", url=url, config={"images": ["shop/payments"], "trusted_keys": [str(key_path)]}
    )
    [harvest] = harvest_source(source)
    assert harvest.status == "succeeded", harvest.errors
    rows = Entry.objects.filter(source=name, kind__in=["oci.signature", "oci.provenance"])
    return signed, sorted((e.subject.rpartition("@")[2], e.kind, e.data["verdict"]) for e in rows)


def material(name, host):
    """What the harvest recorded of each signature and attestation, the registry's address left out."""
    rows = Entry.objects.filter(source=name, kind__in=["oci.signature", "oci.provenance"]).order_by("subject", "kind")
    return [json.dumps(e.data, sort_keys=True).replace(host, "<registry>") for e in rows]


def test_it_serves_a_signed_image_with_provenance_to_the_harvester(projected, builtin, release_key, tmp_path):
    signed, verdicts = publish_and_harvest(builtin.url, "builtin", release_key, tmp_path / "release.pub")

    assert (signed.digest, "oci.signature", "verified") in verdicts
    assert (signed.digest, "oci.provenance", "verified") in verdicts
    assert SignatureVerdict.objects.get(digest=signed.digest).verdict == "verified"
    made = Provenance.objects.produced(signed.digest).values("source_repo", "source_commit").first()
    assert made == {"source_repo": "https://github.com/acme/payments", "source_commit": "4b" * 20}
    assert ("GET", f"/v2/shop/payments/referrers/{signed.digest}") in builtin.requests  # asked, 404, fell back


@needs_registry
def test_it_gives_the_same_verdicts_as_the_real_registry(projected, builtin, release_key, tmp_path):
    ours = publish_and_harvest(builtin.url, "builtin", release_key, tmp_path / "release.pub")
    with running_registry(tmp_path / "distribution") as real:
        theirs = publish_and_harvest(real.url, "distribution", release_key, tmp_path / "release.pub")

    assert ours == theirs  # same image, signature and attestation digests, same verdicts
    assert [verdict for _, _, verdict in ours[1]] == ["no_signature", "verified", "verified"]
    assert material("builtin", builtin.host) == material("distribution", real.host)
