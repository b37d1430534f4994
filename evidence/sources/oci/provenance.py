"""in-toto statements and the SLSA provenance fields the chain of custody needs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
GIT_DIGESTS = ("gitCommit", "sha1")


class StatementError(ValueError):
    """Not an in-toto statement; the message says what is wrong."""


@dataclass
class Provenance:
    predicate_type: str
    subjects: list[str] = field(default_factory=list)  # sha256:<hex> of every subject
    builder_id: str = ""
    build_type: str = ""
    source_repo: str = ""
    source_commit: str = ""
    source_ref: str = ""
    invocation_id: str = ""

    def as_data(self) -> dict[str, Any]:
        return asdict(self)


def parse_statement(payload: bytes) -> dict[str, Any]:
    try:
        statement = json.loads(payload)
    except ValueError:
        raise StatementError("payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") not in STATEMENT_TYPES:
        raise StatementError("payload is not an in-toto statement (_type)")
    if not isinstance(statement.get("subject"), list) or not isinstance(statement.get("predicateType"), str):
        raise StatementError("statement has no subject list or predicateType")
    return statement


def subject_digests(statement: dict[str, Any]) -> list[str]:
    out = []
    for subject in statement.get("subject") or []:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(digest, dict) and isinstance(digest.get("sha256"), str):
            out.append("sha256:" + digest["sha256"].lower())
    return out


def is_provenance(statement: dict[str, Any]) -> bool:
    return str(statement.get("predicateType", "")).startswith("https://slsa.dev/provenance/")


def read_provenance(statement: dict[str, Any]) -> Provenance:
    """Builder, build type, source repo/commit and invocation of SLSA v1 or v0.2 provenance."""
    predicate = _dict(statement.get("predicate"))
    out = Provenance(statement["predicateType"], subject_digests(statement))
    if out.predicate_type == SLSA_V02 or "builder" in predicate:
        _read_v02(predicate, out)
    else:
        _read_v1(predicate, out)
    return out


# Reference: https://slsa.dev/spec/v1.0/provenance
def _read_v1(predicate: dict[str, Any], out: Provenance) -> None:
    build = _dict(predicate.get("buildDefinition"))
    run = _dict(predicate.get("runDetails"))
    out.builder_id = _str(_dict(run.get("builder")).get("id"))
    out.build_type = _str(build.get("buildType"))
    out.invocation_id = _str(_dict(run.get("metadata")).get("invocationId"))
    external = _dict(build.get("externalParameters"))
    workflow = _dict(external.get("workflow"))
    # GitHub Actions names the repository in externalParameters.workflow; other builders use `source`.
    declared = _str(workflow.get("repository")) or _str(external.get("source")) or _str(external.get("repository"))
    out.source_ref = _str(workflow.get("ref")) or _str(external.get("ref"))
    deps = [d for d in build.get("resolvedDependencies") or [] if isinstance(d, dict)]
    _pick_source(deps, declared, out)


# Reference: https://slsa.dev/spec/v0.2/provenance
def _read_v02(predicate: dict[str, Any], out: Provenance) -> None:
    out.builder_id = _str(_dict(predicate.get("builder")).get("id"))
    out.build_type = _str(predicate.get("buildType"))
    out.invocation_id = _str(_dict(predicate.get("metadata")).get("buildInvocationId"))
    config = _dict(_dict(predicate.get("invocation")).get("configSource"))
    materials = [m for m in predicate.get("materials") or [] if isinstance(m, dict)]
    if config:
        materials.insert(0, config)
    _pick_source(materials, "", out)


def _pick_source(deps: list[dict[str, Any]], declared: str, out: Provenance) -> None:
    """The git dependency that is the declared repository, else the first git dependency."""
    git = [d for d in deps if any(isinstance(_dict(d.get("digest")).get(k), str) for k in GIT_DIGESTS)]
    chosen = next((d for d in git if declared and _repo_of(_str(d.get("uri"))) == _repo_of(declared)), None)
    chosen = chosen or (git[0] if git else None)
    if chosen is None:
        out.source_repo = _repo_of(declared)
        return
    uri = _str(chosen.get("uri"))
    out.source_repo = _repo_of(uri)
    digest = _dict(chosen.get("digest"))
    out.source_commit = next((digest[k] for k in GIT_DIGESTS if isinstance(digest.get(k), str)), "")
    if "@" in uri.split("://", 1)[-1] and not out.source_ref:
        out.source_ref = uri.rsplit("@", 1)[1]


def _repo_of(uri: str) -> str:
    """git+https://github.com/o/r@refs/heads/main -> https://github.com/o/r."""
    uri = uri.removeprefix("git+")
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest.partition("/")[2]:  # a ref after the path, not user@host
        rest = rest.rsplit("@", 1)[0]
    return (scheme + sep + rest).removesuffix(".git")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
