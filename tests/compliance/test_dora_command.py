"""manage.py dora prints the five figures with their bands and trend; --json is the API's body;
a bad parameter exits 2 with one line naming it."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support.dora_world import T0, World

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
ARGS = ["--environment", "prod", "--since", "2026-03-01T00:00Z", "--until", "2026-03-15T00:00Z"]


def world() -> None:
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + H)
    w.deploy(w.change(T0 + 2 * H), T0 + 3 * H)
    w.deploy(a, T0 + 5 * H)  # a rollback
    w.append()


def test_it_prints_the_five_figures_with_their_bands():
    world()
    out = io.StringIO()
    call_command("dora", *ARGS, stdout=out)
    text = out.getvalue()
    assert "Deployment frequency" in text and "0.214 deployments per day" in text  # 3 in 14 days
    assert "Change fail rate" in text and "0.3333 ratio (1 of 3)  [low]" in text
    assert "Failed deployment recovery time (median)  2.00 hours" in text
    assert "Rework rate" in text and "[no published band]" in text
    assert "DORA Accelerate State of DevOps Report 2024" in text
    assert "Trend by week:" in text


def test_json_is_what_the_api_gives(auditor):
    world()
    out = io.StringIO()
    call_command("dora", *ARGS, "--json", stdout=out)
    printed = json.loads(out.getvalue())
    params = {"environment": "prod", "since": "2026-03-01T00:00Z", "until": "2026-03-15T00:00Z", "limit": 1000}
    api = auditor.get("/api/v1/dora/", params).json()
    assert printed["metrics"] == api["metrics"]
    assert printed["samples"] == api["samples"]["results"]


def test_a_bad_parameter_exits_2_naming_it():
    with pytest.raises(CommandError) as refused:
        call_command("dora", "--environment", "prod", "--bucket", "day")
    assert refused.value.returncode == 2
    assert "bucket" in str(refused.value)
