"""Whether a deployment rolled back depends on every deployment before it: one recorded late
makes a later redeploy of its revision a rollback, however many deployments lie in between."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.compliance.dora import dora_figures
from tests.support.dora_world import T0, World, deployment_at

pytestmark = pytest.mark.django_db
H, DAY = timedelta(hours=1), timedelta(days=1)


def test_a_deployment_recorded_late_makes_a_later_redeploy_of_it_a_rollback():
    w = World()
    first = w.change(T0)
    w.deploy(first, T0 + H)
    late = w.records.pop()  # the first deployment: its entry arrives last
    second = w.change(T0 + 2 * H)
    w.deploy(second, T0 + 3 * H)
    third = w.change(T0 + 4 * H)
    w.deploy(third, T0 + 5 * H)
    w.deploy(first, T0 + 6 * H)  # back to #1, two deployments later
    w.append()
    assert deployment_at(T0 + 6 * H).outcome == "succeeded"  # nothing before it ran #1, as far as is known
    w.records = [late]
    w.append()
    assert [deployment_at(T0 + n * H).outcome for n in (1, 3, 5, 6)] == [
        "succeeded",
        "succeeded",
        "succeeded",
        "rolled_back",
    ]
    rework = dora_figures("prod", T0 - DAY, T0 + DAY).figures["rework_rate"]
    assert rework.extra["unplanned"] == 1
