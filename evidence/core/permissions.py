"""Who may do what in the API: auditors read, engineers read and configure, outsiders nothing.

Group names are fixed (`auditors`, `engineers`); the admin (part B) uses the same ones.
Anonymous callers get 401 (token authentication answers with WWW-Authenticate), signed-in
users in neither group 403, before any data is read.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

AUDITORS, ENGINEERS = "auditors", "engineers"  # the group names the admin, the API and packs check


def in_group(user: Any, name: str) -> bool:
    return bool(user and user.is_authenticated and user.groups.filter(name=name).exists())


class ReadsEvidence(BasePermission):
    """Auditors, engineers and superusers may read (audit packs use the same rule)."""

    message = "evidence is for auditors and engineers"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        return bool(user.groups.filter(name__in=(AUDITORS, ENGINEERS)).exists())


class EngineersWrite(BasePermission):
    """Reads as ReadsEvidence; writes (policies, risk acceptances) for engineers and superusers only."""

    message = "only engineers may change policies or accept findings"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return ReadsEvidence().has_permission(request, view)
        return is_engineer(user)


def is_engineer(user: Any) -> bool:
    """An engineer or a superuser (signed in)."""
    return bool(user and user.is_authenticated and (user.is_superuser or in_group(user, ENGINEERS)))


class EngineersOnly(BasePermission):
    """Engineers and superusers, whatever the method: for reads that write an entry (the gate)."""

    message = "only engineers may do this"

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_engineer(request.user)
