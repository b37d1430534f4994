"""API routes of the exports app (under /api/v1/). Each area adds its own lines."""

from django.urls import path

import ledger.bounds  # noqa: F401  (registers <id:...>)

from . import api

app_name = "exports"

urlpatterns: list = [
    path("packs/", api.PackListCreate.as_view(), name="pack-list"),
    path("packs/<id:pk>/", api.PackDetail.as_view(), name="pack-detail"),
    path("packs/<id:pk>/download/", api.PackDownload.as_view(), name="pack-download"),
]
