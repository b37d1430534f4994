"""Without Debian's docker-registry on the PATH the demo serves the OCI distribution API itself,
says so, and still tells the whole story (signatures, provenance, no unexplained finding)."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import call_command

from devkit.demo.run import DemoSandboxes, digest_of
from devkit.demo.seeded import judge_seeded
from devkit.demo.world import build_world
from devkit.sandbox.oci_registry import BuiltinRegistry
from evidence.sources.oci.client import RegistryClient
from ledger.models import Entry

REAL_WHICH = shutil.which


@pytest.fixture
def without_docker_registry(monkeypatch):
    """A machine where `apt-get install docker-registry` never ran: the binary is not on the PATH."""

    def which(name, *args, **kwargs):
        return None if name in ("docker-registry", "registry") else REAL_WHICH(name, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which)


def test_it_serves_the_demo_images_from_the_built_in_registry_and_says_why(tmp_path, without_docker_registry):
    world = build_world()
    with DemoSandboxes(world, tmp_path) as boxes:
        pushed = boxes.publish_images()
        client = RegistryClient(boxes.registry.url)
        image = world.images[0]
        resolved = client.resolve(image.repository, image.tag)

    assert isinstance(boxes.registry, BuiltinRegistry)
    assert boxes.registry.url == f"http://{boxes.registry_host}"  # the port the sources file names
    assert boxes.registry_used.startswith("the devkit's built-in OCI registry")
    assert "because docker-registry not found" in boxes.registry_used
    assert pushed == len(world.images) + 1 and resolved == digest_of(image)
    assert (tmp_path / "registry/storage/docker/registry/v2/repositories" / image.repository).is_dir()


@pytest.mark.slow
def test_it_tells_the_whole_story_with_the_built_in_registry(
    db, settings, tmp_path, projected, without_docker_registry
):
    settings.PACK_STORAGE_DIR = str(tmp_path / "packs")
    out = io.StringIO()

    call_command("demo", f"--dir={tmp_path / 'demo'}", "--no-pack", stdout=out)

    output = out.getvalue()
    assert "registry: the devkit's built-in OCI registry" in output
    assert "OCI part skipped" not in output
    assert "findings no seeded case explains: none" in output
    report = judge_seeded(build_world())
    assert not report.unmatched and report.found == report.expected, "\n".join(report.lines())
    world = build_world()
    signed = next(i for i in world.images if i.signer == "release")
    verdicts = Entry.objects.filter(kind__in=["oci.signature", "oci.provenance"], subject__endswith=digest_of(signed))
    assert {(e.kind, e.data["verdict"]) for e in verdicts} >= {("oci.signature", "verified")}
