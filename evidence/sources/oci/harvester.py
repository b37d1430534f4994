"""OCI registries: image digests, their cosign/Sigstore signatures and SLSA provenance, verified.

Source config (sources file or admin):
    url: https://registry.example            # the registry; credential_env: `user:password` or a token
    images: [acme/payments, acme/api:prod, acme/job@sha256:<hex>]   # all tags / one tag / one digest
    trusted_keys: [/etc/ledger/keys/release.pub]                     # PEM, ECDSA P-256 or Ed25519
    trusted_identities: [{issuer: https://token.actions.githubusercontent.com,
                          subject: "https://github.com/acme/*"}]     # or subject_regex
    trusted_root: /etc/ledger/sigstore/trusted_root.json             # for keyless bundles, offline
    max_tags: 200
    github_repositories: [acme/payments]       # also ask GitHub's artifact attestations API
    include_deployed: true                     # also digests of this registry named by deployments
    github_api_url: https://api.github.com     # github_credential_env: variable holding a token

Digests named by a deployment: any ledger entry of kind `*.deployment` whose `data.images` lists
full references (`<registry>/<repository>[:tag]@sha256:<hex>`) on this source's registry host.

One target per repository. The tags read yield an `oci.tags` entry (tag -> digest) whenever that
mapping changes, so what a tag named at any moment can be told later. Each digest yields an
`oci.artifact` entry (tags seen), one
`oci.signature` entry per signature found (or one saying none was, or why none could be read) and
one `oci.provenance` entry per attestation, each with the verdict and the raw material.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from evidence.core.digests import canonical_hash16
from evidence.core.secrets import read_secret
from evidence.sources.harvesters.base import Harvester, HarvestError, HarvestResult
from evidence.sources.models import Source
from evidence.sources.oci.client import NotFound, RegistryClient, RegistryError, Unreachable
from evidence.sources.oci.github_attestations import DEFAULT_API, check_github_attestations
from evidence.sources.oci.provenance import is_provenance
from evidence.sources.oci.reference import ARTEFACT_TAG, ImageSpec, ImageSpecError, parse_image_spec, subject_for
from evidence.sources.oci.trust import TrustConfigError, TrustPolicy, load_policy
from evidence.sources.oci.verification import ArtifactReport, Finding, inspect_artifact
from ledger.envelope import Record
from ledger.models import Entry

DEFAULT_MAX_TAGS = 200


class OciHarvester(Harvester):
    kind = "oci"

    def targets(self, source: Source) -> list[str]:
        return list(dict.fromkeys(spec.repository for spec in _specs(source)))

    def harvest(self, source: Source, target: str, cursor: dict[str, Any]) -> HarvestResult:
        if not source.url:
            raise HarvestError(f"source {source.name}: url (the registry) is required")
        try:
            policy = load_policy(
                source.setting("trusted_keys"), source.setting("trusted_identities"), source.setting("trusted_root")
            )
        except TrustConfigError as exc:
            raise HarvestError(f"source {source.name}: {exc}") from None
        client = RegistryClient(source.url, source.credential(), timeout=float(source.setting("timeout", 10)))
        try:
            client.ping()
        except RegistryError as exc:
            raise HarvestError(f"registry {source.url}: {exc}") from None
        specs = [spec for spec in _specs(source) if spec.repository == target]
        result = HarvestResult()
        try:
            digests = self._digests(client, specs, source, result)
        except Unreachable as exc:  # went away mid-harvest: nothing trustworthy to report
            raise HarvestError(f"registry {source.url}: {exc}") from None
        if not digests and result.errors:
            result.requests = client.requests_made
            raise HarvestError("; ".join(result.errors))
        verdicts: Counter[str] = Counter()
        github = [str(r) for r in source.setting("github_repositories") or []]
        for digest, tags in sorted(digests.items()):
            report = inspect_artifact(client, target, digest, policy)
            for repository in github:
                self._add_github_attestations(source, client, repository, report, policy)
            result.errors.extend(report.errors)
            for record in records_for(report, sorted(tags), source.name, policy):
                result.records.append(record)
                if record.kind != "oci.artifact":
                    verdicts[f"{record.kind}:{record.data['verdict']}"] += 1
        result.requests = client.requests_made
        named = {tag: d for d, tags in sorted(digests.items()) for tag in sorted(tags)}
        if named and named != cursor.get("tags"):
            result.records.append(tags_record(source.name, client.host, target, named, cursor.get("tags") or {}))
        result.cursor = {"tags": named}
        result.observed = {
            "registry": client.host,
            "repository": target,
            "digests": len(digests),
            "tags": sum(len(t) for t in digests.values()),
            "verdicts": dict(sorted(verdicts.items())),
        }
        return result

    def _add_github_attestations(
        self, source: Source, client: RegistryClient, repository: str, report: ArtifactReport, policy: TrustPolicy
    ) -> None:
        api = source.setting("github_api_url") or DEFAULT_API
        token = read_secret(source.setting("github_credential_env") or "")
        client.requests_made += 1  # one page per digest and repository, as a rule
        for finding in check_github_attestations(client.session, api, repository, report.digest, policy, token):
            if finding.verdict.verdict == "fetch_failed":
                report.errors.append(finding.verdict.reason)
            is_statement = finding.kind == "sigstore-attestation" or finding.verdict.verdict == "fetch_failed"
            (report.attestations if is_statement else report.signatures).append(finding)
        if report.signatures and len(report.signatures) > 1:
            # a GitHub bundle signing the image itself replaces the "no signature in the registry" finding
            report.signatures = [f for f in report.signatures if f.verdict.verdict != "no_signature"]

    def _digests(
        self, client: RegistryClient, specs: list[ImageSpec], source: Source, result: HarvestResult
    ) -> dict[str, set[str]]:
        """Digest -> tags it was seen under, for every configured digest, tag and tagged repository."""
        digests: dict[str, set[str]] = {}
        max_tags = int(source.setting("max_tags", DEFAULT_MAX_TAGS))
        for spec in specs:
            if spec.digest:
                digests.setdefault(spec.digest, set())
                continue
            if spec.tag:
                tags = [spec.tag]
            else:
                try:
                    tags = [t for t in client.list_tags(spec.repository) if not ARTEFACT_TAG.match(t)]
                except RegistryError as exc:
                    result.errors.append(str(exc))
                    continue
                if len(tags) > max_tags:
                    result.errors.append(f"{spec.repository}: {len(tags)} tags, only the first {max_tags} read")
                    tags = sorted(tags)[:max_tags]
            for tag in tags:
                try:
                    digests.setdefault(client.resolve(spec.repository, tag), set()).add(tag)
                except NotFound:
                    result.errors.append(f"{spec.repository}:{tag}: tag not found")
                except Unreachable:
                    raise
                except RegistryError as exc:
                    result.errors.append(str(exc))
        return digests


def _specs(source: Source) -> list[ImageSpec]:
    images = source.setting("images") or []
    if not isinstance(images, list):
        raise HarvestError(f"source {source.name}: images must be a list")
    try:
        specs = [parse_image_spec(item) for item in images]
    except ImageSpecError as exc:
        raise HarvestError(f"source {source.name}: {exc}") from None
    if source.setting("include_deployed"):
        specs.extend(deployed_images(urlsplit(source.url).netloc))
    return specs


def deployed_images(host: str) -> list[ImageSpec]:
    """Digests on registry host that deployment entries name (references without a digest or on
    another registry are not ours to verify)."""
    found: dict[str, ImageSpec] = {}
    for entry in Entry.objects.filter(kind__endswith=".deployment").order_by("seq").iterator():
        images = entry.data.get("images")
        for ref in images if isinstance(images, list) else []:
            if not isinstance(ref, str) or not ref.startswith(f"{host}/") or "@" not in ref:
                continue
            name, _, digest = ref[len(host) + 1 :].partition("@")
            repository = name.split(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
            try:
                spec = parse_image_spec(f"{repository}@{digest}")
            except ImageSpecError:
                continue  # a malformed reference in someone else's evidence is theirs to report
            found[f"{spec.repository}@{spec.digest}"] = spec
    return list(found.values())


def records_for(report: ArtifactReport, tags: list[str], source: str, policy: TrustPolicy) -> list[Record]:
    """Ledger records for one inspected digest. Keys are the artifact's identity plus a hash of
    what was found and judged, so a re-harvest that sees the same thing adds nothing."""
    where = f"{report.registry}/{report.repository}@{report.digest}"
    subject = subject_for(report.registry, report.repository, report.digest)
    base = {"registry": report.registry, "repository": report.repository, "digest": report.digest}
    records = []
    if report.manifest:
        data = {
            **base,
            "media_type": report.media_type,
            "tags": tags,
            "manifest": report.manifest,
            "looked": report.looked,
        }
        records.append(Record("oci.artifact", source, subject, f"oci:artifact:{where}:{canonical_hash16(data)}", data))
    trust = policy.describe()
    for finding in [*report.signatures, *report.attestations]:
        kind = _entry_kind(finding, report)
        data = {**base, **_finding_data(finding), "trust": trust}
        records.append(
            Record(
                kind,
                source,
                subject,
                f"{kind.replace('.', ':')}:{where}:{canonical_hash16(data)}",
                data,
                occurred_at=_logged_at(finding),
            )
        )
    return records


def tags_record(source: str, registry: str, repository: str, named: dict[str, str], before: dict[str, str]) -> Record:
    """`oci.tags`: what each tag of the repository named when this harvest looked, recorded when
    that changes. Tags move; a deployment naming a tag is resolved by the sighting in force then."""
    data = {"registry": registry, "repository": repository, "tags": named}
    key = f"oci:tags:{registry}/{repository}:{canonical_hash16(before)}:{canonical_hash16(named)}"
    return Record("oci.tags", source, f"oci:{registry}/{repository}", key, data)


def _entry_kind(finding: Finding, report: ArtifactReport) -> str:
    """Provenance (or an attestation we could not read) -> oci.provenance; other statements and
    plain signatures -> oci.signature."""
    if finding in report.attestations and (finding.provenance or not finding.predicate_type):
        return "oci.provenance"
    if finding.predicate_type and is_provenance({"predicateType": finding.predicate_type}):
        return "oci.provenance"
    return "oci.signature"


def _finding_data(finding: Finding) -> dict[str, Any]:
    return {
        **finding.verdict.as_data(),
        "signature_kind": finding.kind,
        "discovery": finding.discovery,
        "manifest_digest": finding.manifest_digest,
        "predicate_type": finding.predicate_type,
        "provenance": finding.provenance.as_data() if finding.provenance else None,
        "keyless": finding.keyless or None,
        "material": finding.material,
    }


def _logged_at(finding: Finding) -> datetime | None:
    when = (finding.keyless or {}).get("integrated_time")
    return datetime.fromtimestamp(when, UTC) if isinstance(when, int) else None
