"""The API personas for these tests (the root conftest may hold them once the tests layout moves)."""

from tests.evidence.personas import anonymous, auditor, engineer, outsider  # noqa: F401
