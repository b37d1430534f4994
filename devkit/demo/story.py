"""A fixed GitOps story for the demo: local Argo CD and Kubernetes sandboxes, harvested for real.

    from devkit.demo.story import run_gitops_story
    run_gitops_story(say=self.stdout.write)

Argo CD `payments` (prod): revision deadbeef... deployed, another one, then deadbeef... again (a
rollback), then a failed sync. Flux `web` (prod) from its Kustomization history. Pods in `shop`
run the image digests the deployments resolve to. The tokens are made up per process and put in
the environment, where sources read credentials from. Re-running adds only harvest-run entries.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from devkit.sandbox.argocd import ArgoCDSandbox, application, history_item, operation_state
from devkit.sandbox.kubernetes import KubernetesSandbox, kustomization, kustomization_history_item, pod
from evidence.compliance.running import running_at
from evidence.sources.harvest import harvest_source
from evidence.sources.models import Source

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REVIEWED = "deadbeef" * 5  # the merge commit of the demo's reviewed pull request
OTHER = "0badc0de" * 5
FAILED = "feedface" * 5
DIGEST = "sha256:" + "ab" * 32  # the demo's signed image
WEB_DIGEST = "sha256:" + "cd" * 32
REPO = "https://git.example.test/acme/deploy.git"


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run_gitops_story(say: Callable[[str], object] = print) -> None:
    for name in ("DEMO_ARGOCD_TOKEN", "DEMO_KUBE_TOKEN"):
        os.environ.setdefault(name, secrets.token_hex(16))
    with (
        ArgoCDSandbox(os.environ["DEMO_ARGOCD_TOKEN"]) as argo,
        KubernetesSandbox(os.environ["DEMO_KUBE_TOKEN"]) as kube,
    ):
        history = [
            history_item(1, REVIEWED, _at(210), _at(212), REPO, user="alice@example.test"),
            history_item(2, OTHER, _at(300), _at(302), REPO),
            history_item(3, REVIEWED, _at(360), _at(361), REPO, user="bob@example.test"),  # rollback
        ]
        failed = operation_state("Failed", FAILED, _at(420), _at(421), "one or more objects failed to apply")
        argo.put(
            application(
                "payments",
                project="shop",
                namespace="shop",
                history=history,
                operation=failed,
                images=["registry.local/acme/payments:1.4"],
            )
        )
        kube.add(
            kustomization(
                "web",
                "apps",
                [kustomization_history_item(f"main@sha1:{REVIEWED}", "sha256:" + "ef" * 32, _at(240), _at(250))],
            )
        )
        kube.add(
            pod(
                "payments-7d9f8-x2l9p",
                "shop",
                {"app.kubernetes.io/instance": "payments"},
                [("payments", "registry.local/acme/payments:1.4", f"registry.local/acme/payments@{DIGEST}")],
            )
        )
        kube.add(
            pod(
                "web-5c6b7-q8r4t",
                "apps",
                {"app.kubernetes.io/instance": "web"},
                [("web", "registry.local/acme/web:2.0", f"registry.local/acme/web@{WEB_DIGEST}")],
            )
        )
        sources = [
            _source("demo-argocd", "argocd", argo.url, "DEMO_ARGOCD_TOKEN", {"applications": ["payments"]}),
            _source("demo-flux", "flux", kube.url, "DEMO_KUBE_TOKEN", {"namespaces": ["apps"], "cluster": "demo"}),
            _source("demo-pods", "kubernetes", kube.url, "DEMO_KUBE_TOKEN", {"namespaces": ["shop", "apps"]}),
        ]
        for source in sources:
            for run in harvest_source(source):
                say(f"harvest {source.name}:{run.target} {run.status}: {run.appended} new of {run.records} records")
    state = running_at("prod", datetime.now(UTC))
    for app in state.applications:
        digests = ", ".join(app.digests) or "no digest known"
        say(f"running in prod now: {app.application} {app.revision[:12]} ({app.outcome}) {digests}")


def _source(name: str, kind: str, url: str, credential_env: str, config: dict) -> Source:
    source, _ = Source.objects.update_or_create(
        name=name,
        defaults={"kind": kind, "url": url, "credential_env": credential_env, "environment": "prod", "config": config},
    )
    return source
