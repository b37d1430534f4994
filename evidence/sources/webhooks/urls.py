"""Webhook receivers under /hooks/: one module per controller or forge."""

from django.urls import path

from evidence.sources.webhooks import argocd, flux, github, gitlab

urlpatterns: list = []
urlpatterns += [
    path("argocd/", argocd.receive, name="hook-argocd"),
    path("flux/", flux.receive, name="hook-flux"),
]
urlpatterns += [
    path("github/", github.receive, name="hooks-github"),
    path("gitlab/", gitlab.receive, name="hooks-gitlab"),
]
