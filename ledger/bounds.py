"""Whole numbers the databases can hold, for ids, seqs and tree sizes in URLs and filters.

`<id:name>` in a URL: a row id or a tree size.
Django's `<int:>` accepts any length of digits, and a 25-digit id then overflows the database's
64-bit integer (a 500). Larger numbers do not match the route, so they get a plain 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.urls import register_converter

LARGEST = 2**63 - 1  # bigint on PostgreSQL, INTEGER on SQLite


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > LARGEST:
            raise ValueError(f"{value} is past the largest id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


class IdFilter(django_filters.NumberFilter):  # type: ignore[misc]
    """A filter on an id or seq: a whole number from 0 to LARGEST, else a 400 naming the filter."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", LARGEST)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):  # type: ignore[misc]
    """An ISO 8601 time, turned into UTC before any query: PostgreSQL refuses offsets past +-15:59,
    and a time that cannot be written in UTC (around year 1 or 9999) is a 400, not a database error."""

    def to_python(self, value: object) -> datetime | None:
        moment: datetime | None = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        except OverflowError:
            raise forms.ValidationError(f"{value} cannot be written in UTC", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    """A time filter whose value is compared in UTC (see UtcIsoDateTimeField)."""

    field_class = UtcIsoDateTimeField
