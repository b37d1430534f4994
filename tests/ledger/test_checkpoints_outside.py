"""Every checkpoint is also held outside the database; verify_ledger holds the database against
such copies (the checkpoint directory, or --checkpoints FILE|DIR|URL) and the signer will not sign
a checkpoint that contradicts one."""

import io
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from ledger.append import append_entries
from ledger.checkpoint_files import note_path
from ledger.checkpoints import CheckpointRefused, sign_checkpoint
from ledger.keys import load_verifiers
from ledger.models import Checkpoint
from ledger.note import Checkpoint as CheckpointBody
from ledger.note import Signer, join_notes, verify_checkpoint
from ledger.verification import verify_ledger

from .helpers import records
from .owner import owner_executes, roll_back_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(ledger_key):
    append_entries(records(10))
    sign_checkpoint()
    append_entries(records(7, start=10))
    sign_checkpoint()
    return ledger_key


def verify(*args):
    call_command("verify_ledger", *args, stdout=io.StringIO())


def problems(*args):
    with pytest.raises(CommandError) as caught:
        verify(*args)
    return str(caught.value).splitlines()


def test_it_writes_each_signed_checkpoint_to_the_checkpoint_dir(ledger):
    folder = Path(settings.LEDGER_CHECKPOINT_DIR)
    assert sorted(p.name for p in folder.glob("*.note")) == ["10.note", "17.note"]
    for checkpoint in Checkpoint.objects.all():
        assert note_path(checkpoint.size).read_text() == checkpoint.note
    assert (folder / "latest").read_text() == Checkpoint.objects.get(size=17).note


def test_it_refuses_to_sign_when_a_different_note_is_held_for_that_size(ledger):
    append_entries(records(1, start=40))
    other = ledger.sign(CheckpointBody(settings.LEDGER_ORIGIN, 18, b"\x07" * 32).body())
    note_path(18).write_text(other)
    with pytest.raises(CheckpointRefused, match="different checkpoint for size 18"):
        sign_checkpoint()
    assert not Checkpoint.objects.filter(size=18).exists()
    assert note_path(18).read_text() == other  # never overwritten


def test_it_detects_that_every_checkpoint_row_was_deleted(ledger):
    owner_executes("DELETE FROM ledger_checkpoint")
    lines = problems()
    assert lines[0] == "ledger BROKEN: 2 checkpoint(s) held outside disagree with the database"
    assert lines[1:] == [
        f"checkpoint 10 held at {note_path(10)} is missing from the database (its row was deleted)",
        f"checkpoint 17 held at {note_path(17)} is missing from the database (its row was deleted)",
    ]


def test_it_detects_that_the_tail_checkpoint_rows_were_deleted_with_a_cut_tail(ledger):
    roll_back_to(12)
    assert verify_ledger(load_verifiers()).ok  # the database alone verifies
    lines = problems()
    assert lines[-1] == (
        f"checkpoint 17 held at {note_path(17)} is beyond the log's 12 entries: the database was rolled back"
    )


def test_it_detects_a_rolled_back_database_against_a_copy_of_the_checkpoint_dir(ledger, tmp_path):
    copy = tmp_path / "offsite"
    shutil.copytree(settings.LEDGER_CHECKPOINT_DIR, copy)
    roll_back_to(12)
    shutil.rmtree(settings.LEDGER_CHECKPOINT_DIR)  # the owner wipes the local copy too
    assert verify_ledger(load_verifiers()).ok
    lines = problems("--checkpoints", str(copy))
    assert len(lines) == 2 and "checkpoint 17 held at" in lines[1] and "rolled back" in lines[1]


def test_it_detects_a_forked_log_of_the_same_size(ledger, tmp_path):
    copy = tmp_path / "offsite.notes"
    copy.write_text(join_notes([c.note for c in Checkpoint.objects.order_by("size")]))
    roll_back_to(12)
    shutil.rmtree(settings.LEDGER_CHECKPOINT_DIR)
    append_entries(records(5, start=100))  # size 17 again, with other entries
    lines = problems("--checkpoints", str(copy))
    assert lines[1:] == [
        f"checkpoint 17 held at {copy} names another root than the log's: the database was rolled back or forked"
    ]


def test_it_refuses_to_sign_a_checkpoint_after_a_rollback(ledger):
    roll_back_to(12)
    append_entries(records(8, start=100))
    with pytest.raises(CheckpointRefused, match="not consistent with the checkpoint held at"):
        sign_checkpoint()


def test_it_reads_outside_checkpoints_from_a_url(ledger):
    bundle = join_notes([c.note for c in Checkpoint.objects.order_by("size")]).encode()

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(bundle)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/checkpoints/"
        shutil.rmtree(settings.LEDGER_CHECKPOINT_DIR)
        verify("--checkpoints", url)
        roll_back_to(12)
        lines = problems("--checkpoints", url)
    finally:
        server.shutdown()
        server.server_close()
    assert lines[1:] == [f"checkpoint 17 held at {url} is beyond the log's 12 entries: the database was rolled back"]


def test_it_pages_through_the_api_listing_of_notes(ledger, monkeypatch):
    from ledger import checkpoint_files

    notes = {c.size: c.note for c in Checkpoint.objects.all()}
    asked = []

    class Api(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            after = int(self.path.partition("after=")[2] or -1)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(join_notes([notes[s] for s in sorted(notes) if s > after][:1]).encode())

        def log_message(self, *args):
            pass

    monkeypatch.setattr(checkpoint_files, "API_PAGE", 1)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/v1/checkpoints/notes/"
        held = checkpoint_files.load_notes(url)
    finally:
        server.shutdown()
        server.server_close()
    assert [note for _, note in held] == [notes[10], notes[17]]
    assert asked == [
        "/api/v1/checkpoints/notes/",
        "/api/v1/checkpoints/notes/?after=10",
        "/api/v1/checkpoints/notes/?after=17",
    ]


def test_it_reports_a_held_checkpoint_with_a_bad_signature(ledger, tmp_path):
    forged = Signer.generate("test.ledger/log").sign(CheckpointBody(settings.LEDGER_ORIGIN, 10, b"\x01" * 32).body())
    (tmp_path / "forged.note").write_text(forged)
    lines = problems("--checkpoints", str(tmp_path / "forged.note"))
    assert lines[1:] == [
        f"checkpoint held at {tmp_path / 'forged.note'}: bad signature or form: no signature by a known key"
    ]


def test_it_says_ok_when_the_copy_agrees(ledger, tmp_path):
    copy = tmp_path / "offsite"
    shutil.copytree(settings.LEDGER_CHECKPOINT_DIR, copy)
    out = io.StringIO()
    call_command("verify_ledger", "--checkpoints", str(copy), stdout=out)
    assert out.getvalue() == "ledger OK: 17 entries, 15 tree nodes, 2 checkpoints verified, 2 held outside\n"
    assert verify_checkpoint((copy / "17.note").read_text(), ledger.verifier()).size == 17
