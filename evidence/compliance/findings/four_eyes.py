"""Four eyes: who may approve what another engineer proposed.

The approver must be a different person from the proposer, and for a risk acceptance neither may
have had a hand in the change the finding is about: its author, an approver or its merger, as the
forge read model knows them (forge logins compared with user names, case-insensitively).
"""

from __future__ import annotations

from collections.abc import Callable

from evidence.compliance.findings.errors import PolicyError


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def check_second_engineer(proposed_by: str, approved_by: str) -> None:
    if not approved_by:
        raise PolicyError("approved_by: required")
    if same_person(proposed_by, approved_by):
        raise PolicyError(f"approved_by: {approved_by} proposed it; a different engineer must approve")


# Who worked on a deployment's changes is read from its chain of custody, which sits above findings
# (custody cites finding codes); custody hands the reader in when the app is ready, so findings never
# import custody.
ChangePeople = Callable[[object], dict[str, str]]
_change_people: ChangePeople | None = None


def provide_change_people(reader: ChangePeople) -> None:
    global _change_people
    _change_people = reader


def check_outside_the_change(deployment: object, *names: str) -> None:
    """Neither the proposer nor the approver may be the change's author, approver or merger."""
    if _change_people is None:
        raise RuntimeError("four eyes: no reader of a change's people (evidence.compliance not ready)")
    people = _change_people(deployment)
    for name in names:
        role = people.get(name.strip().casefold())
        if role:
            raise PolicyError(f"{name} is the change's {role}; someone outside the change must accept its risk")
