"""The keys the signing tests sign with, made once per test process: a certificate
authority (tests/pki.py), SoftHSM2 tokens for the chair and the secretary with keys made on
them (tests/tokens.py; the chair's token also holds an expired, a not-yet-valid and a revoked
key), the council's seal as a PKCS#12 file with its PNG, a CRL; the settings that point at
them, an RFC 3161 timestamp server on loopback, a demo server using them, and pyHanko's
validation against the authority's root.

A test module uses the fixtures by naming them:
    keys, settings, chair_key, tsa = signing_keys.keys, signing_keys.settings, ...
"""

from __future__ import annotations

import asyncio
import http.server
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymupdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.conftest import need
from tests.pki import Authority, Issued, new_key
from tests.tokens import MODULE, init_softhsm, key_on_token, new_token, softhsm_present

CHAIR_PIN = "123456"
SECRETARY_PIN = "654321"
SEAL_PASSWORD = "mat-khau-con-dau"


@dataclass
class Keys:
    ca: Authority
    root: Path
    crl: Path
    seal: Path
    seal_image: Path
    chair: dict[str, Issued]  # by key label on the chair's token


_MADE: list[Keys] = []  # the session's keys, once made


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    """One SoftHSM2 directory for the session (the module reads SOFTHSM2_CONF once per
    process): the chair's token with a good key and three bad ones, the secretary's token,
    the seal as PKCS#12, the root and a CRL revoking one of the chair's keys. Made once per
    process: each test module that names this fixture (test_signing.py,
    test_signing_resolutions.py, test_signing_written_votes.py) gets the same keys, since a
    second SoftHSM2 directory would not be seen."""
    if not softhsm_present():
        need(False, "SoftHSM2 is not installed (apt-get install softhsm2)")
    if _MADE:
        yield _MADE[0]
        return
    root = tmp_path_factory.mktemp("signing")
    init_softhsm(root)
    ca = Authority()
    chair_token = new_token("Token Tran Van Binh", CHAIR_PIN)
    secretary_token = new_token("Token Nguyen Thi Hong", SECRETARY_PIN)
    name = "Trần Văn Bình"
    chair = {
        "binh": key_on_token(chair_token, ca, "binh", name, title="Chủ tịch HĐND phường"),
        "binh-expired": key_on_token(chair_token, ca, "binh-expired", name, how="expired"),
        "binh-future": key_on_token(chair_token, ca, "binh-future", name, how="not_yet_valid"),
        "binh-revoked": key_on_token(chair_token, ca, "binh-revoked", name),
    }
    key_on_token(secretary_token, ca, "hong", "Nguyễn Thị Hồng", title="Thư ký kỳ họp")
    ca.revoke(chair["binh-revoked"])
    crl = root / "test-ca.crl"
    crl.write_bytes(ca.crl_der())
    seal_cert = ca.issue("HĐND phường Thử Nghiệm", organization="HĐND phường Thử Nghiệm")
    seal = root / "seal.p12"
    seal.write_bytes(ca.pkcs12(seal_cert, SEAL_PASSWORD.encode()))
    _MADE.append(Keys(ca, ca.write_root(root / "root.pem"), crl, seal, seal_png(root), chair))
    yield _MADE[0]


def seal_png(root: Path) -> Path:
    """A round red seal with the council's name, as a PNG on a transparent ground."""
    doc = pymupdf.open()
    page = doc.new_page(width=120, height=120)
    page.draw_circle((60, 60), 56, color=(0.8, 0.1, 0.1), width=4)
    page.draw_circle((60, 60), 44, color=(0.8, 0.1, 0.1), width=1.5)
    page.insert_text((37, 64), "HDND", fontsize=14, color=(0.8, 0.1, 0.1))
    path = root / "seal.png"
    page.get_pixmap(dpi=200, alpha=True).save(str(path))
    return path


@pytest.fixture
def chair_key() -> str:
    return "binh"


@pytest.fixture
def settings(settings, keys: Keys, chair_key: str, monkeypatch: pytest.MonkeyPatch, request):  # type: ignore[no-untyped-def]
    """The conftest's settings with the keys above; a test marked `timestamps` gets a
    timestamp server."""
    monkeypatch.setenv("PHONGHOP_SEAL_PASSWORD", SEAL_PASSWORD)
    stamps = request.node.get_closest_marker("timestamps")
    return replace(
        settings,
        tsa_url=request.getfixturevalue("tsa") if stamps else "",
        pkcs11_module=MODULE,
        signing_tokens={
            "chutoa": ("Token Tran Van Binh", chair_key),
            "thuky": ("Token Nguyen Thi Hong", "hong"),
        },
        seal_p12=str(keys.seal),
        seal_image=str(keys.seal_image),
        crls=[str(keys.crl)],
        trusted_roots=[str(keys.root)],
    )


async def validate(pdf: bytes, root: Path) -> list:
    """pyHanko's own validation of every signature, trusting the test authority's root."""
    trust = [load_cert_from_pemder(str(root))]
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        await async_validate_pdf_signature(
            sig, ValidationContext(trust_roots=trust, allow_fetching=False)
        )
        for sig in reader.embedded_signatures
    ]


# RFC 3161: a real HTTP timestamp server on loopback, pyHanko's DummyTimeStamper inside


def _tsa_certificate(ca: Authority) -> tuple[x509.Certificate, object]:
    key = new_key()
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Phonghop Test TSA")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    return cert, key


@pytest.fixture
def tsa(keys: Keys) -> Iterator[str]:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    cert, key = _tsa_certificate(keys.ca)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(  # type: ignore[attr-defined]
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            answer = asyncio.run(stamper.async_request_tsa_response(request)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def signing_server(keys: Keys, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The demo council served by a real process, with the test's tokens and seal."""
    from bench.harness import free_port, running_server, server_env
    from tests.browser import LiveServer

    env = server_env(tmp_path / "data")
    env.update(
        PHONGHOP_PKCS11_MODULE=MODULE,
        PHONGHOP_SIGNING_TOKENS="chutoa:Token Tran Van Binh:binh,thuky:Token Nguyen Thi Hong:hong",
        PHONGHOP_SEAL_P12=str(keys.seal),
        PHONGHOP_SEAL_PASSWORD=SEAL_PASSWORD,
        PHONGHOP_SEAL_IMAGE=str(keys.seal_image),
        PHONGHOP_CRLS=str(keys.crl),
        PHONGHOP_TRUSTED_ROOTS=str(keys.root),
        SOFTHSM2_CONF=os.environ["SOFTHSM2_CONF"],
    )
    with running_server(free_port(), env, tmp_path / "server.log", command="demo") as server:
        server.wait_healthy()
        yield LiveServer(server.url, tmp_path / "data", server.process)
