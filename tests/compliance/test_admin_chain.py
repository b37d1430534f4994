"""The deployment page leads with the verdict, then the chain as a path of links to where each
link's evidence is browsed, with its entries (and a verify button each) and the finding it raised."""

from __future__ import annotations

import re

import pytest

from evidence.compliance.custody import build_custody
from evidence.compliance.models import Finding
from tests.support.admin_world import REPO
from tests.support.gitops import digest

pytestmark = pytest.mark.django_db


def steps_of(page: str) -> dict[str, str]:
    chain = page.split('<ol class="chain" id="custody">')[1].split("</ol>")[0]
    return {m.group(1): m.group(2) for m in re.finditer(r'data-link="([^"]+)">(.*?)</li>', chain, re.S)}


def test_it_leads_with_the_verdict_and_links_every_step_to_its_evidence(client, world, auditor):
    client.force_login(auditor.user)
    chain = build_custody(world.deployment)

    page = client.get(f"/admin/readmodels/deployment/{world.deployment.pk}/change/").content.decode()
    steps = steps_of(page)

    assert page.index('id="custody-verdict"') < page.index('id="custody-title"')
    assert f"verdict-{chain.verdict}" in page and chain.verdict_reason.split(":")[0] in page
    assert list(steps) == [link.name for link in chain.links]
    pull_page = f'href="/admin/readmodels/pullrequest/{world.pull.pk}/change/"'
    assert pull_page in steps["pull request"]
    assert f'href="/admin/readmodels/pullrequest/{world.pull.pk}/change/#approvals-group"' in steps["approvals"]
    assert f'href="/admin/readmodels/signatureverdict/?digest={digest(1).replace(":", "%3A")}"' in steps["signature"]
    assert "/admin/readmodels/provenance/?digest=" in steps["provenance"]
    timeline = "/admin/readmodels/protectionsnapshot/timeline/?forge=github&amp;repository=acme%2Fpayments"
    assert timeline in steps["protection"]
    for link in chain.links:
        for seq in set(link.entry_seqs):
            assert f'href="/admin/ledger/entry/{seq}/verify/"' in steps[link.name]  # a verify button per entry
        words = {"satisfied": "Satisfied", "violated": "Violated", "not_evidenced": "Not evidenced"}[link.status]
        assert f'<span class="status status-{link.status}">{words}</span>' in steps[link.name]


def test_it_names_the_finding_each_step_raised_with_a_link_to_it(client, world, auditor):
    client.force_login(auditor.user)
    findings = list(Finding.objects.filter(deployment=world.deployment))
    assert findings, "the admin world raises at least one finding"

    page = client.get(f"/admin/readmodels/deployment/{world.deployment.pk}/change/").content.decode()

    for finding in findings:
        assert f'href="/admin/compliance/finding/{finding.pk}/change/" class="finding-link"' in page
    table = page.split('id="deployment-findings"')[1].split("</table>")[0]
    assert len(re.findall(r"/admin/compliance/finding/\d+/change/", table)) == len(findings)


def test_it_shows_who_did_what_on_the_pull_request_page(client, world, auditor):
    client.force_login(auditor.user)

    page = client.get(f"/admin/readmodels/pullrequest/{world.pull.pk}/change/").content.decode()

    people = page.split('id="people"')[1].split("</table>")[0]
    assert "<th>Authored</th><td>erin</td>" in people and "frank at 2026-03-01 09:00 UTC" in people
    assert "grace" in people and 'id="self-approval"' not in page
    assert "Required approvals: 1" in page.split('id="protection-at-merge"')[1]
    shipped = page.split('id="shipped"')[1].split("</table>")[0]
    assert f"/admin/readmodels/deployment/{world.deployment.pk}/change/" in shipped
    dismissed = page.split('class="field-dismissed_text"')[1].split("</td>")[0]
    assert re.sub(r"\s+", "", dismissed) == "><p>No</p>"
    assert "icon-no.svg" not in page  # "Dismissed: No" in words, not a red cross


def test_it_flags_a_self_approval(client, world, auditor):
    world.pull.approvals.update(reviewer="erin")
    client.force_login(auditor.user)

    page = client.get(f"/admin/readmodels/pullrequest/{world.pull.pk}/change/").content.decode()

    assert 'id="self-approval"' in page and "self-approval (the author)" in page


def test_it_labels_findings_in_words_with_the_code_beside(client, world, auditor):
    client.force_login(auditor.user)
    finding = Finding.objects.filter(deployment=world.deployment).first()

    listing = client.get("/admin/compliance/finding/").content.decode()
    page = client.get(f"/admin/compliance/finding/{finding.pk}/change/").content.decode()

    from evidence.compliance.findings.codes import CODES, REQUIREMENTS

    assert CODES[finding.code].title in listing
    assert f'<small class="raw-code"><code>{finding.code}</code></small>' in page
    assert REQUIREMENTS[finding.controls[0]] in page  # controls with what they require, not a JSON list


def test_it_offers_risk_acceptance_to_engineers_only(client, world, auditor, engineer):
    finding = Finding.objects.filter(deployment=world.deployment).first()
    url = f"/admin/compliance/finding/{finding.pk}/change/"

    client.force_login(auditor.user)
    as_auditor = client.get(url).content.decode()
    client.force_login(engineer.user)
    as_engineer = client.get(url).content.decode()

    assert "record a risk acceptance" not in as_auditor
    assert "record a risk acceptance" in as_engineer


def test_it_shows_an_entrys_payload_indented(client, world, auditor):
    client.force_login(auditor.user)
    seq = world.deployment.entry_seqs[0]

    page = client.get(f"/admin/ledger/entry/{seq}/change/").content.decode()

    payload = page.split('<pre class="payload"')[1].split("</pre>")[0]
    assert "\n  &quot;data&quot;: {" in payload and REPO.split("/")[1] in payload
