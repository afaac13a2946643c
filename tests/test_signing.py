"""Signed minutes: the chair signs with the key on a token (SoftHSM2, PIN typed at signing
time), then the secretary, then the council's seal from a PKCS#12 file; each signature is an
incremental PAdES signature that leaves the earlier ones intact (checked by pyHanko against
the test authority's root). Bad input is refused with nothing half-signed kept: a wrong PIN,
expired, not-yet-valid and revoked certificates, a draft, a second signature, out of order."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest
from pyhanko.sign.diff_analysis import ModificationLevel
from sqlmodel import select

from server.blobs import BlobStore
from server.models import Signature
from tests import signing_keys
from tests.signing_keys import CHAIR_PIN, SECRETARY_PIN, validate
from tests.test_record import conclude, freeze, fresh, make_council, run_session

# the SoftHSM2 tokens, the seal, the settings that use them, the timestamp and demo servers
keys, settings, chair_key = signing_keys.keys, signing_keys.settings, signing_keys.chair_key
tsa, signing_server = signing_keys.tsa, signing_keys.signing_server


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
