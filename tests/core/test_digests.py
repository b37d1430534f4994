"""evidence.core.digests: each recipe hashes exactly the bytes its docstring names.

Every case states those bytes literally, so a recipe that changed its serialisation (key order,
separators, escaping, the {"v": ...} wrapping, float handling or length) fails here by name.
"""

from __future__ import annotations

import hashlib

from evidence.core import digests

VALUE = {"b": [1, 2.5], "a": "é"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_it_hashes_raw_bytes_and_text_as_utf8():
    assert digests.sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert digests.sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert digests.sha256_hex("é") == sha(b"\xc3\xa9")
    assert digests.short_hash16("abc") == "ba7816bf8f01cfea"
    assert digests.short_hash32(b"abc") == "ba7816bf8f01cfea414140de5dae2223"


def test_it_hashes_the_rfc8785_form_for_canonical_hash16():
    value = {"b": [1, 2], "a": "é"}
    assert digests.canonical_hash16(value) == sha('{"a":"é","b":[1,2]}'.encode())[:16]


def test_it_wraps_and_removes_floats_for_canonical_hash32():
    assert digests.canonical_hash32(VALUE) == sha('{"v":{"a":"é","b":[1,"2.5"]}}'.encode())[:32]
    assert digests.canonical_hash32("unknown") == sha(b'{"v":"unknown"}')[:32]


def test_it_hashes_compact_sorted_json_for_compact_json_hash16():
    assert digests.compact_json_hash16(VALUE) == sha(b'{"a":"\\u00e9","b":[1,2.5]}')[:16]


def test_it_hashes_sorted_json_with_default_separators_for_sorted_json_hash16_and_64():
    expected = sha(b'{"a": "\\u00e9", "b": [1, 2.5]}')
    assert digests.sorted_json_hash16(VALUE) == expected[:16]
    assert digests.sorted_json_hash64(VALUE) == expected


def test_it_keeps_insertion_order_for_json_hash16():
    assert digests.json_hash16(VALUE) == sha(b'{"b": [1, 2.5], "a": "\\u00e9"}')[:16]
    assert digests.json_hash16([["web-1", "prod"]]) == sha(b'[["web-1", "prod"]]')[:16]


def test_it_gives_each_recipe_its_own_digest_of_one_value():
    # (RFC 8785 and compact sorted JSON agree on ASCII-only values; the 'é' tells them apart)
    value = {"b": 1, "a": "é"}
    recipes = [
        digests.canonical_hash16(value),
        digests.canonical_hash32(value)[:16],
        digests.compact_json_hash16(value),
        digests.sorted_json_hash16(value),
        digests.json_hash16(value),
    ]
    assert len(set(recipes)) == len(recipes)  # not interchangeable: keys made with one stay with it
