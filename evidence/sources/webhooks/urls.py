"""Webhook receivers under /hooks/: one module per controller or forge, each on the base in base.py."""

from django.urls import path

from evidence.sources.webhooks import argocd, flux, github, gitlab

urlpatterns = [
    path("argocd/", argocd.receive, name="hook-argocd"),
    path("flux/", flux.receive, name="hook-flux"),
    path("github/", github.receive, name="hooks-github"),
    path("gitlab/", gitlab.receive, name="hooks-gitlab"),
]
