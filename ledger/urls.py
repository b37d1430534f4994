"""API routes of the evidence app (under /api/v1/). Each area adds its own lines."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
