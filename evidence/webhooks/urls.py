"""Webhook receivers under /hooks/: one module per controller or forge."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
