"""What argocd, flux and kubernetes sources' config may hold (README "Sources as code").

`environments` rules are described in evidence.sources.environment_rules; the Kubernetes
connection keys in evidence.sources.controllers.kubernetes.api_client.
"""

from __future__ import annotations

from pydantic import Field

from evidence.sources.schemas import EnvironmentRule, SourceConfig


class ControllerConfig(SourceConfig):
    environments: list[EnvironmentRule] = Field(default_factory=list)  # first match wins


class ArgoCDConfig(ControllerConfig):
    applications: list[str] = Field(default_factory=list)  # default: every application
    webhook_token_env: str = ""  # variable (or VAR_FILE) with this source's notifications token


class KubernetesConnection(ControllerConfig):
    """The cluster: the source's url and credential, or a kubeconfig, or the pod's service account."""

    in_cluster: bool = False
    kubeconfig: str = ""
    context: str = ""
    ca_cert: str = ""  # CA bundle of the API server, with url
    cluster: str = ""  # the cluster's name in evidence and environment rules
    namespaces: list[str] = Field(default_factory=list)  # default: every namespace


class FluxConfig(KubernetesConnection):
    kustomization_version: str = ""  # API version of kustomize.toolkit.fluxcd.io, default v1
    helmrelease_version: str = ""  # API version of helm.toolkit.fluxcd.io, default v2
    webhook_secret_env: str = ""  # variable (or VAR_FILE) with this source's generic-hmac token


class KubernetesConfig(KubernetesConnection):
    application_labels: list[str] = Field(default_factory=list)  # pod labels naming the application
    # environment ("*": every one) -> container names injected beside the deployment's own (mesh
    # proxies, log shippers): running them is expected, not drift
    expected_sidecars: dict[str, list[str]] = Field(default_factory=dict)
