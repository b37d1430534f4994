"""Who may request and read audit packs: auditors and engineers (groups), and superusers."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

PACK_GROUPS = ("auditors", "engineers")


class CanUsePacks(BasePermission):
    message = "audit packs are for auditors and engineers"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        return user.groups.filter(name__in=PACK_GROUPS).exists()
