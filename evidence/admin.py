"""Evidence pages in the admin: one module per area, imported here so autodiscovery finds them."""

from . import admin_deployments, admin_forge  # noqa: F401
