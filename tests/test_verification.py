"""Verification for everyone: a citizen uploads a signed PDF and phonghop says who signed it,
when, whether each certificate chains to the configured roots, and whether the document
changed after each signature. The PDFs are signed here with pyHanko, by certificates of the
tests' own certificate authority (tests/pki.py); nothing is faked."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymupdf
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from bench.harness import free_port, running_server, server_env
from server.settings import Settings
from server.verification import check_pdf
from tests.browser import BUSY_MACHINE_MS, LiveServer
from tests.pki import Authority, Issued, new_key

TITLE = "Bien ban ky hop thu 12"


def unsigned_pdf(pages: int = 1) -> bytes:
    """A plain PDF with its title in the clear, as minutes come out of phonghop."""
    doc = pymupdf.open()
    for number in range(pages):
        doc.new_page().insert_text((72, 72), f"Trang {number + 1}")
    doc.set_metadata({"title": TITLE})
    return bytes(doc.tobytes(deflate=False))


def simple_signer(ca: Authority, issued: Issued) -> signers.SimpleSigner:
    assert issued.key is not None
    key = issued.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    root = asn1_x509.Certificate.load(ca.cert.public_bytes(serialization.Encoding.DER))
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(issued.der()),
        signing_key=asn1_keys.PrivateKeyInfo.load(key),
        cert_registry=SimpleCertificateStore.from_certs([root]),
    )


def sign(
    pdf: bytes, ca: Authority, issued: Issued, field: str, timestamper: object = None
) -> bytes:
    """One more signature, as an incremental update: what came before stays byte for byte."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name=field)
    signer = simple_signer(ca, issued)
    signed = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    return bytes(signed.getvalue())


def time_stamper(ca: Authority, at: datetime) -> DummyTimeStamper:
    """A timestamp authority under `ca` (RFC 3161) whose clock says `at`."""
    key = new_key()
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(
            cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "Máy chủ dấu thời gian")])
        )
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=500))
        .not_valid_after(now + timedelta(days=500))
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
        fixed_dt=at,
    )


def draw_on_first_page(pdf: bytes) -> bytes:
    """An incremental update that paints a box over page 1: the content changes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"q 1 1 1 rg 60 60 300 40 re f Q")
    contents = page["/Contents"]
    old = (
        list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
    )
    page[generic.pdf_name("/Contents")] = generic.ArrayObject([*old, writer.add_object(stream)])
    writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def ca() -> Authority:
    return Authority()


@pytest.fixture(scope="module")
def chair(ca: Authority) -> Issued:
    return ca.issue("Trần Văn Bình", title="Chủ tịch HĐND phường")


@pytest.fixture(scope="module")
def secretary(ca: Authority) -> Issued:
    return ca.issue("Lê Thị Hoa", title="Thư ký kỳ họp")


@pytest.fixture(scope="module")
def minutes(ca: Authority, chair: Issued, secretary: Issued) -> bytes:
    """Minutes signed by the chair, then by the secretary."""
    return sign(sign(unsigned_pdf(), ca, chair, "ChuTich"), ca, secretary, "ThuKy")


@pytest.fixture(scope="module")
def revoked_member(ca: Authority) -> Issued:
    """A delegate whose certificate the CA has revoked (the key was lost)."""
    member = ca.issue("Mất Khóa", title="Đại biểu")
    ca.revoke(member)
    return member


@pytest.fixture
def settings(settings: Settings, ca: Authority, revoked_member: Issued, tmp_path: Path) -> Settings:
    """The app and `check_pdf` trust the tests' root, as a council trusts the government CA,
    and read its revocation list."""
    crl = tmp_path / "ca.crl"
    crl.write_bytes(ca.crl_der())
    return replace(
        settings, trusted_roots=[str(ca.write_root(tmp_path / "roots.pem"))], crls=[str(crl)]
    )


# ------------------------------------------------------------------ what the report says


def test_one_signature_says_who_when_and_that_it_holds(settings, ca, chair):
    before = datetime.now(UTC) - timedelta(seconds=2)
    report = check_pdf(sign(unsigned_pdf(), ca, chair, "ChuTich"), settings)
    assert report.problem == "" and report.ok
    (only,) = report.signatures
    assert (only.number, only.field, only.signer) == (1, "ChuTich", "Trần Văn Bình")
    assert (only.title, only.organization) == ("Chủ tịch HĐND phường", "HĐND phường Ba Đình")
    assert only.signed_at is not None and before <= only.signed_at <= datetime.now(UTC)
    assert only.timestamp_at is None
    assert (only.trusted, only.intact, only.changed_after) == (True, True, "none")
    assert report.verdict("vi") == "Tài liệu còn nguyên vẹn, 1 chữ ký hợp lệ."
    assert report.verdict("en") == "The document is intact, 1 valid signature."


def test_two_incremental_signatures_both_hold(settings, minutes):
    report = check_pdf(minutes, settings)
    first, second = report.signatures
    assert [s.signer for s in report.signatures] == ["Trần Văn Bình", "Lê Thị Hoa"]
    assert first.ok and first.changed_after == "signatures"  # only the secretary's came later
    assert second.ok and second.changed_after == "none"
    assert report.revisions == 3
    assert report.verdict("vi") == "Tài liệu còn nguyên vẹn, 2 chữ ký hợp lệ."


def test_a_byte_changed_in_the_first_signed_range_is_caught(settings, minutes):
    first_range_end = int(re.search(rb"/ByteRange \[\s*0 (\d+)", minutes).group(1))  # type: ignore[union-attr]
    where = minutes.index(TITLE.encode())
    assert where < first_range_end
    altered = bytearray(minutes)
    altered[where + len("Bien ban ky hop thu ")] = ord("9")  # "thu 12" becomes "thu 92"
    report = check_pdf(bytes(altered), settings)
    assert [s.intact for s in report.signatures] == [False, False]  # both signed those bytes
    assert not report.ok
    assert report.verdict("vi") == (
        "Chữ ký thứ 1 không khớp với tài liệu: nội dung đã ký đã bị sửa."
    )


def test_content_added_after_the_last_signature_is_caught(settings, minutes):
    report = check_pdf(draw_on_first_page(minutes), settings)
    assert [s.changed_after for s in report.signatures] == ["content", "content"]
    assert all(s.intact and s.trusted for s in report.signatures)  # the signed part holds
    assert report.verdict("vi") == "Tài liệu đã bị sửa sau chữ ký thứ 2."
    assert report.verdict("en") == "The document was changed after signature 2."


def test_content_changed_between_two_signatures_names_the_first(settings, ca, chair, secretary):
    changed = draw_on_first_page(sign(unsigned_pdf(), ca, chair, "ChuTich"))
    report = check_pdf(sign(changed, ca, secretary, "ThuKy"), settings)
    assert [s.changed_after for s in report.signatures] == ["content", "none"]
    assert report.verdict("vi") == "Tài liệu đã bị sửa sau chữ ký thứ 1."


def test_a_certificate_from_an_unknown_authority_does_not_chain(settings):
    stranger_ca = Authority("Một CA không ai tin")
    stranger = stranger_ca.issue("Người lạ")
    report = check_pdf(sign(unsigned_pdf(), stranger_ca, stranger, "S"), settings)
    (only,) = report.signatures
    assert only.intact and not only.trusted and only.problem == "untrusted"
    assert only.issuer == "Một CA không ai tin"
    assert report.verdict("vi") == "Tài liệu còn nguyên vẹn, nhưng 1/1 chữ ký không hợp lệ."
    assert report.to_json("vi")["signatures"][0]["problem_text"] == (
        "Chứng thư số không thuộc chuỗi của tổ chức chứng thực gốc tin cậy."
    )


def test_without_trusted_roots_nothing_is_trusted_and_it_says_why(settings, ca, chair):
    report = check_pdf(sign(unsigned_pdf(), ca, chair, "S"), replace(settings, trusted_roots=[]))
    assert report.signatures[0].problem == "no_roots" and not report.ok


def test_an_expired_certificate_is_refused(settings, ca):
    report = check_pdf(sign(unsigned_pdf(), ca, ca.expired("Hết Hạn"), "S"), settings)
    (only,) = report.signatures
    assert (only.intact, only.trusted, only.problem) == (True, False, "expired")
    assert not only.expired_since


def test_a_timestamp_gives_the_time_and_proves_a_signature_older_than_an_expiry(settings, ca):
    at = datetime.now(UTC) - timedelta(seconds=30)
    chair = ca.issue("Có Dấu Thời Gian")
    report = check_pdf(sign(unsigned_pdf(), ca, chair, "S", time_stamper(ca, at)), settings)
    (stamped,) = report.signatures
    assert stamped.ok and stamped.timestamp_trusted
    assert stamped.timestamp_at is not None
    assert abs((stamped.timestamp_at - at).total_seconds()) < 1

    # signed while the certificate was valid, as the timestamp proves; expired since
    expired = ca.expired("Đã Hết Hạn Sau Khi Ký")
    when = datetime.now(UTC) - timedelta(days=60)
    report = check_pdf(sign(unsigned_pdf(), ca, expired, "S", time_stamper(ca, when)), settings)
    (old,) = report.signatures
    assert old.timestamp_trusted and old.trusted and old.expired_since and old.ok


def test_a_certificate_not_yet_valid_is_refused(settings, ca):
    report = check_pdf(sign(unsigned_pdf(), ca, ca.not_yet_valid("Chưa Tới"), "S"), settings)
    assert report.signatures[0].problem == "not_yet_valid"


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_a_certificate_revoked_by_a_configured_crl_is_refused(settings, tmp_path, encoding):
    authority = Authority("CA có danh sách thu hồi")
    revoked, kept = authority.issue("Bị Thu Hồi"), authority.issue("Còn Hiệu Lực")
    signed_by_revoked = sign(unsigned_pdf(), authority, revoked, "S")
    signed_by_kept = sign(unsigned_pdf(), authority, kept, "S")
    authority.revoke(revoked)
    crl = authority.crl_der()
    if encoding == "pem":
        body = "\n".join(re.findall(".{1,64}", __import__("base64").b64encode(crl).decode()))
        crl = f"-----BEGIN X509 CRL-----\n{body}\n-----END X509 CRL-----\n".encode()
    crl_file = tmp_path / f"revoked.crl.{encoding}"
    crl_file.write_bytes(crl)
    root = authority.write_root(tmp_path / "ca2.pem")
    configured = replace(settings, trusted_roots=[*settings.trusted_roots, str(root)])
    assert check_pdf(signed_by_revoked, configured).ok  # no CRL named: nothing says revoked

    configured = replace(configured, crls=[str(crl_file)])
    (refused,) = check_pdf(signed_by_revoked, configured).signatures
    assert (refused.trusted, refused.problem) == (False, "revoked")
    assert refused.revoked_at is not None
    assert refused.revoked_at <= datetime.now(UTC)
    assert check_pdf(signed_by_kept, configured).ok  # the same CRL does not list this one


def test_a_file_that_is_not_a_pdf_gets_a_clear_answer(settings, minutes):
    for junk in (b"Xin chao, day khong phai PDF", b"%PDF-1.7\nrac", minutes[: len(minutes) // 2]):
        report = check_pdf(junk, settings)
        assert report.problem == "not_pdf"
        assert report.verdict("vi") == "Tệp này không phải tài liệu PDF, hoặc đã bị hỏng."
    assert check_pdf(b"", settings).problem == "empty"


def test_a_pdf_without_signatures_says_so(settings):
    report = check_pdf(unsigned_pdf(), settings)
    assert report.problem == "no_signatures" and not report.ok
    assert report.verdict("vi") == "Tệp PDF này không có chữ ký số nào."


def test_a_file_over_the_limit_is_not_parsed(settings, minutes):
    small = replace(settings, max_upload_mb=1)
    report = check_pdf(minutes + b"\0" * (1024 * 1024), small)
    assert report.problem == "too_large"
    assert report.verdict("vi", 1) == "Tệp lớn hơn 1 MB."


# ------------------------------------------------------------------ the API and the page


async def test_the_api_answers_someone_not_signed_in(client, minutes):
    # no session, no CSRF token: a citizen's script posting the PDF it was handed
    files = {"file": ("bien-ban.pdf", minutes, "application/pdf")}
    response = await client.raw.post("/api/verify", files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["verdict"] == "Tài liệu còn nguyên vẹn, 2 chữ ký hợp lệ."
    assert [s["signer"] for s in body["signatures"]] == ["Trần Văn Bình", "Lê Thị Hoa"]
    assert body["signatures"][0]["title"] == "Chủ tịch HĐND phường"
    assert body["signatures"][0]["changed_text"] == "Chỉ có các chữ ký sau được thêm vào."
    datetime.fromisoformat(body["signatures"][0]["signed_at"])

    client.raw.cookies.set("lang", "en")
    body = (await client.raw.post("/api/verify", files=files)).json()
    assert body["verdict"] == "The document is intact, 2 valid signatures."

    junk = await client.raw.post("/api/verify", files={"file": ("x.pdf", b"<html>", "text/html")})
    assert junk.status_code == 200 and junk.json()["problem"] == "not_pdf"
    missing = await client.raw.post("/api/verify", data={"nothing": "here"})
    assert missing.status_code == 400 and missing.json()["code"] == "no_file"


async def test_an_upload_over_the_limit_is_refused_plainly(app, client):
    limit = app.state.settings.max_upload_mb * 1024 * 1024
    files = {"file": ("big.pdf", b"%PDF-1.7\n" + b"0" * limit, "application/pdf")}
    response = await client.raw.post("/api/verify", files=files)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


async def test_the_page_is_vietnamese_first_and_english_on_request(client, minutes):
    login = await client.get("/login")
    assert '<a href="/verify">Kiểm tra tài liệu đã ký số</a>' in login.text  # found signed out
    page = await client.get("/verify")
    assert page.status_code == 200
    assert "Kiểm tra tài liệu đã ký số" in page.text and 'name="file"' in page.text
    # the page's own form (htmx, with the page's CSRF token) gets the report as a fragment
    files = {"file": ("bien-ban.pdf", minutes, "application/pdf")}
    fragment = await client.post("/verify", files=files, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Tài liệu còn nguyên vẹn, 2 chữ ký hợp lệ." in fragment.text
    assert fragment.text.count('class="card signature-card good"') == 2
    assert "<html" not in fragment.text

    client.raw.cookies.set("lang", "en")
    page = await client.get("/verify")
    assert "Verify a signed document" in page.text and "Kiểm tra tài liệu" not in page.text
    whole = await client.post("/verify", files=files)  # without script: the whole page
    assert "<html" in whole.text and "The document is intact, 2 valid signatures." in whole.text


@pytest.fixture
def two_bad_signatures(ca: Authority, revoked_member: Issued) -> bytes:
    """Signed by a stranger, then by the delegate whose certificate was revoked."""
    stranger_ca = Authority("CA lạ")
    stranger = stranger_ca.issue("Người Lạ")
    return sign(sign(unsigned_pdf(), stranger_ca, stranger, "A"), ca, revoked_member, "B")


async def test_the_page_says_why_a_signature_is_not_trusted(client, two_bad_signatures):
    pdf = two_bad_signatures
    files = {"file": ("bien-ban.pdf", pdf, "application/pdf")}
    fragment = await client.post("/verify", files=files, headers={"HX-Request": "true"})
    assert fragment.status_code == 200, fragment.text
    assert "Tài liệu còn nguyên vẹn, nhưng 2/2 chữ ký không hợp lệ." in fragment.text
    assert "Chứng thư số không thuộc chuỗi của tổ chức chứng thực gốc tin cậy." in fragment.text
    assert re.search(r"Chứng thư số đã bị thu hồi ngày \d\d:\d\d \d\d/\d\d/\d{4}\.", fragment.text)
    assert fragment.text.count('class="card signature-card bad"') == 2


async def test_a_signed_in_person_verifies_the_same_way(client, accounts, minutes):
    accounts.user("daibieu", role="delegate")
    await client.login("daibieu")
    files = {"file": ("bien-ban.pdf", minutes, "application/pdf")}
    response = await client.post("/api/verify", files=files)
    assert response.status_code == 200 and response.json()["ok"] is True


# ------------------------------------------------------------------ in a browser


@pytest.fixture
def verify_server(tmp_path: Path, ca: Authority) -> Iterator[LiveServer]:
    """The demo server, trusting the tests' root."""
    env = server_env(tmp_path / "data")
    env["PHONGHOP_TRUSTED_ROOTS"] = str(ca.write_root(tmp_path / "roots.pem"))
    with running_server(free_port(), env, tmp_path / "server.log", command="demo") as server:
        server.wait_healthy()
        yield LiveServer(server.url, tmp_path / "data", server.process)


def test_a_citizen_checks_minutes_in_the_browser(browser, verify_server, minutes, tmp_path):
    from playwright.sync_api import expect

    good, tampered = tmp_path / "bien-ban.pdf", tmp_path / "bien-ban-da-sua.pdf"
    good.write_bytes(minutes)
    tampered.write_bytes(draw_on_first_page(minutes))
    for size, path, verdict in (
        ({"width": 1024, "height": 768}, good, "Tài liệu còn nguyên vẹn, 2 chữ ký hợp lệ."),
        ({"width": 800, "height": 1280}, tampered, "Tài liệu đã bị sửa sau chữ ký thứ 2."),
    ):
        context = browser.new_context(viewport=size, base_url=verify_server.url, locale="vi-VN")
        context.set_default_timeout(BUSY_MACHINE_MS)
        page = context.new_page()
        page.goto("/verify")
        page.set_input_files("input[name=file]", str(path))
        page.get_by_role("button", name="Kiểm tra").click()
        expect(page.locator(".verify-verdict")).to_have_text(re.compile(re.escape(verdict)))
        expect(page.locator(".signature-card")).to_have_count(2)
        expect(page.locator(".signature-card").first).to_contain_text("Trần Văn Bình")
        page.screenshot(
            path=tmp_path / f"verify-{size['width']}x{size['height']}.png", full_page=True
        )
        if path == good:
            page.get_by_role("link", name="EN").click()
            expect(page.get_by_role("heading", name="Verify a signed document")).to_be_visible()
        context.close()
