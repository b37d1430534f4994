"""The admin answers 403 to signed-in users in neither group (superusers excepted), on every page.

Django's admin would show such a staff user an empty index ("nothing to view or edit"); the README
promises 403, and an empty page still confirms the account works. Logging out stays possible.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from evidence.core.permissions import AUDITORS, ENGINEERS


class AdminNeedsAGroupMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._refused(request):
            raise PermissionDenied("the admin is for auditors and engineers")
        return self.get_response(request)

    @staticmethod
    def _refused(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False  # the admin's own login redirect handles anonymous callers
        if not request.path.startswith(reverse("admin:index")):
            return False
        if request.path == reverse("admin:logout"):
            return False
        if user.is_superuser:
            return False
        return not user.groups.filter(name__in=(AUDITORS, ENGINEERS)).exists()
