"""In headless Chromium: the auditor signs in, opens a deployment, and sees its chain of custody."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.signals import post_migrate

from evidence.compliance.custody import build_custody
from evidence.core.access import AUDITORS
from evidence.readmodels.models import Deployment
from ledger.append_only import create_statements, drop_statements
from tests.support.admin_world import build_world
from tests.support.gitops import sha

from ..conftest import make_user

RESTORE = "tests-restore-ledger-triggers"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _execute(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            if "CREATE ROLE" not in statement:  # grants are not part of what the owner switches off
                cursor.execute(statement, None)


@pytest.fixture
def live_db(live_server, transactional_db):
    """Committed data the live server's thread can read. The live server sets up transactional_db
    before any fixture of ours, so committed_db's restore would run before the flush; here the owner
    drops the append-only triggers for the flush and puts them back from the flush's post_migrate."""
    yield live_server
    if connection.vendor == "postgresql":
        # A server thread's persistent connection can outlive the test and block the test database's
        # drop at the end of the session; end the other sessions on this (test) database.
        _execute(
            [
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ]
        )
    _execute(drop_statements(connection.vendor))

    def restore(**kwargs: object) -> None:
        post_migrate.disconnect(dispatch_uid=RESTORE)
        _execute(create_statements(connection.vendor, settings.LEDGER_APP_ROLE))

    post_migrate.connect(restore, weak=False, dispatch_uid=RESTORE)


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls
    # are still synchronous (the documented switch for exactly this case).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Not skipped when missing: .ci/run installs both (Debian chromium; playwright from the lock).
    from playwright import sync_api

    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.slow
def test_it_shows_the_auditor_a_deployments_chain_of_custody(live_db, projected, browser):
    build_world(deployments=2)
    auditor_user = make_user("alice", AUDITORS, password="pw-alice")  # the browser signs in with it
    deployment = Deployment.objects.get(revision=sha(1))
    chain = build_custody(deployment)
    page = browser.new_page()

    page.goto(f"{live_db.url}/admin/login/?next=/admin/readmodels/deployment/")
    page.fill("#id_username", auditor_user.username)
    page.fill("#id_password", "pw-alice")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/readmodels/deployment/")
    page.click(f"a[href^='/admin/readmodels/deployment/{deployment.pk}/change/']")

    page.wait_for_selector("#custody")
    assert page.inner_text("#custody-title") == "Chain of custody"
    rows = page.locator("#custody tbody tr")
    assert rows.count() == len(chain.links)
    for index, link in enumerate(chain.links):
        row = rows.nth(index)
        assert link.name in row.inner_text()
        badge = row.locator(".status")
        assert badge.inner_text() == link.status
        colour = badge.evaluate("node => getComputedStyle(node).backgroundColor")
        assert (
            colour
            == {"satisfied": "rgb(46, 125, 50)", "not_evidenced": "rgb(158, 106, 0)", "violated": "rgb(186, 33, 33)"}[
                link.status
            ]
        )
    assert page.locator("#custody a[href='https://github.test/acme/payments/pull/42']").count() >= 1
    entry = chain.links[0].entry_seqs[0]
    page.click(f"#custody a[href='/admin/ledger/entry/{entry}/change/']")
    page.wait_for_selector("#verify-entry")
    assert page.text_content("#verify-entry").strip() == "Verify inclusion"
