"""Scopes select the right entries; samples redraw the same; unwritten providers are refused plainly."""

from __future__ import annotations

import pytest

from exports import figures
from exports.pack.build import build_pack
from exports.pack.evidence import PackError
from exports.pack.providers import PROVIDERS, get_provider
from exports.pack.providers.entries import EntriesProvider
from exports.pack.scope import Scope, ScopeError


def content(scope: dict, size: int = 8):
    return EntriesProvider().build(Scope.from_json(scope), size)


def test_it_selects_entries_by_kind_and_period(evidence):
    # Reviews occurred on 2026-03-02..05; the period is the 3rd and the 4th, until exclusive.
    chosen = content({"type": "entries", "kinds": ["github.review"], "since": "2026-03-03", "until": "2026-03-05"})

    assert chosen.seqs == [s for s in evidence["review"] if s in chosen.seqs]
    assert chosen.summary["entries.by_day"] == {"2026-03-03": 2, "2026-03-04": 1}
    assert chosen.summary["entries.by_kind"] == {"github.review": 3}


def test_it_selects_listed_seqs_and_names_missing_ones(evidence):
    assert content({"type": "entries", "seqs": evidence["deployment"]}).seqs == evidence["deployment"]
    with pytest.raises(ScopeError, match=r"seqs: 7, 40 not in the ledger's signed tree \(size 7\)"):
        content({"type": "entries", "seqs": [0, 7, 40]}, size=7)


def test_it_redraws_the_same_sample_from_the_recorded_seed(evidence):
    first = content({"type": "entries", "kinds": ["github.review"], "sample": 2, "seed": "audit-2026"})
    again = content({"type": "entries", "kinds": ["github.review"], "sample": 2, "seed": "audit-2026"})
    other = [content({"type": "entries", "kinds": ["github.review"], "sample": 2, "seed": f"s{i}"}) for i in range(6)]

    assert first.sample.seqs == again.sample.seqs
    assert first.summary["sample.seqs"] == figures.sample_seqs(evidence["review"], 2, "audit-2026")
    assert len({tuple(o.sample.seqs) for o in other}) > 1  # the seed matters
    assert Scope.from_json({"type": "entries", "kinds": ["a.b"], "sample": 2}).seed  # drawn and kept when not given


def test_it_refuses_scopes_whose_provider_is_not_installed(monkeypatch):
    assert set(PROVIDERS) == {"entries", "deployment", "environment", "repository"}
    monkeypatch.delitem(PROVIDERS, "environment")
    with pytest.raises(ScopeError, match=r"no content provider for 'environment' scopes is installed yet"):
        get_provider("environment")


def test_it_refuses_to_sign_figures_the_evidence_does_not_give(evidence, operator_signer, monkeypatch):
    real = EntriesProvider.build

    def inflated(self, scope, size):
        made = real(self, scope, size)
        made.summary["entries.by_kind"]["github.review"] += 1
        return made

    monkeypatch.setattr(EntriesProvider, "build", inflated)

    stated = r"'entries.by_kind': the pack states \{'argocd.deployment': 3, 'github.review': 6\}"
    with pytest.raises(PackError, match=rf"content provider: summary figure {stated}"):
        build_pack(
            Scope.from_json({"type": "entries", "kinds": ["github.review", "argocd.deployment"]}), "a", operator_signer
        )


def test_it_verifies_a_period_pack_against_its_stated_period(evidence, operator_signer, ledger_pub):
    from exports.verifier import verify

    scope = Scope.from_json({"type": "entries", "since": "2026-03-03T00:00:00Z", "until": "2026-03-04T01:00:00Z"})

    built = build_pack(scope, "alice", operator_signer)
    report = verify(built.pdf, ledger_pub.read_text())

    assert report.ok, report.text()
    # In: reviews 1 and 5 (the 3rd, 09:00) and deployment 1 (the 3rd, 10:00). Out: everything from the 4th, 09:00.
    assert built.summary["figures"]["entries.by_kind"] == {"argocd.deployment": 1, "github.review": 2}
