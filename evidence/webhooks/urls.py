"""Webhook receivers under /hooks/: one module per controller or forge."""

from django.urls import path

from . import github, gitlab

urlpatterns: list = [
    path("github/", github.receive, name="hooks-github"),
    path("gitlab/", gitlab.receive, name="hooks-gitlab"),
]
