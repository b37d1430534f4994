"""The auditor's admin: one module per area, imported here so autodiscovery registers them."""

from . import artifacts, deployments, findings, forge  # noqa: F401
