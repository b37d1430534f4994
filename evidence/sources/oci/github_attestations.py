"""GitHub artifact attestations: Sigstore bundles GitHub stores per subject digest and repository.

Each bundle is judged exactly like one found in a registry (`verification.check_bundle`), so the
same trusted root and identity policy apply.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from evidence.sources.oci.trust import TrustPolicy
from evidence.sources.oci.verdicts import FETCH_FAILED, Verdict
from evidence.sources.oci.verification import Finding, check_bundle

DEFAULT_API = "https://api.github.com"


class GitHubError(RuntimeError):
    """The attestations API did not answer usefully; the message says why (never the token)."""


# Reference: https://docs.github.com/en/rest/repos/attestations#list-attestations
def list_attestations(
    session: requests.Session, api_url: str, repository: str, digest: str, token: str = "", timeout: float = 10
) -> list[dict[str, Any]]:
    """Every attestation GitHub holds for digest in repository (`owner/name`), all pages."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{api_url.rstrip('/')}/repos/{repository}/attestations/{digest}?per_page=100"
    out: list[dict[str, Any]] = []
    while url:
        try:
            response = session.get(url, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            raise GitHubError(f"GitHub attestations for {repository}: no answer ({type(exc).__name__})") from None
        if response.status_code == 404:  # no attestation for this digest (or no access to the repository)
            return out
        if response.status_code != 200:
            raise GitHubError(f"GitHub attestations for {repository}: HTTP {response.status_code}")
        try:
            items = response.json().get("attestations") or []
        except (ValueError, AttributeError):
            raise GitHubError(f"GitHub attestations for {repository}: answer is not a JSON object") from None
        out.extend(item for item in items if isinstance(item, dict))
        url = response.links.get("next", {}).get("url", "")
    return out


def check_github_attestations(
    session: requests.Session, api_url: str, repository: str, digest: str, policy: TrustPolicy, token: str = ""
) -> list[Finding]:
    """Findings for every attestation bundle of digest in repository; a failure is one finding."""
    try:
        items = list_attestations(session, api_url, repository, digest, token)
    except GitHubError as exc:
        return [Finding("none", Verdict(FETCH_FAILED, str(exc)), "github-attestations")]
    findings = []
    for item in items:
        material = {"github_repository": repository, "repository_id": item.get("repository_id")}
        raw = json.dumps(item.get("bundle"), separators=(",", ":")).encode()
        findings.append(check_bundle(digest, raw, material, "github-attestations", policy))
    return findings
