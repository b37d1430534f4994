"""Plain wording for values shown to a person (admin and packs): settings as "Required approvals: 2", yes or no.

Recorded evidence keeps its own names and values (`dismiss_stale_reviews: true`); the PDF says
them in words, never as Python (`protected=True`). "unknown" (a setting the credential could
not read) stays unknown, never no.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

UNKNOWN = "unknown"  # as recorded by the forges (evidence.sources.forges.common.UNKNOWN)

# Forge protection settings (evidence.sources.forges github/gitlab); other names are spelled out.
LABELS = {
    "protected": "Protected",
    "required_approvals": "Required approvals",
    "dismiss_stale_reviews": "Dismiss stale approvals",
    "require_pull_request": "Pull request required",
    "enforce_admins": "Enforced for administrators",
    "require_code_owner_reviews": "Code owner review required",
    "require_last_push_approval": "Approval of the last push required",
    "allow_force_pushes": "Force pushes allowed",
    "required_signatures": "Signed commits required",
    "required_status_checks": "Required status checks",
    "bypass_actors": "May bypass",
    "author_may_approve": "Author may approve",
    "committers_may_approve": "Committers may approve",
    "push_access": "May push",
    "merge_access": "May merge",
}


def label(name: str) -> str:
    """The label of a setting: known names from LABELS, others with underscores as spaces."""
    return LABELS.get(name) or name.replace("_", " ").strip().capitalize()


def describe_value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "not stated"
    if value == UNKNOWN:
        return "unknown (not readable)"
    if isinstance(value, Mapping):
        return "; ".join(f"{label(str(k))}: {describe_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(describe_value(v) if isinstance(v, bool | Mapping) else str(v) for v in value) or "none"
    return str(value)


def describe_settings(settings: Mapping[str, Any], names: Iterable[str] | None = None) -> list[str]:
    """One "Label: value" line per setting, in the order of `names` (default: the mapping's)."""
    names = list(settings) if names is None else [n for n in names if n in settings]
    return [f"{label(name)}: {describe_value(settings[name])}" for name in names]
