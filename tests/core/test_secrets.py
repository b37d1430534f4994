"""evidence.core.secrets.read_secret: NAME, or the file named by NAME_FILE; never logged."""

from __future__ import annotations

import logging

import pytest

from evidence.core.secrets import SecretFileError, read_secret

SECRET = "s3cr3t-value-for-tests"


def test_it_reads_the_variable_as_set(monkeypatch):
    monkeypatch.setenv("ACME_TOKEN", f" {SECRET} ")
    monkeypatch.delenv("ACME_TOKEN_FILE", raising=False)
    assert read_secret("ACME_TOKEN") == f" {SECRET} "  # exactly as set: only files are stripped


def test_it_prefers_the_file_and_strips_it(monkeypatch, tmp_path):
    path = tmp_path / "token"
    path.write_text(f"{SECRET}\n")
    monkeypatch.setenv("ACME_TOKEN", "from-the-variable")
    monkeypatch.setenv("ACME_TOKEN_FILE", str(path))
    assert read_secret("ACME_TOKEN") == SECRET


def test_it_gives_the_default_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    monkeypatch.setenv("ACME_TOKEN_FILE", "")  # empty: not set
    assert read_secret("ACME_TOKEN") == ""
    assert read_secret("ACME_TOKEN", "fallback") == "fallback"
    assert read_secret("", "fallback") == "fallback"  # no variable named at all


def test_it_names_the_variable_and_path_of_an_unreadable_file(monkeypatch, tmp_path):
    monkeypatch.setenv("ACME_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(SecretFileError) as caught:
        read_secret("ACME_TOKEN")
    assert caught.value.variable == "ACME_TOKEN_FILE"
    assert str(caught.value) == f"ACME_TOKEN_FILE: cannot read {tmp_path / 'missing'}: No such file or directory"
    assert isinstance(caught.value, OSError)  # callers that catch OSError keep working


def test_it_logs_nothing(monkeypatch, tmp_path, caplog):
    path = tmp_path / "token"
    path.write_text(SECRET)
    monkeypatch.setenv("ACME_TOKEN_FILE", str(path))
    with caplog.at_level(logging.DEBUG):
        assert read_secret("ACME_TOKEN") == SECRET
    assert caplog.records == []
