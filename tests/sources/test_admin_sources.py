"""Sources and harvest runs in the admin: counts, duration, errors, and the engineers' "harvest now"."""

from __future__ import annotations

from evidence.sources.models import Source


def harvest_now(client, *sources: Source):
    action = {"action": "harvest_now", "_selected_action": [s.pk for s in sources]}
    return client.post("/admin/sources/source/", action)


def test_it_lists_sources_with_run_counts_and_runs_with_duration_and_errors(client, world, auditor):
    client.force_login(auditor.user)
    sources = client.get("/admin/sources/source/").content.decode()
    assert "github-acme" in sources and '<td class="field-failed_n">1</td>' in sources
    assert '<td class="field-last_status">partial</td>' in sources
    runs = client.get("/admin/sources/harvestrun/").content.decode()
    assert "12.0 s" in runs and '<td class="field-error_count">1</td>' in runs


def test_it_lets_the_engineer_start_a_harvest(client, world, engineer, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("evidence.sources.admin.harvest_source.delay", queued.append)
    client.force_login(engineer.user)
    assert "Harvest now" in client.get("/admin/sources/source/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = harvest_now(client, world.source)
    assert answer.status_code == 302 and queued == [world.source.pk]


def test_it_enqueues_nothing_for_a_disabled_source(
    client, world, engineer, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("evidence.sources.admin.harvest_source.delay", queued.append)
    Source.objects.filter(pk=world.source.pk).update(enabled=False)
    client.force_login(engineer.user)
    with django_capture_on_commit_callbacks(execute=True):
        harvest_now(client, world.source)
    assert queued == []


def test_it_does_not_offer_the_auditor_a_harvest(
    client, world, auditor, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("evidence.sources.admin.harvest_source.delay", queued.append)
    client.force_login(auditor.user)
    assert "Harvest now" not in client.get("/admin/sources/source/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        harvest_now(client, world.source)
    assert queued == []
