"""Four eyes: who may approve what another engineer proposed.

The approver must be a different person from the proposer, and for a risk acceptance neither may
have had a hand in the change the finding is about: its author, an approver or its merger, as the
forge read model knows them (forge logins compared with user names, case-insensitively).
"""

from __future__ import annotations

from django.db.models import Q

from evidence.compliance.findings.errors import PolicyError


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def check_second_engineer(proposed_by: str, approved_by: str) -> None:
    if not approved_by:
        raise PolicyError("approved_by: required")
    if same_person(proposed_by, approved_by):
        raise PolicyError(f"approved_by: {approved_by} proposed it; a different engineer must approve")


def change_people(deployment: object) -> dict[str, str]:
    """The people of the changes a deployment shipped, by role: {login: 'author' | 'approver' | 'merger'}.
    The changes are the pull/merge requests its chain of custody cites."""
    from evidence.compliance.custody import build_custody
    from evidence.readmodels.models import Approval, PullRequest

    chain = build_custody(deployment)  # type: ignore[arg-type]
    seqs = {seq for link in chain.links for seq in link.entry_seqs}
    pulls = list(PullRequest.objects.filter(entry_seq__in=seqs))
    people: dict[str, str] = {}
    for pull in pulls:
        for login, role in ((pull.author, "author"), (pull.merged_by, "merger")):
            if login:
                people.setdefault(login.casefold(), role)
    approved = Q(submitted_state__iexact="approved") | Q(state__iexact="approved")
    reviewers = Approval.objects.filter(approved, pull_request__in=pulls)
    for login in reviewers.values_list("reviewer", flat=True):
        if login:
            people.setdefault(login.casefold(), "approver")
    return people


def check_outside_the_change(deployment: object, *names: str) -> None:
    """Neither the proposer nor the approver may be the change's author, approver or merger."""
    people = change_people(deployment)
    for name in names:
        role = people.get(name.strip().casefold())
        if role:
            raise PolicyError(f"{name} is the change's {role}; someone outside the change must accept its risk")
