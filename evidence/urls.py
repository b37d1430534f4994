"""API routes of the evidence app (under /api/v1/). Each area adds its own lines."""

from django.urls import path

from . import api_forge

urlpatterns: list = [
    path("pull-requests/", api_forge.PullRequestList.as_view(), name="pull-requests"),
]
