"""The admin shows the ledger and lets nobody change it, superusers included."""

import pytest

from ledger.append import append_entries
from ledger.models import Entry

from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser.user)
    return client


def test_it_lists_and_shows_entries_to_a_superuser(superuser_client):
    append_entries(records(3))
    listing = superuser_client.get("/admin/ledger/entry/")
    assert listing.status_code == 200 and b"repo/2" in listing.content
    page = superuser_client.get("/admin/ledger/entry/1/change/")
    assert page.status_code == 200 and bytes(Entry.objects.get(seq=1).leaf_hash).hex().encode() in page.content


def test_it_offers_no_way_to_add_change_or_delete_entries(superuser_client):
    append_entries(records(1))
    assert superuser_client.get("/admin/ledger/entry/add/").status_code == 403
    assert superuser_client.post("/admin/ledger/entry/0/change/", {"subject": "x"}).status_code == 403
    assert superuser_client.post("/admin/ledger/entry/0/delete/", {"post": "yes"}).status_code == 403
    assert Entry.objects.get(seq=0).subject == "repo/0"
