"""On PostgreSQL the lead time's percentiles are the database's (percentile_disc): they must be the
nearest-rank figures the spans give when read as numbers, as on SQLite."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection

from evidence.compliance.dora.bands import percentile
from evidence.compliance.dora.buckets import buckets
from evidence.compliance.dora.changes import lead_figures, lead_figures_of, micros_of, shipped_spans
from tests.support.dora_world import T0, World

from ..conftest import ON_POSTGRES

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def test_the_figures_equal_those_of_the_spans_read_as_numbers():
    rng = random.Random(14)
    w = World()
    at = T0 - 20 * DAY
    for _ in range(40):  # batches of one to five changes, a few hours apart, over five weeks
        for _ in range(rng.randrange(1, 6)):
            at += timedelta(minutes=rng.randrange(5, 600))
            opened = timedelta(minutes=rng.randrange(10, 5000))
            last = w.change(at, opened=opened, approved=timedelta(minutes=rng.randrange(-60, 600)))
        w.deploy(last, at + timedelta(minutes=rng.randrange(1, 300)))
    w.append()
    since, until = T0 - 14 * DAY, T0 + 10 * DAY
    start, end = micros_of(since), micros_of(until)
    for bucket in ("week", "month"):
        periods = [(micros_of(a), micros_of(b)) for a, b in buckets(since, until, bucket)]
        figures = lead_figures("prod", None, start, end, periods)
        assert figures == lead_figures_of(*shipped_spans("prod", None, start, end), periods)
        assert figures.evidenced > 50
        assert sum(n for n, _ in figures.trend) == figures.evidenced


@pytest.mark.skipif(not ON_POSTGRES, reason="percentile_disc is PostgreSQL's")
def test_percentile_disc_takes_the_nearest_rank_at_every_size():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n, percentile_disc(0.5) WITHIN GROUP (ORDER BY g), percentile_disc(0.9) WITHIN GROUP (ORDER BY g)"
            " FROM generate_series(1, 1500) n, generate_series(1, n) g GROUP BY n ORDER BY n"
        )
        rows = cursor.fetchall()
    assert rows == [(n, percentile(range(1, n + 1), 50), percentile(range(1, n + 1), 90)) for n in range(1, 1501)]
