"""Signed minutes: the chair signs with the key on a token (SoftHSM2, PIN typed at signing
time), then the secretary, then the council's seal from a PKCS#12 file; each signature is an
incremental PAdES signature that leaves the earlier ones intact (checked by pyHanko against
the test authority's root). Bad input is refused with nothing half-signed kept: a wrong PIN,
expired, not-yet-valid and revoked certificates, a draft, a second signature, out of order."""

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
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlmodel import select

from server.blobs import BlobStore
from server.models import Signature
from tests.conftest import need
from tests.pki import Authority, Issued, new_key
from tests.test_record import conclude, freeze, fresh, make_council, run_session
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
    process: another test module that imports this fixture (tests/test_signing_resolutions.py)
    gets the same keys, since a second SoftHSM2 directory would not be seen."""
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
    )


@pytest.fixture
async def council(client, accounts, database, new_client):  # type: ignore[no-untyped-def]
    """The record's council with its session ended and version 1 of the minutes frozen;
    the chair signed in on a client of their own."""
    made = await make_council(client, accounts, database, new_client)
    await run_session(client, made["id"])
    await conclude(made)
    assert (await freeze(client, made["id"])).status_code == 201
    chair = await new_client()
    await chair.login("chutoa")
    return {**made, "chair": chair}


def url(mid: int, tail: str = "1") -> str:
    return f"/api/meetings/{mid}/signatures/minutes/{tail}"


async def sign(client, mid: int, role: str, pin: str = "", tail: str = "1"):  # type: ignore[no-untyped-def]
    return await client.post(url(mid, tail), json={"role": role, "pin": pin})


def kept(database, settings):  # type: ignore[no-untyped-def]
    """The signatures in the database and the blob files on disk."""
    rows = fresh(database, select(Signature))
    files = sorted(str(p) for p in settings.blobs_dir.rglob("*.pdf"))
    return rows, files


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


async def test_chair_secretary_then_seal_sign_and_every_signature_stays_intact(
    council, database, settings, keys, tmp_path
):
    mid, secretary, chair = council["id"], council["secretary"], council["chair"]
    before = kept(database, settings)

    early = await sign(secretary, mid, "secretary", SECRETARY_PIN)
    assert early.status_code == 409 and early.json()["code"] == "out_of_order"
    assert early.json()["message"] == "Chưa đến lượt: chủ tọa ký trước thư ký."
    wrong = await sign(chair, mid, "chair", "000000")
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_pin", wrong.text
    seal_first = await sign(secretary, mid, "seal")
    assert seal_first.json()["code"] == "out_of_order"
    not_theirs = await sign(secretary, mid, "chair", CHAIR_PIN)
    assert not_theirs.status_code == 403
    assert kept(database, settings) == before  # nothing half-signed

    view = (await chair.get(url(mid))).json()
    assert view["turn"] == "chair" and view["my_turn"] and view["needs_pin"]
    first = await sign(chair, mid, "chair", CHAIR_PIN)
    assert first.status_code == 201, first.text
    assert "Trần Văn Bình" in first.json()["subject"]
    again = await sign(chair, mid, "chair", CHAIR_PIN)
    assert again.status_code == 409 and again.json()["code"] == "already_signed"
    assert again.json()["message"] == "Chủ tọa đã ký phiên bản này."

    second = await sign(secretary, mid, "secretary", SECRETARY_PIN)
    assert second.status_code == 201, second.text
    third = await sign(secretary, mid, "seal")
    assert third.status_code == 201, third.text
    done = (await secretary.get(url(mid))).json()
    assert [s["role"] for s in done["signatures"]] == ["chair", "secretary", "seal"]
    assert done["turn"] is None

    signed = await secretary.get(url(mid, "1/pdf"))
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/pdf"
    pdf = signed.content
    original = BlobStore(settings.blobs_dir).get(
        (await secretary.get(f"/api/meetings/{mid}/minutes/versions/1")).json()["pdf_sha256"]
    )
    assert pdf.startswith(original)  # incremental: the frozen bytes stay as they were
    statuses = await validate(pdf, keys.root)
    assert len(statuses) == 3
    for status in statuses:
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.docmdp_ok and status.bottom_line
        assert status.modification_level in (ModificationLevel.NONE, ModificationLevel.FORM_FILLING)
    (tmp_path / "signed.pdf").write_bytes(pdf)

    # each block sits over the form's signature space on the last page, with its QR code
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        last = doc[-1]
        widgets = {w.field_name: w.rect for w in last.widgets()}
        name = max(last.search_for("Trần Văn Bình"), key=lambda r: r.y0)
        secretary_name = max(last.search_for("Nguyễn Thị Hồng"), key=lambda r: r.y0)
    assert set(widgets) == {"phonghop-chair", "phonghop-secretary", "phonghop-seal"}
    chair_box = widgets["phonghop-chair"]
    assert chair_box.y1 <= name.y0 + 1 and name.y0 - chair_box.y0 < 90
    assert chair_box.x0 < (name.x0 + name.x1) / 2 < chair_box.x1
    box = widgets["phonghop-secretary"]
    assert box.x0 < (secretary_name.x0 + secretary_name.x1) / 2 < box.x1
    assert widgets["phonghop-seal"].intersects(chair_box)

    # the QR code's page, for anyone: who signed, the PDF, and the PDF's own verdict
    code = done["signatures"][0]["verify"]
    anyone = await council["new_client"]()
    page = await anyone.get(code, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "Trần Văn Bình" in page.text and "Nguyễn Thị Hồng" in page.text
    assert (await anyone.get(f"{code}/pdf")).content == pdf
    assert (await anyone.get("/verify/no-such-code")).status_code == 404


async def test_the_notice_is_signed_by_the_chair_then_the_seal(council, database, settings, keys):
    mid, secretary, chair = council["id"], council["secretary"], council["chair"]
    assert (await freeze(secretary, mid, "notice")).status_code == 201
    notice = f"/api/meetings/{mid}/signatures/notice/1"
    assert (await secretary.get(notice)).json()["order"] == ["chair", "seal"]
    no_secretary = await secretary.post(notice, json={"role": "secretary", "pin": SECRETARY_PIN})
    assert no_secretary.json()["code"] == "bad_role"
    assert (await chair.post(notice, json={"role": "chair", "pin": CHAIR_PIN})).status_code == 201
    assert (await secretary.post(notice, json={"role": "seal"})).status_code == 201
    pdf = (await secretary.get(f"{notice}/pdf")).content
    statuses = await validate(pdf, keys.root)
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        signer = max(doc[-1].search_for("Trần Văn Bình"), key=lambda r: r.y0)
        box = next(w.rect for w in doc[-1].widgets() if w.field_name == "phonghop-chair")
    assert box.y1 <= signer.y0 + 1 and box.x0 < (signer.x0 + signer.x1) / 2 < box.x1


async def test_a_draft_is_not_signed(council, database, settings):
    mid, chair = council["id"], council["chair"]
    draft = await sign(chair, mid, "chair", CHAIR_PIN, tail="draft")
    assert draft.status_code == 409 and draft.json()["code"] == "not_frozen"
    assert "bản đã chốt" in draft.json()["message"]
    assert fresh(database, select(Signature)) == []


@pytest.mark.parametrize(
    ("chair_key", "code"),
    [
        ("binh-expired", "cert_expired"),
        ("binh-future", "cert_not_yet_valid"),
        ("binh-revoked", "cert_revoked"),
    ],
)
async def test_a_certificate_that_may_not_sign_today_is_refused(council, database, settings, code):
    before = kept(database, settings)
    refused = await sign(council["chair"], council["id"], "chair", CHAIR_PIN)
    assert refused.status_code == 409 and refused.json()["code"] == code, refused.text
    assert "Trần Văn Bình" in refused.json()["message"]
    assert kept(database, settings) == before


async def test_the_seal_needs_its_password_from_the_environment(
    council, database, settings, monkeypatch
):
    mid, secretary, chair = council["id"], council["secretary"], council["chair"]
    assert (await sign(chair, mid, "chair", CHAIR_PIN)).status_code == 201
    assert (await sign(secretary, mid, "secretary", SECRETARY_PIN)).status_code == 201
    before = kept(database, settings)
    monkeypatch.setenv("PHONGHOP_SEAL_PASSWORD", "sai-mat-khau")
    locked = await sign(secretary, mid, "seal")
    assert locked.status_code == 409 and locked.json()["code"] == "seal_locked"
    assert kept(database, settings) == before


# ---------------------------------------------------------------------------
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


@pytest.mark.timestamps
async def test_with_a_timestamp_server_the_signature_carries_its_timestamp(council, database, keys):
    mid, chair = council["id"], council["chair"]
    signed = await sign(chair, mid, "chair", CHAIR_PIN)
    assert signed.status_code == 201, signed.text
    assert signed.json()["timestamped"] is True
    pdf = (await chair.get(url(mid, "1/pdf"))).content
    (status,) = await validate(pdf, keys.root)
    assert status.intact and status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.intact


# ---------------------------------------------------------------------------
# The minutes page: "Ký số" for whoever's turn it is, the PIN typed there


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


def _post(page, path: str) -> dict:  # type: ignore[no-untyped-def]
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(path, headers={"X-CSRFToken": token})
    assert answer.ok, answer.text()
    return answer.json()


@pytest.mark.browser
def test_the_chair_signs_on_the_minutes_page_with_the_token_s_pin(
    browser, signing_server, tmp_path
):
    from playwright.sync_api import expect

    from tests.browser import sign_in, tablet

    secretary = tablet(browser, signing_server).new_page()
    sign_in(secretary, "thuky")
    meetings = secretary.request.get("/api/meetings").json()
    mid = meetings[0]["id"] if isinstance(meetings, list) else meetings["meetings"][0]["id"]
    _post(secretary, f"/api/meetings/{mid}/session/start")
    _post(secretary, f"/api/meetings/{mid}/session/end")
    _post(secretary, f"/api/meetings/{mid}/minutes/versions")

    context = tablet(browser, signing_server)
    chair = context.new_page()
    sign_in(chair, "chutoa")
    chair.goto(f"/meetings/{mid}/minutes")
    signing = chair.locator("#minutes-versions .signing")
    expect(signing).to_contain_text("Đến lượt ký: Chủ tọa.")
    pin = signing.locator("input[name=pin]")
    signing.scroll_into_view_if_needed()
    chair.screenshot(path=str(tmp_path / "chair-turn-1024.png"))
    pin.fill("000000")
    signing.get_by_role("button", name="Ký số").click()
    expect(signing.locator(".error")).to_have_text("Sai mã PIN: văn bản chưa được ký.")
    expect(pin).to_have_value("")
    chair.set_viewport_size({"width": 800, "height": 1280})
    signing.scroll_into_view_if_needed()
    chair.screenshot(path=str(tmp_path / "chair-wrong-pin-800.png"))
    pin.fill(CHAIR_PIN)
    signing.get_by_role("button", name="Ký số").click()
    expect(signing.locator(".signature-list li[data-role=chair]")).to_contain_text(
        "Chủ tọa: Trần Văn Bình"
    )
    expect(signing).to_contain_text("Đến lượt ký: Thư ký.")
    expect(signing.locator("input[name=pin]")).to_have_count(0)  # not the chair's turn now
    chair.screenshot(path=str(tmp_path / "chair-1024.png"), full_page=False)

    secretary.goto(f"/meetings/{mid}/minutes")
    row = secretary.locator("#minutes-versions .signing")
    row.locator("input[name=pin]").fill(SECRETARY_PIN)
    row.get_by_role("button", name="Ký số").click()
    expect(row).to_contain_text("Đến lượt ký: Con dấu.")
    expect(row.locator("input[name=pin]")).to_have_count(0)  # the seal needs no PIN
    row.get_by_role("button", name="Ký số").click()
    expect(row).to_contain_text("Đã ký đủ.")
    expect(row.locator(".signature-list li")).to_have_count(3)
    row.scroll_into_view_if_needed()
    secretary.screenshot(path=str(tmp_path / "secretary-1024.png"))
    secretary.set_viewport_size({"width": 800, "height": 1280})
    row.scroll_into_view_if_needed()
    secretary.screenshot(path=str(tmp_path / "secretary-800.png"))
    with secretary.expect_download() as download:
        row.get_by_role("link", name="Tải bản đã ký (PDF)").click()
    signed = Path(download.value.path()).read_bytes()
    (tmp_path / "signed.pdf").write_bytes(signed)
    assert signed.count(b"/ByteRange") == 3

    # the QR code's page, as someone who is not signed in opens it
    check = row.locator(".signature-list li[data-role=chair] a").get_attribute("href")
    visitor = tablet(browser, signing_server).new_page()
    visitor.goto(check)
    expect(visitor.locator("#signed-by li[data-role=seal]")).to_be_visible()
    expect(visitor.locator("#signed-by")).to_contain_text("Trần Văn Bình")
    visitor.screenshot(path=str(tmp_path / "verify-1024.png"), full_page=True)
    context.close()
