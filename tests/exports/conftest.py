"""Fixtures for audit packs: an operator certificate (made once), evidence appended per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exports.signing import create_demo_certificate, load_pack_signer
from ledger.append import append_entries
from ledger.envelope import Record


@pytest.fixture(scope="session")
def operator_cert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("operator")
    cert, key = folder / "operator.crt", folder / "operator.key"
    create_demo_certificate(cert, key, "Audit Operator (test)", password="s3cret")
    return cert, key, "s3cret"


@pytest.fixture(scope="session")
def other_cert(tmp_path_factory):
    """Someone else's certificate: a forger re-signing a pack."""
    folder = tmp_path_factory.mktemp("forger")
    cert = folder / "forger.p12"
    create_demo_certificate(cert, None, "Forger")
    return cert


@pytest.fixture
def pack_settings(settings, operator_cert, tmp_path):
    cert, key, password = operator_cert
    settings.PACK_SIGNING_CERT = str(cert)
    settings.PACK_SIGNING_KEY = str(key)
    settings.PACK_SIGNING_KEY_PASSWORD = password
    settings.PACK_TSA_URL = ""
    settings.PACK_STORAGE_DIR = str(tmp_path / "packs")
    return settings


@pytest.fixture(scope="session")
def operator_signer(operator_cert):
    """Loaded once: decrypting the PEM key (PBKDF2) takes most of a second."""
    cert, key, password = operator_cert
    return load_pack_signer(str(cert), str(key), password, "")


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def review(number: int, state: str = "APPROVED", day: int = 0) -> Record:
    return Record(
        kind="github.review",
        source="github-acme",
        subject=f"acme/payments#{number}",
        idempotency_key=f"github:review:{9000 + number}:{state}",
        data={"id": 9000 + number, "state": state, "user": {"login": "bob"}, "commit_id": f"{number:040x}"},
        observed_at=START + timedelta(days=day, hours=1),
        occurred_at=START + timedelta(days=day),
    )


def deployment(number: int, day: int = 0) -> Record:
    return Record(
        kind="argocd.deployment",
        source="argocd-prod",
        subject=f"argocd/payments/history/{number}",
        idempotency_key=f"argocd:payments:history:{number}",
        data={"id": number, "revision": f"{number:040x}", "images": [f"registry.local/payments@sha256:{number:064x}"]},
        observed_at=START + timedelta(days=day, hours=2),
        occurred_at=START + timedelta(days=day, hours=1),
    )


@pytest.fixture
def evidence(db, ledger_key):
    """Five reviews and three deployments over four days; returns their seqs by kind."""
    records = [review(n, day=n % 4) for n in range(1, 6)] + [deployment(n, day=n) for n in range(1, 4)]
    appended = append_entries(records)
    seqs = [a.seq for a in appended]
    return {"review": seqs[:5], "deployment": seqs[5:]}


@pytest.fixture
def entries_scope():
    from exports.pack.scope import Scope

    kinds = ["github.review", "argocd.deployment"]
    return Scope.from_json({"type": "entries", "kinds": kinds, "sample": 3, "seed": "q1"})


@pytest.fixture
def built(evidence, operator_signer, entries_scope):
    """A pack over the test's evidence, signed by the operator."""
    from exports.pack.build import build_pack

    return build_pack(entries_scope, "alice", operator_signer)


@pytest.fixture(scope="session")
def shared(django_db_setup, django_db_blocker, tmp_path_factory, operator_signer):
    """One pack for the many tests that only read or re-sign it (a build takes a second or more).

    Built in a transaction that is rolled back, with a ledger key of its own; returns the built
    pack and the path of that key's public half.
    """
    from django.db import transaction
    from django.test import override_settings

    from exports.pack.build import build_pack
    from exports.pack.scope import Scope
    from ledger.keys import create_signing_key

    folder = tmp_path_factory.mktemp("shared-ledger")
    # Session fixtures come before the autouse inline_tasks one: ask for inline sequencing here too.
    inline = override_settings(
        LEDGER_SIGNING_KEY=str(folder / "ledger.key"),
        LEDGER_CHECKPOINT_DIR=str(folder / "checkpoints"),
        CELERY_TASK_ALWAYS_EAGER=True,
    )
    with django_db_blocker.unblock(), inline:
        with transaction.atomic():
            _, public, _ = create_signing_key("test.ledger/log")
            append_entries([review(n, day=n % 4) for n in range(1, 6)] + [deployment(n, day=n) for n in range(1, 4)])
            scope = Scope.from_json({"type": "entries", "kinds": ["github.review", "argocd.deployment"], "sample": 3})
            built = build_pack(scope, "alice", operator_signer)
            transaction.set_rollback(True)
    return built, public


@pytest.fixture
def ledger_pub(ledger_key, tmp_path):
    """The ledger's public key as an auditor holds it: a file obtained out of band."""
    path = tmp_path / "ledger.pub"
    path.write_text(ledger_key.verifier().encode() + "\n")
    return path


LAYOUT_STORIES = [  # (tag, broken facts): five deployments a day apart, four of them with findings
    ("a", {}),
    ("b", {"signature": ("no_signature", "")}),
    ("c", {"skip": {"provenance"}}),
    ("d", {"app_reviews": [("alice", "0" * 40)]}),
    ("e", {"app_settings": {"protected": True, "required_approvals": 0, "dismiss_stale_reviews": False}}),
]


@pytest.fixture(scope="session")
def custody_packs(django_db_setup, django_db_blocker, tmp_path_factory, operator_signer):
    """An environment pack (population, findings, a sample of three chains in full, the protection
    timeline), a repository pack and a deployment pack over the same history: image digests, commit
    ids and custody explanations of every length. Built once in a rolled-back transaction, like
    `shared`."""
    from django.db import transaction
    from django.test import override_settings

    from evidence.readmodels.models import Deployment
    from exports.pack.build import build_pack
    from exports.pack.scope import Scope
    from ledger.keys import create_signing_key
    from tests.support.custody_story import APP, T0, Story, prod_policy
    from tests.support.projection import projecting

    folder = tmp_path_factory.mktemp("custody-ledger")
    period = {"since": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z", "sample": 3, "seed": "q1"}
    inline = override_settings(LEDGER_SIGNING_KEY=str(folder / "ledger.key"), CELERY_TASK_ALWAYS_EAGER=True)
    with django_db_blocker.unblock(), inline, projecting():
        with transaction.atomic():
            create_signing_key("test.ledger/log")
            prod_policy()
            for day, (tag, broken) in enumerate(LAYOUT_STORIES):
                story = Story(tag)
                story.deployed_at = T0 + timedelta(days=day, hours=2)
                story.clean(**broken).append()
            packs = {
                kind: build_pack(Scope.from_json({"type": kind, **extra, **period}), "auditor", operator_signer)
                for kind, extra in (("environment", {"environment": "prod"}), ("repository", {"repository": APP}))
            }
            unsigned = Deployment.objects.order_by("finished_at")[1]  # story b
            scope = Scope.from_json({"type": "deployment", "deployment": str(unsigned.pk)})
            packs["deployment"] = build_pack(scope, "auditor", operator_signer)
            transaction.set_rollback(True)
    return packs
