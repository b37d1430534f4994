"""Plain wording for values a pack shows a person: kept in evidence.core.wording, which the admin
shares (the same "Required approvals: 2" on screen and on paper)."""

from evidence.core.wording import LABELS, UNKNOWN, describe_settings, describe_value, label

__all__ = ["LABELS", "UNKNOWN", "describe_settings", "describe_value", "label"]
