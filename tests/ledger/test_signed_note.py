"""C2SP signed notes and tlog checkpoints, against the golang.org/x/mod/sumdb/note published example."""

import base64

import pytest

from ledger.note import Checkpoint, NoteError, Signer, Verifier, open_note, verify_checkpoint

# The example of golang.org/x/mod/sumdb/note (package documentation and note_test.go).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_it_signs_byte_for_byte_like_the_go_reference():
    signer = Signer.parse(GO_SIGNER)
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert signer.verifier().encode() == GO_VERIFIER
    assert signer.encode() == GO_SIGNER


def test_it_opens_the_reference_note_with_the_reference_key():
    assert open_note(GO_NOTE, [Verifier.parse(GO_VERIFIER)]) == GO_TEXT


def test_it_refuses_a_note_whose_text_was_edited():
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [Verifier.parse(GO_VERIFIER)])


def test_it_refuses_a_note_signed_only_by_an_unknown_key():
    other = Signer.generate("PeterNeumann")  # same name, another key: the key id differs
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(GO_NOTE, [other.verifier()])


def test_it_rejects_a_verifier_key_whose_id_does_not_match():
    with pytest.raises(NoteError, match="key id"):
        Verifier.parse(GO_VERIFIER.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError):
        Verifier.parse("not a key")


def test_it_formats_and_parses_a_tlog_checkpoint_body():
    root = bytes(range(32))
    body = Checkpoint("example.com/log", 42, root).body()
    assert body == f"example.com/log\n42\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.parse(body) == Checkpoint("example.com/log", 42, root)


def test_it_verifies_a_signed_checkpoint_and_checks_its_origin():
    signer = Signer.generate("example.com/log")
    note = signer.sign(Checkpoint("example.com/log", 7, bytes(32)).body())
    assert verify_checkpoint(note, signer.verifier(), "example.com/log").size == 7
    with pytest.raises(NoteError, match="origin"):
        verify_checkpoint(note, signer.verifier(), "other.example/log")


@pytest.mark.parametrize(
    "body",
    [
        "example.com/log\n007\nAAAA\n",
        "example.com/log\n7\nnot base64!\n",
        "example.com/log\n7\n",
        "\n7\n" + "A" * 44 + "\n",
    ],
)
def test_it_rejects_malformed_checkpoint_bodies(body):
    with pytest.raises(NoteError):
        Checkpoint.parse(body)
