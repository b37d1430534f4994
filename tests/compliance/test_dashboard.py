"""The admin index opens on the auditor's dashboard: one environment over a quarter, its figures
counted from the stored verdicts and findings, SVG charts made on the server with a table beside each."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from evidence.compliance.dashboard import Period, choose_period, environment_figures
from evidence.compliance.dora import dora_figures
from evidence.compliance.models import DeploymentVerdict, Finding
from evidence.readmodels.models import Deployment
from tests.support.dora_world import T0, World

pytestmark = pytest.mark.django_db
Q1 = Period.quarter(2026, 1)


def judged(n: int, verdict: str, day: int, *codes: str) -> Deployment:
    """A deployment with its stored judgement (the rows `judgement` writes), for counting only."""
    at = datetime(2026, 1, day, 12, tzinfo=UTC)
    d = Deployment.objects.create(
        identity=f"argocd:prod:app{n}:{n}",
        controller="argocd",
        source="argocd",
        subject=f"argocd:app{n}",
        environment="prod",
        application=f"app{n}",
        started_at=at,
        finished_at=at,
        outcome="succeeded",
        first_seq=n,
    )
    DeploymentVerdict.objects.create(
        deployment=d, environment="prod", application=d.application, deployed_at=at, verdict=verdict, reason="-"
    )
    for code in codes:
        Finding.objects.create(
            key=f"k{n}{code}",
            deployment=d,
            environment="prod",
            application=d.application,
            deployed_at=at,
            code=code,
            severity="high",
            explanation="-",
        )
    return d


def test_it_counts_verdicts_exceptions_by_code_and_control_and_coverage():
    judged(1, "compliant", 5)
    judged(2, "exception", 6, "self_approved")
    judged(3, "incomplete", 20, "evidence_gap")
    judged(4, "attempt", 21)

    figures = environment_figures("prod", Q1)

    assert (figures.tally.deployments, figures.tally.attempts) == (3, 1)
    assert figures.compliance_rate == "0.3333" and figures.rate_text == "33.3%"
    assert figures.by_code == [("evidence_gap", 1, 0), ("self_approved", 1, 0)]
    controls = dict(figures.by_control)
    assert controls["ISO/IEC 27001:2022 A.5.3"] == 1 and controls["SOC 2 CC8.1"] == 1
    assert "PCI DSS v4.0 10.7.2" not in controls  # an evidence gap is not an exception
    assert figures.with_gaps == 1 and figures.coverage_text == "66.7%"
    week_of_jan_5 = figures.weeks.index("01-05")
    assert figures.by_week["compliant"][week_of_jan_5] == 1 and figures.by_week["exception"][week_of_jan_5] == 1
    assert sum(figures.by_week["attempt"]) == 1


def test_it_takes_a_quarter_or_days_and_says_what_is_wrong_with_a_period():
    latest = datetime(2026, 2, 3, tzinfo=UTC)

    assert choose_period({}, latest) == (Q1, "")  # the quarter of the latest judged deployment
    assert choose_period({"period": "2025-Q4"}, latest)[0].since == datetime(2025, 10, 1, tzinfo=UTC)
    days, error = choose_period({"since": "2026-01-10", "until": "2026-01-20"}, latest)
    assert (days.since, days.until, error) == (
        datetime(2026, 1, 10, tzinfo=UTC),
        datetime(2026, 1, 21, tzinfo=UTC),
        "",
    )
    assert choose_period({"period": "2026-Q5"}, latest) == (Q1, "period '2026-Q5' is not a quarter such as 2026-Q1")


def test_it_shows_the_auditor_the_dashboard_with_charts_and_their_tables(client, world, auditor):
    client.force_login(auditor.user)

    page = client.get("/admin/").content.decode()
    verdicts = DeploymentVerdict.objects.filter(environment="prod")

    assert 'id="dashboard"' in page and "Compliance at a glance: prod, 2026-Q1" in page
    figure = re.search(r'id="fig-deployments">(\d+)<', page)
    assert figure and int(figure.group(1)) == verdicts.exclude(verdict="attempt").count() > 0
    for chart in ("timeline", "codes", "controls"):
        block = page.split(f'id="chart-{chart}"')[1]
        assert block.lstrip(">").lstrip().startswith("<svg") and f'id="table-{chart}"' in page
    assert "<script" not in page.split('id="dashboard"')[1].split("</section>")[0]  # no chart script, no CDN
    assert 'href="/static/compliance/ux.css"' in page


def test_it_says_a_bad_period_on_the_page_not_as_an_error(client, world, auditor):
    client.force_login(auditor.user)

    response = client.get("/admin/", {"period": "next quarter"})

    assert response.status_code == 200
    assert "period &#x27;next quarter&#x27; is not a quarter such as 2026-Q1" in response.content.decode()


def test_it_shows_no_dashboard_to_staff_outside_the_groups(client, world, outsider):
    client.force_login(outsider.user)

    assert 'id="dashboard"' not in client.get("/admin/").content.decode()


DORA = ("deployment_frequency", "change_lead_time", "change_fail_rate", "recovery_time", "rework_rate")


def dora_block(page: str, metric: str) -> tuple[str, str, str, str]:
    """(value, band, samples, the table's body) of one DORA metric on the dashboard page."""
    card = re.search(
        rf'id="dora-{metric}"><span class="value">([^<]*)</span>.*?class="dora-band">([^<]*)<'
        rf'.*?class="dora-samples">(\d+)<',
        page,
        re.S,
    )
    assert card, metric
    table = page.split(f'id="table-dora-{metric}"')[1].split("</table>")[0]
    return card.group(1), card.group(2), card.group(3), table


def test_it_shows_the_five_dora_metrics_of_the_period_with_a_chart_and_table_each(client, projected, auditor):
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + timedelta(hours=1))
    b = w.change(T0 + timedelta(hours=2))
    w.deploy(b, T0 + timedelta(hours=3))  # bad: rolled back two hours later
    w.deploy(a, T0 + timedelta(hours=5))
    w.append()
    client.force_login(auditor.user)

    page = client.get("/admin/", {"environment": "prod", "period": "2026-Q1"}).content.decode()
    report = dora_figures("prod", Q1.since, Q1.until)

    assert 'id="dora"' in page and "DORA metrics: prod, 2026-01-01 to 2026-04-01" in page
    for metric in DORA:
        figure = report.figures[metric]
        value, band, samples, table = dora_block(page, metric)
        assert figure.value is not None and value == figure.value, metric
        assert (band, int(samples)) == (figure.band or "no published band", figure.samples), metric
        assert page.split(f'id="chart-dora-{metric}"')[1].lstrip(">").lstrip().startswith("<svg"), metric
        week_of_t0 = f"<tr><td>{T0:%m-%d}</td><td>"
        assert week_of_t0 in table, metric  # the week of the deployments, with the same figures as the trend
        trend = next(t for t in figure.trend if t["start"].startswith(f"{T0:%Y-%m-%d}"))
        assert f"{week_of_t0}{trend['value']}</td><td>{trend['samples']}</td></tr>" in table, metric
    assert dora_block(page, "change_fail_rate")[0] == "0.3333"  # one of three deployments failed
    assert "<script" not in page.split('id="dora"')[1].split("</section>")[0]


def test_it_says_no_data_for_dora_in_an_empty_period_never_zero(client, projected, auditor):
    w = World()
    w.deploy(w.change(T0), T0 + timedelta(hours=1))
    w.append()
    client.force_login(auditor.user)

    page = client.get("/admin/", {"environment": "prod", "period": "2025-Q3"}).content.decode()

    for metric in DORA:
        value, band, samples, table = dora_block(page, metric)
        assert (value, band, samples) == ("no data", "-", "0"), metric
        assert "<td>no data</td><td>0</td>" in table and "<td>0.0" not in table and "<td>0</td><td>0" not in table


def test_it_counts_dora_again_once_another_entry_is_projected(client, projected, auditor):
    # The panel is cached per ledger state: a deployment projected since must change the figures.
    w = World()
    a = w.change(T0)
    w.deploy(a, T0 + timedelta(hours=1))
    w.append()
    client.force_login(auditor.user)
    query = {"environment": "prod", "period": "2026-Q1"}
    before = dora_block(client.get("/admin/", query).content.decode(), "deployment_frequency")

    w.deploy(w.change(T0 + timedelta(hours=2)), T0 + timedelta(hours=3))
    w.append()
    after = dora_block(client.get("/admin/", query).content.decode(), "deployment_frequency")

    assert (int(before[2]), int(after[2])) == (1, 2)  # samples: one deployment, then two
