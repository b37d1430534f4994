"""Fixtures for keyless tests: one self-made Sigstore instance per session and its trusted root file.

Loaded as a plugin by the root conftest; builders live in sigstore_fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sigstore_fixtures import SigstoreInstance


@pytest.fixture(scope="session")
def sigstore_instance() -> SigstoreInstance:
    return SigstoreInstance()


@pytest.fixture(scope="session")
def sigstore_root(sigstore_instance: SigstoreInstance, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The operator's trusted_root.json for sigstore_instance."""
    return sigstore_instance.write_trusted_root(tmp_path_factory.mktemp("sigstore") / "trusted_root.json")
