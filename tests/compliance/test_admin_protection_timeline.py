"""Protection history per branch on a time axis: changes as events, coverage as bands judged as
custody judges a merge (observed: seen with the same settings on both sides, within its window)."""

from __future__ import annotations

from datetime import timedelta

from evidence.readmodels.models import ProtectionObservation
from tests.support.admin_world import REPO
from tests.support.gitops import at

PAGE = "/admin/readmodels/protectionsnapshot/timeline/"


def table(page: str, name: str) -> list[str]:
    return page.split(f'id="{name}"')[1].split("</table>")[0].split("<tr class=")[1:]


def test_it_lists_branches_and_shows_changes_as_events(client, world, auditor):
    client.force_login(auditor.user)
    index = client.get(PAGE).content.decode()
    assert "acme/payments @ main" in index and 'id="timeline"' not in index

    page = client.get(PAGE, {"forge": "github", "repository": REPO, "branch": "main"}).content.decode()
    changes = table(page, "timeline")

    assert len(changes) == 2 and page.count('class="band-event"') == 2
    assert "first seen: Dismiss stale approvals: yes; Required approvals: 1" in changes[0]
    assert "Required approvals: 1 &rarr; 2" in changes[1] and "Dismiss stale" not in changes[1]
    assert 'href="/admin/ledger/entry/905/change/"' in changes[1]


def test_it_draws_coverage_as_bands_as_custody_reads_it(client, world, auditor):
    client.force_login(auditor.user)

    page = client.get(PAGE, {"forge": "github", "repository": REPO, "branch": "main"}).content.decode()
    bands = table(page, "coverage")

    assert [row.split('"')[1] for row in bands] == ["not_observed", "observed", "not_observed"]
    assert "changed between these harvests" in bands[0]
    # Seen with the same settings at 10:00, 11:00 and 16:00: one observed band, not a row per poll.
    assert "2026-03-01 10:00" in bands[1] and "2026-03-01 16:00" in bands[1]
    assert 'href="/admin/ledger/entry/911/change/"' in bands[1] and 'href="/admin/ledger/entry/913/change/"' in bands[1]
    assert "no harvest has looked since" in bands[2]
    assert page.count('class="band band-observed"') == 1


def test_it_calls_a_silence_longer_than_custodys_window_not_observed(client, world, auditor):
    ProtectionObservation.objects.create(
        forge="github",
        repository=REPO,
        branch="main",
        observed_at=at(420) + timedelta(days=40),
        content_hash="h2",
        changed=False,
        source="github-acme",
        entry_seq=914,
    )
    client.force_login(auditor.user)

    page = client.get(PAGE, {"forge": "github", "repository": REPO, "branch": "main"}).content.decode()
    bands = table(page, "coverage")

    assert [row.split('"')[1] for row in bands] == ["not_observed", "observed", "not_observed", "not_observed"]
    assert "nobody looked for 40 days" in bands[2]
