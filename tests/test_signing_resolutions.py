"""Adopted resolutions, signed: after the council passes an item by vote, the secretary
uploads the resolution's final text as a document of kind "resolution"; the chair signs it
(TM. HỘI ĐỒNG NHÂN DÂN / CHỦ TỊCH, the block over the chair's printed name at the bottom
right of the last page, or at the bottom right when the name is not printed), then the
council's seal. Real SoftHSM2 token and PKCS#12 seal, as in tests/test_signing.py; pyHanko
validates both signatures against the test authority's root. Refused, with nothing kept: an
item no vote passed, a paper that is not a resolution, a second signature, out of order."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pymupdf
import pytest
from pyhanko.sign.diff_analysis import ModificationLevel
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from agenda.fonts import SANS
from server.blobs import BlobStore
from server.models import Signature, Vote
from tests import signing_keys
from tests.conftest import need
from tests.signing_keys import CHAIR_PIN, validate
from tests.test_record import fresh, make_council

# the SoftHSM2 keys and the settings that use them, as the minutes' tests have them
keys, settings, chair_key = signing_keys.keys, signing_keys.settings, signing_keys.chair_key
tsa, signing_server = signing_keys.tsa, signing_keys.signing_server

CHAIR = "Trần Văn Bình"
SHOTS = Path("/tmp/res_shots")


def resolution_pdf(signer: str = CHAIR, pages: int = 2, heading: bool = True) -> bytes:
    """A council resolution in the Decree 30 form: its articles, then at the bottom right of
    the last page 'TM. HỘI ĐỒNG NHÂN DÂN / CHỦ TỊCH', the room for the signature and the
    chair's name; 'Nơi nhận' at the left."""
    doc = pymupdf.open()
    css = (
        SANS.css() + f" p {{ font-family: {SANS.css_family}; font-size: 12pt; margin: 0 0 6pt 0; }}"
    )
    for n in range(pages):
        page = doc.new_page(width=595, height=842)
        if n == 0:
            head = (
                "<p style='text-align:center'><b>HỘI ĐỒNG NHÂN DÂN PHƯỜNG THỬ NGHIỆM</b></p>"
                "<p style='text-align:center'><b>NGHỊ QUYẾT</b></p>"
                "<p style='text-align:center'><b>Về dự toán ngân sách phường năm 2027</b></p>"
            )
        else:
            head = ""
        body = "".join(
            f"<p>Điều {n * 4 + i}. Hội đồng nhân dân phường giao Ủy ban nhân dân phường tổ chức "
            "thực hiện Nghị quyết này; Thường trực Hội đồng nhân dân giám sát việc thực hiện.</p>"
            for i in range(1, 5)
        )
        page.insert_htmlbox(
            pymupdf.Rect(70, 60, 525, 520), head + body, css=css, archive=SANS.archive()
        )
        if n == pages - 1:
            page.insert_htmlbox(
                pymupdf.Rect(70, 560, 280, 700),
                "<p><b><i>Nơi nhận:</i></b></p><p>- Thường trực HĐND quận;</p><p>- Lưu: VT.</p>",
                css=css,
                archive=SANS.archive(),
            )
            sign = "<p style='text-align:center'><b>TM. HỘI ĐỒNG NHÂN DÂN</b></p>"
            sign += "<p style='text-align:center'><b>CHỦ TỊCH</b></p>"
            if heading:
                page.insert_htmlbox(
                    pymupdf.Rect(330, 560, 525, 610), sign, css=css, archive=SANS.archive()
                )
            if signer:
                page.insert_htmlbox(
                    pymupdf.Rect(330, 700, 525, 730),
                    f"<p style='text-align:center'><b>{signer}</b></p>",
                    css=css,
                    archive=SANS.archive(),
                )
    data = doc.tobytes()
    doc.close()
    return data


async def upload(client, item_id: int, data: bytes, kind: str = "resolution"):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/items/{item_id}/documents",
        files={"file": ("nghi-quyet.pdf", data, "application/pdf")},
        data={"kind": kind, "title": "Nghị quyết về dự toán ngân sách phường năm 2027"},
    )


def adopt(database, meeting_id: int, item_id: int, passed: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The item's closed vote, as the vote console leaves it."""
    database.add(
        Vote(
            meeting_id=meeting_id,
            item_id=item_id,
            title="Thông qua Nghị quyết về dự toán ngân sách",
            status="closed",
            result={"tally": {"yes": 2, "no": 0}, "passed": passed, "quorum_met": True},
        )
    )
    database.commit()


@pytest.fixture
async def council(client, accounts, database, new_client):  # type: ignore[no-untyped-def]
    made = await make_council(client, accounts, database, new_client)
    chair = await new_client()
    await chair.login("chutoa")
    return {**made, "chair": chair}


def sign_url(document_id: int, tail: str = "") -> str:
    return f"/api/documents/{document_id}/signatures{tail}"


async def test_an_adopted_resolution_is_signed_by_the_chair_then_the_seal(
    council, database, settings, keys
):
    mid, item = council["id"], council["items"][0]
    secretary, chair = council["secretary"], council["chair"]
    adopt(database, mid, item)
    uploaded = await upload(secretary, item, resolution_pdf())
    assert uploaded.status_code == 201, uploaded.text
    doc = uploaded.json()
    assert doc["kind"] == "resolution"

    view = (await chair.get(sign_url(doc["id"]))).json()
    assert view["adopted"] and view["order"] == ["chair", "seal"]
    assert view["turn"] == "chair" and view["my_turn"] and view["needs_pin"]
    seal_first = await secretary.post(sign_url(doc["id"]), json={"role": "seal"})
    assert seal_first.status_code == 409 and seal_first.json()["code"] == "out_of_order"
    assert seal_first.json()["message"] == "Chưa đến lượt: chủ tọa ký trước con dấu của cơ quan."
    wrong = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": "000000"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_pin"
    assert fresh(database, select(Signature)) == []

    first = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert first.status_code == 201, first.text
    again = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert again.status_code == 409 and again.json()["code"] == "already_signed"
    assert again.json()["message"] == "Chủ tọa đã ký nghị quyết này."
    sealed = await secretary.post(sign_url(doc["id"]), json={"role": "seal"})
    assert sealed.status_code == 201, sealed.text
    twice = await secretary.post(sign_url(doc["id"]), json={"role": "seal"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_signed"

    done = (await council["delegate"].get(sign_url(doc["id"]))).json()
    assert [s["role"] for s in done["signatures"]] == ["chair", "seal"] and done["turn"] is None
    signed = await council["delegate"].get(sign_url(doc["id"], "/pdf"))
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/pdf"
    pdf = signed.content
    original = BlobStore(settings.blobs_dir).get(doc["sha256"])  # the frozen uploaded text
    assert pdf.startswith(original)  # the uploaded text stays byte for byte
    statuses = await validate(pdf, keys.root)
    assert len(statuses) == 2
    for status in statuses:
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.modification_level in (ModificationLevel.NONE, ModificationLevel.FORM_FILLING)

    with pymupdf.open(stream=pdf, filetype="pdf") as opened:
        last = opened[-1]
        widgets = {w.field_name: w.rect for w in last.widgets()}
        name = max(last.search_for(CHAIR), key=lambda r: r.y0)
        heading = max(last.search_for("CHỦ TỊCH"), key=lambda r: r.y1)
        width = last.rect.width
    chair_box = widgets["phonghop-chair"]
    assert chair_box.y1 <= name.y0 + 1 and chair_box.y0 >= heading.y1 - 20
    assert chair_box.x0 < (name.x0 + name.x1) / 2 < chair_box.x1
    assert chair_box.x0 > width / 2 - 40  # the right-hand column
    assert widgets["phonghop-seal"].intersects(chair_box)
    render_last_page(pdf, "resolution-signed")

    # a signed resolution stays as it is
    gone = await secretary.delete(f"/api/documents/{doc['id']}")
    assert gone.status_code == 409 and gone.json()["code"] == "signed"

    # the QR code's page, for anyone
    anyone = await council["new_client"]()
    page = await anyone.get(done["signatures"][0]["verify"], headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Nghị quyết đã thông qua" in page.text
    assert CHAIR in page.text
    assert (await anyone.get(done["signatures"][0]["verify"] + "/pdf")).content == pdf


async def test_without_the_printed_name_the_block_goes_under_the_heading(
    council, database, settings, keys
):
    mid, item, chair = council["id"], council["items"][0], council["chair"]
    adopt(database, mid, item)
    doc = (await upload(council["secretary"], item, resolution_pdf(signer="", pages=1))).json()
    made = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert made.status_code == 201, made.text
    pdf = (await chair.get(sign_url(doc["id"], "/pdf"))).content
    with pymupdf.open(stream=pdf, filetype="pdf") as opened:
        last = opened[-1]
        box = next(w.rect for w in last.widgets() if w.field_name == "phonghop-chair")
        heading = max(last.search_for("CHỦ TỊCH"), key=lambda r: r.y1)
    assert box.y0 > heading.y1 and box.x0 < (heading.x0 + heading.x1) / 2 < box.x1
    assert (await validate(pdf, keys.root))[0].bottom_line


async def test_without_name_or_heading_the_block_goes_bottom_right(
    council, database, settings, keys
):
    mid, item, chair = council["id"], council["items"][0], council["chair"]
    adopt(database, mid, item)
    bare = resolution_pdf(signer="", pages=1, heading=False)
    doc = (await upload(council["secretary"], item, bare)).json()
    made = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert made.status_code == 201, made.text
    assert (await council["secretary"].post(sign_url(doc["id"]), json={"role": "seal"})).is_success
    pdf = (await chair.get(sign_url(doc["id"], "/pdf"))).content
    with pymupdf.open(stream=pdf, filetype="pdf") as opened:
        last = opened[-1]
        widgets = {w.field_name: w.rect for w in last.widgets()}
        width, height = last.rect.width, last.rect.height
    box = widgets["phonghop-chair"]
    assert box.x0 > width / 2 and width - box.x1 < 80 and height - box.y1 < 80
    seal = widgets["phonghop-seal"]
    assert seal.intersects(box) and abs((seal.y0 + seal.y1) / 2 - (box.y0 + box.y1) / 2) < 6
    statuses = await validate(pdf, keys.root)
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    render_last_page(pdf, "resolution-fallback")


async def test_an_item_no_vote_passed_is_not_signed(council, database, settings):
    mid, item, chair = council["id"], council["items"][0], council["chair"]
    doc = (await upload(council["secretary"], item, resolution_pdf())).json()
    none = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert none.status_code == 409 and none.json()["code"] == "not_adopted"
    assert "chưa thông qua" in none.json()["message"]
    adopt(database, mid, item, passed=False)
    failed = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert failed.json()["code"] == "not_adopted"
    assert not (await chair.get(sign_url(doc["id"]))).json()["my_turn"]
    assert fresh(database, select(Signature)) == []


async def test_a_paper_is_not_signed_as_a_resolution(council, database, settings):
    mid, item, chair = council["id"], council["items"][0], council["chair"]
    adopt(database, mid, item)
    paper = (await upload(council["secretary"], item, resolution_pdf(), kind="paper")).json()
    assert paper["kind"] == "paper"
    refused = await chair.post(sign_url(paper["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert refused.status_code == 409 and refused.json()["code"] == "not_a_resolution"
    assert "nghị quyết" in refused.json()["message"]
    odd = await upload(council["secretary"], item, resolution_pdf(), kind="book")
    assert odd.status_code == 400 and odd.json()["code"] == "bad_kind"
    assert fresh(database, select(Signature)) == []


@pytest.mark.parametrize(
    ("chair_key", "code"),
    [("binh-expired", "cert_expired"), ("binh-revoked", "cert_revoked")],
)
async def test_an_expired_or_revoked_key_does_not_sign_a_resolution(
    council, database, settings, code
):
    mid, item, chair = council["id"], council["items"][0], council["chair"]
    adopt(database, mid, item)
    doc = (await upload(council["secretary"], item, resolution_pdf())).json()
    refused = await chair.post(sign_url(doc["id"]), json={"role": "chair", "pin": CHAIR_PIN})
    assert refused.status_code == 409 and refused.json()["code"] == code, refused.text
    assert fresh(database, select(Signature)) == []


def test_a_signature_is_on_a_record_version_or_a_document_never_both_nor_neither(council, database):
    """The database's own check (migration 0010), whatever the code above it does."""
    for target in ({}, {"record_version_id": 1, "document_id": 1}):
        database.add(Signature(role="chair", pdf_sha256="0" * 64, code=f"x{len(target)}", **target))
        with pytest.raises(IntegrityError):
            database.commit()
        database.rollback()


def render_last_page(pdf: bytes, name: str) -> Path:
    """The signed last page as pdftoppm draws it (poppler, not the library that signed)."""
    need(shutil.which("pdftoppm") is not None, "pdftoppm is not installed (poppler-utils)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    source = SHOTS / f"{name}.pdf"
    source.write_bytes(pdf)
    with pymupdf.open(stream=pdf, filetype="pdf") as opened:
        last = opened.page_count
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "110",
            "-f",
            str(last),
            "-l",
            str(last),
            "-singlefile",
            str(source),
            str(SHOTS / name),
        ],
        check=True,
        timeout=120,
    )
    out = SHOTS / f"{name}.png"
    assert out.stat().st_size > 10_000
    return out


def _post_json(page, path: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(path, data=body or {}, headers={"X-CSRFToken": token})
    assert answer.ok, answer.text()
    return answer.json()


@pytest.mark.browser
def test_the_secretary_uploads_the_resolution_and_the_chair_signs_it_on_the_meeting_page(
    browser, signing_server, tmp_path
):
    from playwright.sync_api import expect

    from tests.browser import sign_in, tablet

    secretary = tablet(browser, signing_server).new_page()
    sign_in(secretary, "thuky")
    meetings = secretary.request.get("/api/meetings").json()
    mid = meetings[0]["id"] if isinstance(meetings, list) else meetings["meetings"][0]["id"]
    item = secretary.request.get(f"/api/meetings/{mid}").json()["items"][0]["id"]
    vote = _post_json(
        secretary,
        f"/api/meetings/{mid}/votes",
        {"title": "Thông qua Nghị quyết về dự toán", "method": "hands", "item_id": item},
    )
    _post_json(secretary, f"/api/votes/{vote['id']}/open")
    counted = _post_json(
        secretary, f"/api/votes/{vote['id']}/count", {"counts": {"yes": 15, "no": 1, "abstain": 0}}
    )
    assert counted["result"]["passed"], counted

    # the secretary attaches the final text as the resolution, in the editor
    source = tmp_path / "nghi-quyet.pdf"
    source.write_bytes(resolution_pdf())
    secretary.goto(f"/meetings/{mid}/edit")
    row = secretary.locator(f"li[data-item-id='{item}']")
    row.locator("details.attach > summary").click()
    form = row.locator("details.attach form")
    form.locator("input[type=file]").set_input_files(str(source))
    form.locator("select[name=kind]").select_option("resolution")
    form.get_by_role("button", name="Tải lên").click()
    signing_area = secretary.locator(f"li[data-item-id='{item}'] .resolution-signing")
    expect(signing_area).to_contain_text("Người ký tiếp theo: chủ tọa.")
    expect(secretary.locator(f"li[data-item-id='{item}'] .resolution-badge")).to_have_text(
        "Nghị quyết"
    )

    # the chair signs on the meeting page with the token's PIN
    context = tablet(browser, signing_server)
    chair = context.new_page()
    sign_in(chair, "chutoa")
    chair.goto(f"/meetings/{mid}")
    area = chair.locator(f"li[data-item-id='{item}'] .resolution-signing")
    pin = area.locator("input[name=pin]")
    expect(pin).to_be_visible()
    area.scroll_into_view_if_needed()
    chair.screenshot(path=str(SHOTS / "chair-turn-1024.png"))
    pin.fill("000000")
    area.get_by_role("button", name="Ký số với vai trò chủ tọa").click()
    expect(area.locator(".form-error")).to_have_text("Sai mã PIN: văn bản chưa được ký.")
    chair.set_viewport_size({"width": 800, "height": 1280})
    area.scroll_into_view_if_needed()
    chair.screenshot(path=str(SHOTS / "chair-wrong-pin-800.png"))
    area.locator("input[name=pin]").fill(CHAIR_PIN)
    area.get_by_role("button", name="Ký số với vai trò chủ tọa").click()
    area = chair.locator(f"li[data-item-id='{item}'] .resolution-signing")
    expect(area.locator(".signature-list li[data-role=chair]")).to_contain_text(
        "Chủ tọa: Trần Văn Bình"
    )
    expect(area.locator("input[name=pin]")).to_have_count(0)
    area.scroll_into_view_if_needed()
    chair.screenshot(path=str(SHOTS / "chair-signed-800.png"))
    chair.set_viewport_size({"width": 1024, "height": 768})
    area.scroll_into_view_if_needed()
    chair.screenshot(path=str(SHOTS / "chair-signed-1024.png"))

    # the seal, from the secretary's meeting page; then the signed PDF
    secretary.goto(f"/meetings/{mid}")
    mine = secretary.locator(f"li[data-item-id='{item}'] .resolution-signing")
    mine.get_by_role("button", name="Ký số với vai trò con dấu của cơ quan").click()
    mine = secretary.locator(f"li[data-item-id='{item}'] .resolution-signing")
    expect(mine).to_contain_text("Đã ký đủ.")
    expect(mine.locator(".signature-list li")).to_have_count(2)
    mine.scroll_into_view_if_needed()
    secretary.screenshot(path=str(SHOTS / "secretary-signed-1024.png"))
    with secretary.expect_download() as download:
        mine.get_by_role("link", name="Tải nghị quyết đã ký (PDF)").click()
    signed = Path(download.value.path()).read_bytes()
    assert signed.count(b"/ByteRange") == 2
    render_last_page(signed, "browser-signed")
    context.close()
