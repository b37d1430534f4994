"""In headless Chromium: the auditor signs in, sees the dashboard with its charts, opens a non-compliant
deployment, follows its chain to the pull request and from there to a finding of that deployment."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.signals import post_migrate

from evidence.compliance.custody import build_custody
from evidence.compliance.models import DeploymentVerdict, Finding
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


@pytest.fixture(scope="module", autouse=True)
def _end_server_sessions(django_db_blocker):
    """A server thread's persistent connection can outlive its test and block the test database's
    drop at the end of the session: end the other sessions on the (test) database once this
    module's tests are done. Not after each test: the browser's greenlets keep connections of their
    own that the next test goes on using."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            _execute(
                [
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ]
            )


@pytest.fixture
def live_db(live_server, transactional_db):
    """Committed data the live server's thread can read. The live server sets up transactional_db
    before any fixture of ours, so committed_db's restore would run before the flush; here the owner
    drops the append-only triggers for the flush and puts them back from the flush's post_migrate."""
    yield live_server
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


COLOURS = {"satisfied": "rgb(46, 125, 50)", "not_evidenced": "rgb(158, 106, 0)", "violated": "rgb(186, 33, 33)"}
WORDS = {"satisfied": "Satisfied", "violated": "Violated", "not_evidenced": "Not evidenced"}


def sign_in(page, url: str, user, then: str) -> None:
    page.goto(f"{url}/admin/login/?next={then}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-" + user.username)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{then}")


@pytest.mark.slow
def test_it_shows_the_auditor_a_deployments_chain_of_custody(live_db, projected, browser):
    build_world(deployments=2)
    auditor_user = make_user("alice", AUDITORS, password="pw-alice")  # the browser signs in with it
    deployment = Deployment.objects.get(revision=sha(1))
    chain = build_custody(deployment)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    sign_in(page, live_db.url, auditor_user, "/admin/readmodels/deployment/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # the list fits without scrolling
    page.click(f"a[href^='/admin/readmodels/deployment/{deployment.pk}/change/']")

    page.wait_for_selector("#custody")
    assert page.inner_text("#custody-title") == "Chain of custody"
    steps = page.locator("#custody > li")
    assert steps.count() == len(chain.links)
    for index, link in enumerate(chain.links):
        step = steps.nth(index)
        assert step.get_attribute("data-link") == link.name
        badge = step.locator(".status").first
        assert badge.inner_text() == WORDS[link.status]
        assert badge.evaluate("node => getComputedStyle(node).backgroundColor") == COLOURS[link.status]
    assert page.locator("#custody a[href='https://github.test/acme/payments/pull/42']").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    entry = chain.links[0].entry_seqs[0]
    page.click(f"#custody a[href='/admin/ledger/entry/{entry}/change/']")
    page.wait_for_selector("#verify-entry")
    assert page.text_content("#verify-entry").strip() == "Verify inclusion"


@pytest.mark.slow
def test_it_takes_the_auditor_from_the_dashboard_through_the_chain_to_the_pull_request_and_its_finding(
    live_db, projected, browser, tmp_path
):
    world = build_world(deployments=2)
    auditor_user = make_user("alice", AUDITORS, password="pw-alice")  # the browser signs in with it
    deployment = world.deployment
    gap = Finding.objects.get(deployment=deployment, code="evidence_gap", subject="acme/payments@main")
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    sign_in(page, live_db.url, auditor_user, "/admin/")
    page.wait_for_selector("#dashboard")
    assert "Compliance at a glance: prod" in page.inner_text("#dashboard h2")
    assert page.locator("#chart-timeline svg").count() == 1 and page.locator("#table-timeline tbody tr").count() > 0
    assert page.inner_text("#fig-deployments") == str(DeploymentVerdict.objects.exclude(verdict="attempt").count())
    page.screenshot(path=str(tmp_path / "1-dashboard.png"), full_page=True)

    page.click("#content-main a[href='/admin/readmodels/deployment/']")
    page.click(f"a[href^='/admin/readmodels/deployment/{deployment.pk}/change/']")
    page.wait_for_selector("#custody-verdict")
    assert page.inner_text("#custody-verdict .verdict") == "Exception"  # not compliant, said first
    page.screenshot(path=str(tmp_path / "2-deployment.png"), full_page=True)

    page.click("#custody li[data-link='pull request'] a.step-page")
    page.wait_for_selector("#people")
    assert page.url.endswith(f"/admin/readmodels/pullrequest/{world.pull.pk}/change/")
    assert "erin" in page.inner_text("#people") and "frank" in page.inner_text("#people")
    assert page.locator(f"#shipped a[href='/admin/readmodels/deployment/{deployment.pk}/change/']").count() == 1
    page.screenshot(path=str(tmp_path / "3-pull-request.png"), full_page=True)

    page.click(f"#pr-findings a[href='/admin/compliance/finding/{gap.pk}/change/']")
    page.wait_for_url(f"**/admin/compliance/finding/{gap.pk}/change/")
    assert "Evidence gap: a source was not observed when it mattered" in page.inner_text("#content")
    assert "record a risk acceptance" not in page.content()  # auditors are not offered it
    print(f"screenshots for the developer's eye: {tmp_path}")
