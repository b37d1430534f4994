"""Webhook receivers under /hooks/: one module per controller or forge."""

from django.urls import path

from evidence.sources.kinds import FORGES
from evidence.sources.webhooks import argocd, flux, incident

urlpatterns: list = []
urlpatterns += [
    path("argocd/", argocd.receive, name="hook-argocd"),
    path("flux/", flux.receive, name="hook-flux"),
    path("incident/", incident.receive, name="hook-incident"),
]
urlpatterns += [path(f"{name}/", forge.receive, name=f"hooks-{name}") for name, forge in FORGES.items()]
