"""A source's configuration is checked against its kind's schema, in the sources file and the admin:
a misspelt key is a one-line error naming the source and the key, and nothing is written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.urls import reverse

from evidence.sources.models import Source
from evidence.sources.sources_file import SourcesFileError, load_sources_file, parse_sources
from ledger.models import Entry

from ..conftest import ROOT

MISSPELT = "unknown key 'repositores' (did you mean 'repositories'?)"
SOURCES = """\
- name: acme-github
  kind: github
  credential_env: ACME_GITHUB_TOKEN
  repositores: [acme/payments]
"""


def test_it_names_the_source_and_the_misspelt_key_in_the_sources_file(db, tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("- {name: acme-oci, kind: oci, images: [acme/web]}\n" + SOURCES)

    with pytest.raises(SourcesFileError) as refused:
        load_sources_file(path)

    assert str(refused.value) == f"sources file {path}: source 'acme-github': {MISSPELT}"
    assert not Source.objects.exists() and not Entry.objects.exists()  # not even the valid first source


def test_it_exits_non_zero_with_that_one_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "EVIDENCE_SOURCES_FILE": str(path),
    }
    env.pop("REDIS_URL", None)

    done = subprocess.run(
        [sys.executable, "manage.py", "harvest"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"CommandError: sources file {path}: source 'acme-github': {MISSPELT}"]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{name: a, kind: gitlab, projects: acme/app}", "'projects': input should be a valid list"),
        ("{name: a, kind: gitlab, token_type: personal}", "'token_type': input should be 'private' or 'oauth'"),
        ("{name: a, kind: github, app_id: 42}", "source 'a': app_id needs installation_id"),
        ("{name: a, kind: argocd, credentials_env: X}", "unknown key 'credentials_env' (did you mean"),
        ("{name: a, kind: argocd, environment: [prod]}", "'environment': input should be a valid string"),
        ("{name: a, kind: flux, environments: [{environment: p, math: {}}]}", "unknown key 'math' in environments[0]"),
        ("{name: a, kind: flux, environments: [{match: {namespace: x}}]}", "'environments[0].environment' is required"),
        ("{name: a, kind: kubernetes, environments: [{environment: p, match: {ns: x}}]}", "cannot match on ns"),
        ("{name: a, kind: oci, trusted_identities: [{issuer: x, subjet: y}]}", "unknown key 'subjet'"),
        ("{name: a, kind: oci, trusted_keys: /etc/key.pub}", "'trusted_keys': input should be a valid list"),
        ("{name: a, kind: oci, schedule: 0}", "'schedule' must be a positive number of seconds"),
    ],
)
def test_it_says_which_key_is_wrong_and_why(entry, problem):
    with pytest.raises(SourcesFileError) as refused:
        parse_sources(f"- {entry}\n", "sources file x.yaml")

    message = str(refused.value)
    assert message.startswith("sources file x.yaml: source 'a': ") and "\n" not in message
    assert problem in message


def test_it_accepts_the_readme_example_and_every_key_the_harvesters_read():
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"## Sources as code.*?```yaml\n(.*?)```", readme, re.S)
    assert example is not None
    assert [s["name"] for s in parse_sources(example.group(1), "README")] == ["acme-github", "registry", "argocd-prod"]
    every_key = """
- {name: gh, kind: github, url: https://ghe.example/api/v3, credential_env: T, environment: prod, schedule: 60,
   enabled: false, repositories: [a/b], organisation: a, organization: a, branches: [main], app_id: 1,
   installation_id: 2, max_retries: 2, backoff_factor: 0, max_rate_limit_wait: 5, page_size: 50,
   seconds_between_requests: 0, webhook_secret_env: H}
- {name: gl, kind: gitlab, projects: [a/b], group: a, branches: [main], token_type: oauth, max_retries: 1,
   max_rate_limit_wait: 5, page_size: 20, webhook_secret_env: H}
- {name: reg, kind: oci, images: ["a/b:v1"], include_deployed: true, max_tags: 5, timeout: 2.5,
   trusted_keys: [/k.pub], trusted_identities: [{issuer: i, subject: s}, {issuer: i, subject_regex: ".*"}],
   trusted_root: /root.json, github_repositories: [a/b], github_api_url: http://x, github_credential_env: G}
- {name: argo, kind: argocd, applications: [web], webhook_token_env: A,
   environments: [{match: {project: p, namespace: "prod-*"}, environment: prod, application: "{name}"}]}
- {name: fx, kind: flux, namespaces: [flux-system], cluster: eu, kubeconfig: /kc, context: c, in_cluster: false,
   ca_cert: /ca, kustomization_version: v1, helmrelease_version: v2, webhook_secret_env: F,
   environments: [{match: {"label:team": pay}, environment: prod}]}
- {name: pods, kind: kubernetes, namespaces: [web], cluster: eu, application_labels: [app], in_cluster: true}
"""
    assert len(parse_sources(every_key, "test")) == 6


def test_it_refuses_a_misspelt_key_in_the_admin_form(client, engineer):
    client.force_login(engineer.user)
    form = {"name": "acme-github", "kind": "github", "url": "https://api.github.com", "credential_env": "T"}
    form |= {"environment": "", "schedule": "600", "enabled": "on"}

    answer = client.post(reverse("admin:sources_source_add"), form | {"config": '{"repositores": ["acme/payments"]}'})

    assert answer.status_code == 200
    assert answer.context["adminform"].form.errors["config"] == [f"source 'acme-github': {MISSPELT}"]
    assert not Source.objects.exists()
    fixed = client.post(reverse("admin:sources_source_add"), form | {"config": '{"repositories": ["acme/payments"]}'})
    assert fixed.status_code == 302
    assert Source.objects.get().config == {"repositories": ["acme/payments"]}
