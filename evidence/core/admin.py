"""API tokens in the admin: superusers issue (the token is shown once) and revoke (delete) them.
No group holds a permission on tokens (evidence.core.access), so only superusers see this page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from knox.models import AuthToken

from evidence.core.tokens import issue_api_token


class IssueTokenForm(forms.ModelForm):
    days = forms.IntegerField(min_value=1, required=False, help_text="lifetime; empty: API_TOKEN_TTL_DAYS")

    class Meta:
        model = AuthToken
        fields = ["user"]


admin.site.unregister(AuthToken)  # knox's own page lists digests and sets no expiry by default


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username"]
    readonly_fields = ["token_key", "user", "created", "expiry"]
    exclude = ["digest"]
    raw_id_fields = ["user"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = IssueTokenForm
            kwargs["fields"] = ["user", "days"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is issued or revoked, never edited

    def save_model(self, request: HttpRequest, obj: AuthToken, form: Any, change: bool) -> None:
        issued = issue_api_token(form.cleaned_data["user"], form.cleaned_data.get("days"))
        obj.pk = issued.row.pk  # the admin's redirect and log entry name the issued row
        self.message_user(request, f"API token (shown once, copy it now): {issued.token}", messages.WARNING)
