"""fetch_together: evaluate independent querysets in one database round trip.

A chain of custody reads about twenty small, independent result sets. On PostgreSQL each query
costs a round trip and a wake-up of the server process, which on a busy machine is most of the
time a query takes; sent together as one multi-statement text (the simple query protocol answers
each statement with its own result set) they cost one. The querysets are built and compiled by
the ORM as usual, and their rows become model instances (or value tuples) exactly as iterating
them would make them, with the same converters. SQLite has no round trip to save: there each
queryset is simply evaluated.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable


def fetch_together(*querysets: QuerySet[Any]) -> list[list[Any]]:
    """Each queryset's rows, in order: model instances, or tuples for `values_list()` (not flat).
    Querysets on another database, or of another shape, are evaluated one by one."""
    out: list[list[Any] | None] = [None] * len(querysets)
    batch: list[tuple[int, Any, str]] = []
    alias = querysets[0].db if querysets else ""
    for n, qs in enumerate(querysets):
        if qs.db != alias or not _batched(alias) or not _plain(qs):
            out[n] = list(qs)
            continue
        compiler = qs.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()  # also fills compiler.select, klass_info
        except EmptyResultSet:  # e.g. `__in=[]`: the ORM would not ask either
            out[n] = []
            continue
        batch.append((n, compiler, _bind(alias, sql, params)))
    if len(batch) == 1:  # nothing to combine: plain evaluation
        n = batch[0][0]
        out[n] = list(querysets[n])
    elif batch:
        results = _execute(alias, [sql for _, _, sql in batch])
        for (n, compiler, _), rows in zip(batch, results, strict=True):
            out[n] = _objects(querysets[n], compiler, rows)
    return [rows if rows is not None else [] for rows in out]


def _batched(alias: str) -> bool:
    """PostgreSQL with client-side binding (Django's default): statements can be bound here."""
    connection = connections[alias]
    return connection.vendor == "postgresql" and not connection.settings_dict.get("OPTIONS", {}).get(
        "server_side_binding"
    )


def _plain(qs: QuerySet[Any]) -> bool:
    """Shapes whose rows we rebuild exactly: models without select_related or prefetches, and
    value tuples. Anything else goes through the ORM untouched."""
    if (
        qs._result_cache is not None
        or getattr(qs, "_prefetch_related_lookups", ())
        or getattr(qs, "_known_related_objects", {})
    ):
        return False
    if qs._iterable_class is ModelIterable:
        return not qs.query.select_related
    return qs._iterable_class is ValuesListIterable


def _bind(alias: str, sql: str, params: Any) -> str:
    """The statement with its parameters bound client-side, as Django's psycopg cursor (a
    ClientCursor, unless server_side_binding is set) does when it executes it."""
    with connections[alias].cursor() as cursor:
        return cursor.cursor.mogrify(sql, tuple(params))  # type: ignore[no-any-return]


def _execute(alias: str, statements: list[str]) -> list[list[tuple[Any, ...]]]:
    results: list[list[tuple[Any, ...]]] = []
    with connections[alias].cursor() as cursor:
        cursor.execute(";\n".join(statements))  # no parameters: the text is sent as it is
        raw = cursor.cursor
        while True:
            results.append(list(raw.fetchall()))
            if not raw.nextset():
                break
    if len(results) != len(statements):
        raise RuntimeError(f"fetch_together: {len(statements)} statements gave {len(results)} result sets")
    return results


def _objects(qs: QuerySet[Any], compiler: Any, rows: list[tuple[Any, ...]]) -> list[Any]:
    converted = compiler.results_iter(results=[rows])
    if qs._iterable_class is ValuesListIterable:
        return [tuple(row) for row in converted]
    select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [f[0].target.attname for f in select[start:end]]
    objects = []
    for row in converted:
        obj = model.from_db(qs.db, names, row[start:end])
        for name, position in annotations.items():
            setattr(obj, name, row[position])
        objects.append(obj)
    return objects
