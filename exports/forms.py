"""The admin's form for requesting a pack over a period (or listed entries)."""

from __future__ import annotations

from typing import Any

from django import forms

from .pack.providers import PROVIDERS
from .pack.scope import Scope, ScopeError


class PackRequestForm(forms.Form):
    type = forms.ChoiceField(choices=[], help_text="only scopes whose content provider is installed are offered")
    environment = forms.CharField(required=False)
    repository = forms.CharField(required=False, help_text="owner/name")
    deployment = forms.CharField(required=False)
    kinds = forms.CharField(required=False, help_text="entry kinds, comma-separated (entries scope)")
    subject = forms.CharField(required=False, help_text="exact entry subject (entries scope)")
    seqs = forms.CharField(required=False, help_text="ledger seqs, comma-separated (entries scope)")
    since = forms.DateTimeField(required=False, help_text="UTC, inclusive, e.g. 2026-01-01 00:00")
    until = forms.DateTimeField(required=False, help_text="UTC, exclusive")
    sample = forms.IntegerField(required=False, min_value=0, help_text="entries to show in full, drawn at random")
    seed = forms.CharField(required=False, help_text="recorded in the pack; random when empty")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(name, name) for name in sorted(PROVIDERS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            seqs = [int(s) for s in (data.get("seqs") or "").split(",") if s.strip()]
        except ValueError:
            raise forms.ValidationError({"seqs": "comma-separated whole numbers"}) from None
        raw = {
            "type": data.get("type"),
            "environment": data.get("environment"),
            "repository": data.get("repository"),
            "deployment": data.get("deployment"),
            "kinds": [k.strip() for k in (data.get("kinds") or "").split(",") if k.strip()],
            "subject": data.get("subject"),
            "seqs": seqs,
            "since": data.get("since"),
            "until": data.get("until"),
            "sample": data.get("sample") or 0,
            "seed": data.get("seed"),
        }
        try:
            data["scope"] = Scope.from_json(raw)
        except ScopeError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data
