"""Harvesting an OCI source into the ledger, and the artifact read models projected from it."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command

from devkit.sandbox.registry import publish_signed_image, push_image, running_registry, start_demo_registry
from evidence.readmodels.models import Artifact, Provenance, SignatureVerdict
from evidence.readmodels.projectors import rebuild_all
from evidence.sources.harvest import harvest_source, harvest_target
from evidence.sources.models import HarvestCursor, Source
from evidence.sources.oci.client import RegistryClient
from ledger.append import append_entry
from ledger.envelope import Record
from ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # sequence and project before append returns, even with REDIS_URL


@pytest.fixture
def run(projected):
    """Call a harvest function; the read models follow as after its commit (`projected`)."""

    def call(fn, *args):
        return fn(*args)

    return call


def _source(url, signing_keys, images, **config):
    return Source.objects.create(
        name="registry", kind="oci", url=url, config={"images": images, "trusted_keys": signing_keys.paths, **config}
    )


def _rows():
    return (
        list(Artifact.objects.values_list("registry", "repository", "digest", "tags", "first_seq", "entry_seq")),
        list(SignatureVerdict.objects.values_list("digest", "verdict", "signer", "discovery", "entry_seq")),
        list(
            Provenance.objects.values_list(
                "digest", "source_repo", "source_commit", "builder_id", "verdict", "entry_seq"
            )
        ),
    )


def test_it_records_artifacts_signatures_and_provenance(run, oci_registry, oci_client, signing_keys):
    signed = publish_signed_image(oci_client, "shop/payments", "v1", signing_keys.release, commit="4b" * 20)
    oci_client.push_manifest("shop/payments", "latest", signed.manifest, "application/vnd.oci.image.manifest.v1+json")
    unsigned = push_image(oci_client, "shop/payments", "v0", b"unsigned")
    source = _source(oci_registry.url, signing_keys, ["shop/payments"])

    [harvest] = run(harvest_source, source)

    assert harvest.status == "succeeded", harvest.errors
    subject = f"oci:{oci_registry.host}/shop/payments@{signed.digest}"
    kinds = sorted(Entry.objects.filter(subject=subject).values_list("kind", flat=True))
    assert kinds == ["oci.artifact", "oci.provenance", "oci.signature"]
    artifact = Artifact.objects.get(digest=signed.digest)
    assert artifact.tags == ["latest", "v1"]
    assert SignatureVerdict.objects.get(digest=signed.digest).verdict == "verified"
    assert SignatureVerdict.objects.get(digest=unsigned.digest).verdict == "no_signature"
    made = Provenance.objects.produced(signed.digest).values("source_repo", "source_commit", "builder_id").first()
    assert made == {
        "source_repo": "https://github.com/acme/payments",
        "source_commit": "4b" * 20,
        "builder_id": "https://github.com/actions/runner/github-hosted",
    }
    signature = Entry.objects.get(subject=subject, kind="oci.signature")
    assert signature.data["material"]["payload_b64"] and signature.data["material"]["signature_b64"]
    assert SignatureVerdict.objects.get(digest=signed.digest).entry_seq == signature.seq
    assert HarvestCursor.objects.get(source=source).state["tags"]["v1"] == signed.digest


def test_it_adds_nothing_when_harvested_again_unchanged(run, oci_registry, oci_client, signing_keys):
    publish_signed_image(oci_client, "shop/cart", "v1", signing_keys.release)
    source = _source(oci_registry.url, signing_keys, ["shop/cart"])
    first = run(harvest_target, source, "shop/cart")

    again = run(harvest_target, source, "shop/cart")

    assert (first.appended, again.appended, again.records) == (4, 0, 3)  # oci.tags only when tags move
    assert Entry.objects.filter(kind__startswith="oci.").count() == 4


def test_it_rebuilds_the_same_rows_from_the_ledger(run, oci_registry, oci_client, signing_keys):
    image = publish_signed_image(oci_client, "shop/search", "v1", signing_keys.release)
    source = _source(oci_registry.url, signing_keys, ["shop/search:v1", f"shop/search@{image.digest}"])
    run(harvest_source, source)
    oci_client.push_manifest("shop/search", "v1.0", image.manifest, "application/vnd.oci.image.manifest.v1+json")
    source.config["images"].append("shop/search:v1.0")
    source.save()
    run(harvest_source, source)  # the same digest under a new tag: a second artifact entry
    before = _rows()

    rebuild_all()

    assert before == _rows()
    assert Artifact.objects.get().tags == ["v1", "v1.0"]


def test_it_fails_the_run_and_keeps_the_cursor_when_the_registry_is_down(run, signing_keys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = _source(f"http://127.0.0.1:{port}", signing_keys, ["shop/payments"], timeout=2)

    harvest = run(harvest_target, source, "shop/payments")

    assert harvest.status == "failed"
    assert "no answer" in harvest.errors[0]
    assert not Entry.objects.filter(kind__startswith="oci.").exists()
    assert not HarvestCursor.objects.filter(source=source).exists()
    assert Entry.objects.get(kind="harvest.run").data["status"] == "failed"


def test_it_refuses_a_trusted_key_that_is_not_a_public_key(run, oci_registry, signing_keys, tmp_path):
    bogus = tmp_path / "release.pub"
    bogus.write_text("not a key")
    source = _source(oci_registry.url, signing_keys, ["shop/payments"], trusted_keys=[str(bogus)])

    harvest = run(harvest_target, source, "shop/payments")

    assert harvest.status == "failed"
    assert harvest.errors == [f"source registry: trusted_keys: {bogus}: not a PEM public key"]


def test_it_reads_with_the_credential_from_the_environment_and_never_records_it(
    run, tmp_path, signing_keys, monkeypatch
):
    with running_registry(tmp_path / "reg", htpasswd={"ci": "hunter2-registry"}) as registry:
        image = publish_signed_image(
            RegistryClient(registry.url, "ci:hunter2-registry"), "shop/api", "v1", signing_keys.release
        )
        monkeypatch.setenv("SHOP_REGISTRY_CREDENTIAL", "ci:hunter2-registry")
        source = _source(registry.url, signing_keys, ["shop/api"])
        source.credential_env = "SHOP_REGISTRY_CREDENTIAL"
        source.save()

        harvest = run(harvest_target, source, "shop/api")

    assert harvest.status == "succeeded", harvest.errors
    assert SignatureVerdict.objects.get(digest=image.digest).verdict == "verified"
    assert not any(b"hunter2" in bytes(e.payload) for e in Entry.objects.all())


def test_it_harvests_a_source_declared_in_the_sources_file(
    run, oci_registry, oci_client, signing_keys, tmp_path, settings
):
    image = publish_signed_image(oci_client, "shop/ledger", "v1", signing_keys.release)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "- name: shop-registry\n"
        "  kind: oci\n"
        f"  url: {oci_registry.url}\n"
        "  images: [shop/ledger]\n"
        f"  trusted_keys: [{signing_keys.paths[0]}]\n"
    )
    settings.EVIDENCE_SOURCES_FILE = str(sources)

    run(call_command, "harvest", "--source", "shop-registry")

    assert SignatureVerdict.objects.get(digest=image.digest).verdict == "verified"
    assert Provenance.objects.produced(image.digest).exists()


def test_it_harvests_the_demo_registry_with_the_commit_it_was_built_from(run, tmp_path):
    demo = start_demo_registry(tmp_path, commit="d3" * 20)
    try:
        config = {k: v for k, v in demo.source.items() if k not in ("name", "kind", "url")}
        source = Source.objects.create(name=demo.source["name"], kind="oci", url=demo.source["url"], config=config)
        [harvest] = run(harvest_source, source)
    finally:
        demo.registry.stop()

    assert harvest.status == "succeeded", harvest.errors
    assert Provenance.objects.produced(demo.digest).get().source_commit == "d3" * 20


def test_it_verifies_digests_that_deployments_name(run, oci_registry, oci_client, signing_keys):
    deployed = publish_signed_image(oci_client, "shop/deployed", "v9", signing_keys.release)
    oci_client.push_manifest(
        "shop/deployed",
        "v9",
        push_image(oci_client, "shop/deployed", None, b"newer").manifest,
        "application/vnd.oci.image.manifest.v1+json",
    )  # the tag has moved on since
    run(
        append_entry,
        Record(
            "argocd.deployment",
            "argocd",
            "prod/shop",
            "test:deploy:1",
            {
                "images": [
                    f"{oci_registry.host}/shop/deployed:v9@{deployed.digest}",
                    f"elsewhere.io/x@{deployed.digest}",
                ]
            },
        ),
    )
    source = _source(oci_registry.url, signing_keys, [], include_deployed=True)

    [harvest] = run(harvest_source, source)

    assert harvest.target == "shop/deployed"
    assert SignatureVerdict.objects.get(digest=deployed.digest).verdict == "verified"
    assert Artifact.objects.get(digest=deployed.digest).tags == []  # named by digest, not seen under a tag
