"""API routes of the evidence app (under /api/v1/). Each area adds its own lines."""

from django.urls import path

import ledger.bounds  # noqa: F401  (registers <id:...>)
from evidence.compliance.api import approvals as api_approvals
from evidence.compliance.api import custody as api_custody
from evidence.compliance.api import dora as api_dora
from evidence.compliance.api import pull_requests as api_forge
from evidence.compliance.api import search as api_search
from evidence.compliance.api.deployments import DeploymentViewSet, RunningDiffView, RunningView

urlpatterns: list = []
urlpatterns += [
    path("deployments/", DeploymentViewSet.as_view({"get": "list"}), name="deployment-list"),
    path("deployments/<id:pk>/", DeploymentViewSet.as_view({"get": "retrieve"}), name="deployment-detail"),
    path("running/", RunningView.as_view(), name="running"),
    path("running/diff/", RunningDiffView.as_view(), name="running-diff"),
    path("search/", api_search.SearchView.as_view(), name="search"),
]
urlpatterns += [
    path("pull-requests/", api_forge.PullRequestList.as_view(), name="pull-requests"),
]
urlpatterns += [
    path("deployments/<id:pk>/custody/", api_custody.CustodyView.as_view(), name="deployment-custody"),
    path("findings/", api_custody.FindingList.as_view(), name="findings"),
    path("findings/summary/", api_custody.FindingSummary.as_view(), name="findings-summary"),
    path("findings/<id:pk>/accept/", api_custody.FindingAccept.as_view(), name="finding-accept"),
    path("policies/", api_custody.PolicyList.as_view(), name="policies"),
    path("policies/<id:seq>/approve/", api_approvals.PolicyApprove.as_view(), name="policy-approve"),
    path("acceptances/", api_approvals.AcceptanceList.as_view(), name="acceptances"),
    path("acceptances/<id:seq>/approve/", api_approvals.AcceptanceApprove.as_view(), name="acceptance-approve"),
]
urlpatterns += [
    path("dora/", api_dora.DoraView.as_view(), name="dora"),
    path("gate/", api_dora.GateView.as_view(), name="gate"),
]
