"""Canonical bytes: the fast path must equal the rfc8785 package byte for byte, or step aside."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_bytes, reference_bytes

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20)
scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5))
payloads = st.dictionaries(text, values, max_size=8)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(payloads)
def test_it_gives_the_rfc8785_bytes_for_every_accepted_payload(payload):
    assert canonical_bytes(payload) == reference_bytes(payload)


def test_it_sorts_keys_by_utf16_units_as_rfc8785_section_3_2_3_requires():
    # The RFC's sorting example: code point order would put U+1F600 last; UTF-16 order puts it before U+FB33.
    payload = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = canonical_bytes(payload).decode()
    names = ["Carriage Return", "One", "Control", "Latin Small", "Euro", "Emoji", "Hebrew"]  # RFC 8785's order
    order = [out.index(name) for name in names]
    assert order == sorted(order)
    assert canonical_bytes(payload) == reference_bytes(payload)


def test_it_escapes_control_characters_like_rfc8785():
    payload = {"s": 'tab\there\nnew \u0001 \u007f "q" \\ /'}
    assert canonical_bytes(payload) == reference_bytes(payload)
    assert b"\\u0001" in canonical_bytes(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"amount": 1.5}, "floats are not allowed"),
        ({"nested": [{"x": 0.0}]}, r"\$.nested\[0\].x: floats"),
        ({"big": 2**53}, "outside"),
        ({"bad": "\ud800"}, "lone surrogate"),
        ({"\udfff": 1}, "lone surrogate"),
        ({"set": {1, 2}}, "set is not JSON"),
        ({"when": object()}, "object is not JSON"),
        ({1: "int key"}, "not a string"),
    ],
)
def test_it_refuses_values_that_have_no_exact_canonical_form(payload, message):
    with pytest.raises(CanonicalError, match=message):
        canonical_bytes(payload)
