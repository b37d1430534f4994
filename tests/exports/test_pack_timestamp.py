"""With PACK_TSA_URL set, the signature carries an RFC 3161 timestamp from that authority.

The TSA is a loopback HTTP server started by the test (port 0), answering RFC 3161 requests
with tokens signed by a timestamping certificate made here.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exports.pack.build import build_pack
from exports.signing import load_pack_signer
from exports.verifier import verify


def tsa_material():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA signs RSA only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback TSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)), keys.PrivateKeyInfo.load(der_key)


@pytest.fixture
def tsa_url():
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    cert, key = tsa_material()
    authority = DummyTimeStamper(cert, key)
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            asked.append(self.headers["Content-Type"])
            answer = authority.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", asked
    server.shutdown()


def test_it_timestamps_the_signature_when_a_tsa_is_configured(
    evidence, operator_cert, entries_scope, ledger_pub, tsa_url, tmp_path
):
    url, asked = tsa_url
    cert, key, password = operator_cert

    built = build_pack(entries_scope, "alice", load_pack_signer(str(cert), str(key), password, url))
    report = verify(built.pdf, ledger_pub.read_text())

    assert asked and set(asked) == {"application/timestamp-query"}  # pyHanko also asks once to size the token
    assert report.ok, report.text()
    assert "RFC 3161 timestamp" in report.text() and "Loopback TSA" in report.text()
    if shutil.which("pdfsig"):
        path = tmp_path / "pack.pdf"
        path.write_bytes(built.pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout
        assert "Signature is Valid." in out and "Total document signed" in out
