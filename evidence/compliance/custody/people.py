"""The people of the changes a deployment shipped (for four eyes: who may not accept their risk)."""

from __future__ import annotations

from django.db.models import Q

from evidence.compliance.custody.build import build_custody
from evidence.readmodels.models import Approval, PullRequest


def change_people(deployment: object) -> dict[str, str]:
    """The people of the changes a deployment shipped, by role: {login: 'author' | 'approver' | 'merger'}.
    The changes are the pull/merge requests its chain of custody cites."""
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
