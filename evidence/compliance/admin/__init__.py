"""The auditor's admin: one module per area, imported here so autodiscovery registers them."""

from django.contrib import admin as _admin

from . import artifacts, deployments, findings, forge  # noqa: F401

# The admin index opens on the auditor's dashboard (figures of one environment over a quarter).
_admin.site.index_template = "admin/compliance/index.html"
