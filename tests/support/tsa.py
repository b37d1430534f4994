"""A loopback RFC 3161 timestamp authority for tests: pyHanko's test TSA behind a real HTTP server.

It signs with a timestamping certificate made here (RSA: pyHanko's test TSA signs RSA only), on
port 0 of 127.0.0.1; `down = True` makes it answer 503, as a TSA in an outage would.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def tsa_material(name: str = "Loopback TSA") -> tuple[asn1_x509.Certificate, keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
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


@dataclass
class LoopbackTSA:
    url: str
    cert: asn1_x509.Certificate
    asked: list[str] = field(default_factory=list)  # the Content-Type of each request
    down: bool = False

    def cert_pem(self) -> bytes:
        from asn1crypto import pem

        return pem.armor("CERTIFICATE", self.cert.dump())


@contextmanager
def loopback_tsa(name: str = "Loopback TSA") -> Iterator[LoopbackTSA]:
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    cert, key = tsa_material(name)
    authority = DummyTimeStamper(cert, key)
    tsa = LoopbackTSA("", cert)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            tsa.asked.append(self.headers["Content-Type"])
            if tsa.down:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            answer = authority.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tsa.url = f"http://127.0.0.1:{server.server_port}/tsa"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
