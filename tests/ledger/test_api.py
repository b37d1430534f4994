"""The read-only ledger API, as the auditor (token) and the outsider (no credentials) see it."""

import base64

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from evidence.core.tokens import issue_api_token
from ledger import merkle
from ledger.append import append_entries
from ledger.checkpoints import sign_checkpoint
from ledger.models import Entry
from ledger.note import Verifier, split_notes, verify_checkpoint

from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor():
    user = User.objects.create_user("auditor", password="x")
    user.groups.add(Group.objects.get_or_create(name="auditors")[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user).token}")
    return client


@pytest.fixture
def outsider():
    return APIClient()


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(6, kind="github.review"))
    append_entries(records(5, start=6, kind="argocd.deployment", subject="argocd:payments"))
    sign_checkpoint()
    append_entries(records(3, start=11))
    sign_checkpoint()
    return ledger_key


def test_it_lists_entries_in_seq_order_with_their_hashes(auditor, ledger):
    body = auditor.get("/api/v1/entries/?limit=5").json()
    assert body["count"] == 14
    assert [e["seq"] for e in body["results"]] == [0, 1, 2, 3, 4]
    first = body["results"][0]
    payload = base64.b64decode(first["payload"])
    assert first["leaf_hash"] == merkle.leaf_hash(payload).hex()
    assert first["envelope"]["data"]["i"] == 0


def test_it_filters_entries_by_kind_subject_and_time(auditor, ledger):
    assert auditor.get("/api/v1/entries/?kind=argocd.deployment").json()["count"] == 5
    assert auditor.get("/api/v1/entries/?subject=argocd:payments").json()["count"] == 5
    assert auditor.get("/api/v1/entries/?kind_prefix=github.").json()["count"] == 6
    later = auditor.get("/api/v1/entries/?observed_after=2026-03-01T12:10:00Z").json()
    assert [e["seq"] for e in later["results"]] == [10, 11, 12, 13]


def test_it_answers_a_bad_filter_value_with_400(auditor, ledger):
    response = auditor.get("/api/v1/entries/?observed_after=yesterday-ish")
    assert response.status_code == 400 and "observed_after" in response.json()


def test_it_serves_an_inclusion_proof_that_verifies_against_the_signed_checkpoint(auditor, ledger):
    proof = auditor.get("/api/v1/entries/7/proof/?size=11").json()
    checkpoint = verify_checkpoint(proof["checkpoint"], ledger.verifier())
    leaf = bytes(Entry.objects.get(seq=7).leaf_hash)
    path = [base64.b64decode(p) for p in proof["path"]]
    merkle.verify_inclusion(7, 11, leaf, path, checkpoint.root)


def test_it_defaults_the_proof_to_the_latest_checkpoint(auditor, ledger):
    assert auditor.get("/api/v1/entries/2/proof/").json()["tree_size"] == 14


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/entries/12/proof/?size=11", "not in the tree of size 11"),
        ("/api/v1/entries/1/proof/?size=99", "beyond"),
        ("/api/v1/entries/1/proof/?size=ten", "whole number"),
        ("/api/v1/checkpoints/consistency/?from=14&to=11", "must not be larger"),
        ("/api/v1/checkpoints/consistency/?to=11", "required"),
    ],
)
def test_it_answers_impossible_proofs_with_400_and_a_reason(auditor, ledger, url, message):
    response = auditor.get(url)
    assert response.status_code == 400 and message in str(response.json())


def test_it_serves_a_consistency_proof_between_two_checkpoints(auditor, ledger):
    proof = auditor.get("/api/v1/checkpoints/consistency/?from=11&to=14").json()
    merkle.verify_consistency(
        11,
        14,
        base64.b64decode(proof["from_root"]),
        base64.b64decode(proof["to_root"]),
        [base64.b64decode(p) for p in proof["path"]],
    )


def test_it_serves_checkpoints_as_json_and_as_signed_note_text(auditor, ledger):
    listed = auditor.get("/api/v1/checkpoints/").json()
    assert [c["size"] for c in listed["results"]] == [14, 11]
    latest = auditor.get("/api/v1/checkpoints/latest/").json()
    assert latest["size"] == 14
    note = auditor.get("/api/v1/checkpoints/11/?as=note")
    assert note["Content-Type"].startswith("text/plain")
    assert verify_checkpoint(note.content.decode(), ledger.verifier()).size == 11
    assert auditor.get("/api/v1/checkpoints/12/").status_code == 404


def test_it_serves_the_signed_notes_one_after_another_for_monitors(auditor, ledger):
    response = auditor.get("/api/v1/checkpoints/notes/")
    assert response["Content-Type"].startswith("text/plain")
    notes = split_notes(response.content.decode())
    assert [verify_checkpoint(n, ledger.verifier()).size for n in notes] == [11, 14]
    later = split_notes(auditor.get("/api/v1/checkpoints/notes/?after=11").content.decode())
    assert [verify_checkpoint(n, ledger.verifier()).size for n in later] == [14]
    assert auditor.get("/api/v1/checkpoints/notes/?after=-1").status_code == 400


def test_it_publishes_the_verifier_key(auditor, ledger):
    body = auditor.get("/api/v1/checkpoints/key/").json()
    assert Verifier.parse(body["verifier_key"]) == ledger.verifier()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/entries/",
        "/api/v1/entries/0/",
        "/api/v1/entries/0/proof/",
        "/api/v1/checkpoints/",
        "/api/v1/checkpoints/key/",
        "/api/v1/checkpoints/notes/",
    ],
)
def test_it_tells_the_outsider_nothing(outsider, ledger, url):
    response = outsider.get(url)
    assert response.status_code == 401
    assert "results" not in response.json() and "seq" not in response.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_refuses_every_write_even_from_a_superuser(ledger, method):
    admin = APIClient()
    admin.force_authenticate(User.objects.create_superuser("root-user", password="x"))
    response = getattr(admin, method)("/api/v1/entries/0/", {"subject": "rewritten"}, format="json")
    assert response.status_code == 405
    assert Entry.objects.get(seq=0).subject == "repo/0"


def test_it_publishes_an_openapi_schema_with_the_ledger_paths(auditor):
    schema = auditor.get("/api/schema/?format=json").json()
    for path in ["/api/v1/entries/", "/api/v1/entries/{seq}/proof/", "/api/v1/checkpoints/consistency/"]:
        assert path in schema["paths"]


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "offset=99999999999999999999", "limit=100000"])
def test_it_answers_absurd_paging_without_a_database_error(auditor, ledger, query):
    response = auditor.get(f"/api/v1/entries/?{query}")
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 1000


@pytest.mark.django_db
@pytest.mark.parametrize("at", ["1923-04-03T12:56:08+16:25", "2026-03-01T00:00:00-23:59"])
def test_it_compares_time_filters_in_utc_whatever_the_offset(at):
    # PostgreSQL refuses offsets past +-15:59 (it answered 500); the filter converts to UTC first.
    from django.contrib.auth.models import Group, User
    from rest_framework.test import APIClient

    user = User.objects.create_user("ada-offsets")
    user.groups.add(Group.objects.get_or_create(name="auditors")[0])
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/entries/", {"observed_after": at}).status_code == 200
    assert client.get("/api/v1/entries/", {"observed_after": "0001-01-01T00:00:00+05:00"}).status_code == 400
