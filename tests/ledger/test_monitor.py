"""manage.py monitor watches a deployment from outside: each checkpoint it serves must extend the
last one seen (consistency proof), with a good signature; a split view exits non-zero.

The deployment is a local HTTP server in the test, serving the ledger API's checkpoint paths from
a log held in memory, which the test swaps for another history to play a forked or lying log."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command

from ledger import merkle
from ledger.monitor import notes_path
from ledger.note import Checkpoint, Signer, join_notes, split_notes, verify_checkpoint

ORIGIN = "evidence-ledger.local/ledger"


class Log:
    """A log in memory: leaves, stored nodes, and the checkpoints it serves (size -> note)."""

    def __init__(self, signer, leaves, signed):
        self.signer, self.nodes, frontier = signer, {}, merkle.Frontier()
        for i, data in enumerate(leaves):
            leaf = merkle.leaf_hash(data)
            self.nodes[(0, i)] = leaf
            for level, index, digest in frontier.append(leaf):
                self.nodes[(level, index)] = digest
        self.size = frontier.size
        self.notes = {size: self.note(size) for size in signed}

    def fetch(self, wanted):
        return {node: self.nodes[node] for node in wanted if node in self.nodes}

    def note(self, size, signer=None):
        root = merkle.subtree_root(size, self.fetch)
        return (signer or self.signer).sign(Checkpoint(ORIGIN, size, root).body())


class Deployment:
    def __init__(self, log):
        self.log = log
        deployment = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, body, kind = deployment.answer(url.path.removeprefix("/api/v1/"), query)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def answer(self, path, query):
        log = self.log
        if path == "checkpoints/key/":
            return 200, json.dumps({"keys": [{"verifier_key": log.signer.verifier().encode()}]}), "application/json"
        if path == "checkpoints/notes/":
            after = int(query.get("after", -1))
            return 200, join_notes([n for s, n in sorted(log.notes.items()) if s > after]), "text/plain"
        if path == "checkpoints/consistency/":
            old, new = int(query["from"]), int(query["to"])
            proof = merkle.consistency_proof(old, new, log.fetch)
            return 200, json.dumps({"path": [base64.b64encode(p).decode() for p in proof]}), "application/json"
        size = path.removeprefix("checkpoints/").rstrip("/")
        if size.isdigit() and int(size) in log.notes:
            return 200, log.notes[int(size)], "text/plain"
        return 404, json.dumps({"detail": "not found"}), "application/json"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def leaves(n, tag=b"a"):
    return [tag + b":%d" % i for i in range(n)]


@pytest.fixture
def signer():
    return Signer.generate("test.ledger/log")


@pytest.fixture
def deployment(signer):
    served = Deployment(Log(signer, leaves(10), [5, 10]))
    yield served
    served.close()


def monitor(deployment, state):
    out = io.StringIO()
    call_command("monitor", deployment.url, "--state", str(state), stdout=out)
    return out.getvalue()


def refused(deployment, state):
    with pytest.raises(CommandError) as caught:
        monitor(deployment, state)
    return str(caught.value)


def test_it_accepts_a_log_that_grows_consistently(deployment, signer, tmp_path):
    state = tmp_path / "monitor.json"
    first = monitor(deployment, state)
    assert "trusting on first use" in first and "monitor OK: 2 new checkpoint(s) checked" in first
    deployment.log = Log(signer, leaves(14), [5, 10, 12, 14])
    assert "monitor OK: 2 new checkpoint(s) checked" in monitor(deployment, state)
    assert json.loads(state.read_text())["size"] == 14
    kept = split_notes(notes_path(state).read_text())  # what verify_ledger --checkpoints can read
    assert [verify_checkpoint(note, signer.verifier()).size for note in kept] == [5, 10, 12, 14]


def test_it_detects_a_split_view_two_roots_for_one_size(deployment, signer, tmp_path):
    state = tmp_path / "monitor.json"
    monitor(deployment, state)
    deployment.log = Log(signer, leaves(12, tag=b"b"), [5, 10, 12])  # another history, validly signed
    problem = refused(deployment, state)
    assert problem.startswith("split view: checkpoint 10 now has root ")
    assert json.loads(state.read_text())["size"] == 10  # what it saw before is kept


def test_it_detects_a_log_that_is_not_an_extension_of_what_it_served(deployment, signer, tmp_path):
    state = tmp_path / "monitor.json"
    monitor(deployment, state)
    honest = deployment.log
    forked = Log(signer, leaves(8) + leaves(6, tag=b"c"), [14])
    forked.notes = {10: honest.notes[10], 14: forked.notes[14]}  # keeps serving the old note for 10
    deployment.log = forked
    assert refused(deployment, state).startswith(
        "split view: checkpoint 14 is not proven consistent with checkpoint 10 seen before"
    )


def test_it_detects_a_bad_signature(deployment, signer, tmp_path):
    state = tmp_path / "monitor.json"
    monitor(deployment, state)
    grown = Log(signer, leaves(12), [5, 10])
    grown.notes[12] = grown.note(12, signer=Signer.generate("test.ledger/log"))
    deployment.log = grown
    assert refused(deployment, state).startswith("bad signature: ")


def test_it_detects_a_log_that_was_rolled_back(deployment, signer, tmp_path):
    state = tmp_path / "monitor.json"
    monitor(deployment, state)
    deployment.log = Log(signer, leaves(7), [5, 7])
    assert "checkpoint 10, seen before, is no longer served" in refused(deployment, state)
