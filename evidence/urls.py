"""API routes of the evidence app (under /api/v1/). Each area adds its own lines."""

from django.urls import path

from . import api_forge
from .views_deployments import DeploymentViewSet, RunningDiffView, RunningView

urlpatterns: list = []
urlpatterns += [
    path("deployments/", DeploymentViewSet.as_view({"get": "list"}), name="deployment-list"),
    path("deployments/<int:pk>/", DeploymentViewSet.as_view({"get": "retrieve"}), name="deployment-detail"),
    path("running/", RunningView.as_view(), name="running"),
    path("running/diff/", RunningDiffView.as_view(), name="running-diff"),
]
urlpatterns += [
    path("pull-requests/", api_forge.PullRequestList.as_view(), name="pull-requests"),
]
