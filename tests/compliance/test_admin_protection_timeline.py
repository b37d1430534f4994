"""Protection history per repository and branch: changes with what changed, and gaps in observation."""

from __future__ import annotations

from tests.support.admin_world import REPO

PAGE = "/admin/readmodels/protectionsnapshot/timeline/"


def test_it_lists_branches_and_shows_changes_and_gaps_in_order(client, world, auditor):
    client.force_login(auditor.user)
    index = client.get(PAGE).content.decode()
    assert "acme/payments @ main" in index and 'id="timeline"' not in index

    text = client.get(PAGE, {"forge": "github", "repository": REPO, "branch": "main"}).content.decode()
    rows = text.split('id="timeline"')[1].split("</table>")[0].split('<tr class="')[1:]
    kinds = [row.split('"')[0] for row in rows]
    assert kinds == ["change", "change", "gap"]
    assert "first seen" in rows[0]
    assert "<code>required_approvals</code>: 1 &rarr; 2" in rows[1] and "dismiss_stale_reviews" not in rows[1]
    assert "2026-03-01 11:00 &ndash; 2026-03-01 16:00" in rows[2] and "not observed" in rows[2]
    assert 'href="/admin/ledger/entry/912/change/"' in rows[2] and 'href="/admin/ledger/entry/913/change/"' in rows[2]
