"""GET /api/v1/deployments/<id>/custody/: auditors and engineers read it; outsiders get 403 and
anonymous callers 401, with no part of the chain."""

from __future__ import annotations

import pytest

from tests.support.custody_story import Story, deployment, prod_policy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


@pytest.fixture
def chain_url():
    prod_policy()
    Story().clean(signature=("no_signature", "")).append()
    return f"/api/v1/deployments/{deployment().pk}/custody/"


@pytest.mark.parametrize("persona", ["auditor", "engineer"])
def test_it_returns_the_chain_to_auditors_and_engineers(persona, chain_url, request):
    response = request.getfixturevalue(persona).get(chain_url)

    assert response.status_code == 200
    body = response.json()
    assert body["links"][0]["name"] == "deployment"
    signature = next(link for link in body["links"] if link["name"] == "signature")
    assert signature["status"] == "violated"  # the registry was read and found no signature
    assert signature["rule"] == "signature"
    assert signature["findings"] == ["image_unsigned"]
    assert [f["code"] for f in body["findings"]] == ["image_unsigned"]
    assert body["findings"][0]["status"] == "open"
    assert body["findings"][0]["controls"][0] == "SOC 2 CC8.1"
    assert body["verdict"] == "exception"
    assert body["verdict_reason"] == "1 control(s) violated: image_unsigned."


def test_it_refuses_an_outsider_with_403_and_no_chain(outsider, chain_url):
    response = outsider.get(chain_url)

    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


def test_it_asks_anonymous_callers_to_authenticate(anonymous, chain_url):
    response = anonymous.get(chain_url)

    assert response.status_code == 401
    assert "links" not in response.json()


def test_it_answers_404_for_an_unknown_deployment(auditor):
    response = auditor.get("/api/v1/deployments/999999/custody/")

    assert response.status_code == 404
