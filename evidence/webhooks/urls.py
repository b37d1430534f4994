"""Webhook receivers under /hooks/: one module per controller or forge."""

from django.urls import path

from . import argocd, flux

urlpatterns: list = []
urlpatterns += [
    path("argocd/", argocd.receive, name="hook-argocd"),
    path("flux/", flux.receive, name="hook-flux"),
]
