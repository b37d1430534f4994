"""The release gate: allow a compliant digest, deny an unsigned one, one whose provenance names
another commit, and one never seen; every decision is a ledger entry."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evidence.compliance.gate import ALLOW, DENY, GateError, decide_release
from ledger.models import Entry
from tests.support.custody_story import Story, digest, prod_policy, sha

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("projected")]


def story(**broken) -> Story:
    s = Story().clean(skip={"deploy", *broken.pop("skip", set())}, **broken)
    s.append()
    prod_policy()
    return s


def test_it_allows_a_compliant_digest_and_records_the_decision():
    s = story()
    decision = decide_release("prod", digest=s.image, asked_by="ci@acme")
    assert decision.answer == ALLOW, decision.reasons
    assert decision.reasons == []
    entry = Entry.objects.get(seq=decision.seq)
    assert entry.kind == "gate.decision"
    assert (entry.data["answer"], entry.data["asked_by"], entry.data["digest"]) == ("allow", "ci@acme", s.image)
    assert entry.data["entry_seqs"] == decision.entry_seqs and decision.entry_seqs


def test_it_denies_an_unsigned_image():
    s = story(skip={"signature"})
    decision = decide_release("prod", digest=s.image, asked_by="ci@acme")
    assert decision.answer == DENY
    assert any(r["rule"] == "signature" for r in decision.reasons)


def test_it_denies_provenance_naming_another_commit():
    other = sha("someone-elses-branch")
    s = story(provenance_commit=other)
    decision = decide_release("prod", digest=s.image, asked_by="ci@acme")
    assert decision.answer == DENY
    # No pull request is known to have merged the commit the provenance names, nor is it on a recorded
    # branch line: nothing vouches for a review.
    by_rule = {r["rule"]: r for r in decision.reasons}
    assert {(rule, r["status"]) for rule, r in by_rule.items()} == {
        ("pull_request", "not_evidenced"),
        ("ancestry", "not_evidenced"),
    }
    reason = by_rule["pull_request"]
    assert other[:12] in reason["explanation"]
    assert all(r["entry_seqs"] or r["status"] == "not_evidenced" for r in decision.reasons)


def test_it_denies_a_digest_never_seen():
    story()
    decision = decide_release("prod", digest=digest("never-pushed"), asked_by="ci@acme")
    assert decision.answer == DENY
    assert any("never seen" in r["explanation"] for r in decision.reasons)
    assert Entry.objects.get(seq=decision.seq).data["answer"] == "deny"


def test_a_bad_question_is_refused_and_writes_nothing():
    before = Entry.objects.count()
    for ask in ({"digest": "sha256:nothex"}, {}, {"revision": "main"}):
        with pytest.raises(GateError):
            decide_release("prod", asked_by="ci@acme", **ask)
    assert Entry.objects.count() == before


def test_engineers_ask_over_the_api_and_auditors_stay_read_only(auditor, engineer, outsider, anonymous):
    s = story()
    ask = {"environment": "prod", "digest": s.image}
    before = Entry.objects.filter(kind="gate.decision").count()
    assert auditor.get("/api/v1/gate/", ask).status_code == 403
    assert outsider.get("/api/v1/gate/", ask).status_code == 403
    assert anonymous.get("/api/v1/gate/", ask).status_code == 401
    assert Entry.objects.filter(kind="gate.decision").count() == before  # a refused ask writes nothing
    body = engineer.get("/api/v1/gate/", ask).json()
    assert body["answer"] == "allow"
    assert Entry.objects.get(seq=body["decision_seq"]).data["asked_by"] == f"api:{engineer.user.username}"
    bad = engineer.get("/api/v1/gate/", {"environment": "prod", "digest": "latest"})
    assert bad.status_code == 400 and "digest" in bad.json()["detail"]


def test_the_command_exits_0_on_allow_and_1_on_deny_with_the_reasons():
    s = story(skip={"signature"})
    out = io.StringIO()
    with pytest.raises(SystemExit) as denied:
        call_command("gate", "--environment", "prod", "--digest", s.image, stdout=out)
    assert denied.value.code == 1
    assert out.getvalue().startswith("DENY") and "signature" in out.getvalue()
    allowed = Story("b").clean(skip={"deploy"})
    allowed.append()
    out = io.StringIO()
    call_command("gate", "--environment", "prod", "--digest", allowed.image, stdout=out)  # no SystemExit: 0
    assert out.getvalue().startswith("ALLOW")


def test_the_command_refuses_a_bad_question_with_exit_2():
    with pytest.raises(CommandError) as refused:
        call_command("gate", "--environment", "prod", "--digest", "sha256:xyz")
    assert refused.value.returncode == 2
