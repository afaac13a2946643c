"""The count minutes of a written vote, signed: once the vote has closed, its frozen PDF is
signed by the council's chair who sent it (over their name under TM. THƯỜNG TRỰC HĐND /
CHỦ TỊCH), then the council's secretary (THƯ KÝ), then the council's seal, each signature an
incremental PAdES update of the frozen bytes. Real SoftHSM2 tokens and a PKCS#12 seal
(tests/signing_keys.py); pyHanko validates every signature against the test authority's root.
Refused, with nothing kept: a vote not closed yet, the wrong person, out of order, twice, a
wrong PIN, a frozen PDF or record that no longer matches its hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymupdf
import pytest
from pyhanko.sign.diff_analysis import ModificationLevel
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from server.blobs import BlobStore
from server.models import Body, Signature, WrittenVote
from tests import signing_keys
from tests.signing_keys import CHAIR_PIN, SECRETARY_PIN, validate
from tests.test_record import fresh
from tests.test_signing_resolutions import render_last_page
from tests.test_written_votes import answer_directly, in_an_hour, past_deadline, seat

# the SoftHSM2 tokens ("chutoa", "thuky"), the seal and the settings that use them
keys, settings, chair_key = signing_keys.keys, signing_keys.settings, signing_keys.chair_key
tsa = signing_keys.tsa

CHAIR = "Trần Văn Bình"
SECRETARY = "Nguyễn Thị Hồng"
COUNCIL = "Hội đồng nhân dân phường Thử Nghiệm"
TITLE = "Điều chỉnh kế hoạch đầu tư công năm 2026"
QUESTION = "Đồng ý thông qua dự thảo Nghị quyết điều chỉnh kế hoạch đầu tư công năm 2026?"


@pytest.fixture
def council(accounts, database) -> Body:
    """An HĐND of 30 delegates, all on the roster; its chair (who holds the chair's token)
    leads it, its secretary account keeps its records."""
    body = accounts.body(COUNCIL)
    body.kind, body.members = "hdnd", 30
    database.add(body)
    accounts.user("thuky", "secretary", body, full_name=SECRETARY)
    chair = accounts.user("chutoa", body=body, full_name=CHAIR, title="Chủ tịch HĐND phường")
    seat(database, body, chair, 1)
    for n in range(2, 31):
        seat(database, body, accounts.user(f"db{n:02d}", body=body), n)
    database.commit()
    return body


async def signed_in(new_client, username: str):  # type: ignore[no-untyped-def]
    device = await new_client()
    await device.login(username)
    return device


@pytest.fixture
async def people(client, new_client, council):  # type: ignore[no-untyped-def]
    """The secretary, the chair and a delegate, each on their own device, and a written vote
    the secretary drafted and the chair sent."""
    await client.login("thuky")
    fields = {"body_id": str(council.id), "title": TITLE, "question": QUESTION}
    drafted = await client.post("/written-votes", data=fields)
    assert drafted.status_code == 201, drafted.text
    vote_id = int(drafted.headers["HX-Redirect"].rsplit("/", 1)[1])
    chair = await signed_in(new_client, "chutoa")
    sent = await chair.post(f"/written-votes/{vote_id}/send", data={"deadline": in_an_hour()})
    assert sent.status_code == 201, sent.text
    delegate = await signed_in(new_client, "db02")
    return {"vote": vote_id, "secretary": client, "chair": chair, "delegate": delegate}


def closed(database, vote_id: int) -> None:
    """Answered by most, then the deadline passes: the next request closes it."""
    answers = {"chutoa": "yes", **{f"db{n:02d}": "yes" for n in range(2, 20)}, "db20": "no"}
    answer_directly(database, vote_id, answers)
    past_deadline(database, vote_id)


def url(vote_id: int, tail: str = "") -> str:
    return f"/api/written-votes/{vote_id}/signatures{tail}"


async def sign(client, vote_id: int, role: str, pin: str = ""):  # type: ignore[no-untyped-def]
    return await client.post(url(vote_id), json={"role": role, "pin": pin})


def kept(database, settings):  # type: ignore[no-untyped-def]
    """The signatures in the database and the blob files on disk."""
    rows = fresh(database, select(Signature))
    files = sorted(str(p) for p in settings.blobs_dir.rglob("*.pdf"))
    return rows, files


async def test_the_chair_the_secretary_then_the_seal_sign_the_count_minutes(
    people, database, settings, keys, new_client
):
    vote_id, secretary, chair = people["vote"], people["secretary"], people["chair"]
    early = await sign(chair, vote_id, "chair", CHAIR_PIN)
    assert early.status_code == 409 and early.json()["code"] == "not_closed"
    assert early.json()["message"].startswith("Chỉ ký được biên bản kiểm phiếu của cuộc lấy ý kiến")
    assert fresh(database, select(Signature)) == []

    closed(database, vote_id)
    view = (await chair.get(url(vote_id))).json()
    assert view["closed"] and view["order"] == ["chair", "secretary", "seal"]
    assert view["turn"] == "chair" and view["my_turn"] and view["needs_pin"] and view["has_key"]
    assert not (await secretary.get(url(vote_id))).json()["my_turn"]
    frozen = (await secretary.get(f"/written-votes/{vote_id}/record.pdf")).content
    before = kept(database, settings)
    out_of_turn = await sign(secretary, vote_id, "secretary", SECRETARY_PIN)
    assert out_of_turn.status_code == 409 and out_of_turn.json()["code"] == "out_of_order"
    assert out_of_turn.json()["message"] == "Chưa đến lượt: chủ tịch ký trước thư ký."
    seal_first = await sign(secretary, vote_id, "seal")
    assert seal_first.status_code == 409 and seal_first.json()["code"] == "out_of_order"
    not_theirs = await sign(secretary, vote_id, "chair", CHAIR_PIN)
    assert not_theirs.status_code == 403 and not_theirs.json()["code"] == "forbidden"
    a_delegate = await sign(people["delegate"], vote_id, "chair", CHAIR_PIN)
    assert a_delegate.status_code == 403
    wrong_pin = await sign(chair, vote_id, "chair", "000000")
    assert wrong_pin.status_code == 403 and wrong_pin.json()["code"] == "wrong_pin"
    assert wrong_pin.json()["message"] == "Sai mã PIN: văn bản chưa được ký."
    no_such_role = await sign(chair, vote_id, "witness", CHAIR_PIN)
    assert no_such_role.status_code == 400 and no_such_role.json()["code"] == "bad_role"
    assert kept(database, settings) == before  # nothing half-signed

    first = await sign(chair, vote_id, "chair", CHAIR_PIN)
    assert first.status_code == 201, first.text
    assert CHAIR in first.json()["subject"]
    twice = await sign(chair, vote_id, "chair", CHAIR_PIN)
    assert twice.status_code == 409 and twice.json()["code"] == "already_signed"
    assert twice.json()["message"] == "Chủ tịch đã ký biên bản này."
    chair_as_secretary = await sign(chair, vote_id, "secretary", CHAIR_PIN)
    assert chair_as_secretary.status_code == 403
    second = await sign(secretary, vote_id, "secretary", SECRETARY_PIN)
    assert second.status_code == 201, second.text
    third = await sign(secretary, vote_id, "seal")
    assert third.status_code == 201, third.text
    again = await sign(secretary, vote_id, "seal")
    assert again.status_code == 409 and again.json()["code"] == "already_signed"

    done = (await people["delegate"].get(url(vote_id))).json()
    assert [s["role"] for s in done["signatures"]] == ["chair", "secretary", "seal"]
    assert done["turn"] is None and not done["my_turn"]
    signed = await people["delegate"].get(url(vote_id, "/pdf"))
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/pdf"
    pdf = signed.content
    assert (await secretary.get(f"/written-votes/{vote_id}/record.pdf")).content == frozen
    database.expire_all()
    vote = database.get(WrittenVote, vote_id)
    assert hashlib.sha256(frozen).hexdigest() == vote.record_pdf_sha256
    assert pdf.startswith(frozen)  # incremental: the frozen bytes stay as they were
    statuses = await validate(pdf, keys.root)
    assert len(statuses) == 3
    for status in statuses:
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.docmdp_ok and status.bottom_line
        assert status.modification_level in (ModificationLevel.NONE, ModificationLevel.FORM_FILLING)

    # each block over its signer's printed name on the last page: the secretary at the left,
    # the chair at the right, the seal over the left edge of the chair's
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        last = doc[-1]
        widgets = {w.field_name: w.rect for w in last.widgets()}
        chair_name = max(last.search_for(CHAIR), key=lambda r: r.y0)
        secretary_name = max(last.search_for(SECRETARY), key=lambda r: r.y0)
        heading = max(last.search_for("CHỦ TỊCH"), key=lambda r: r.y1)
        width = last.rect.width
    assert set(widgets) == {"phonghop-chair", "phonghop-secretary", "phonghop-seal"}
    chair_box, secretary_box = widgets["phonghop-chair"], widgets["phonghop-secretary"]
    assert chair_box.y1 <= chair_name.y0 + 1 and chair_box.y0 >= heading.y1 - 20
    assert chair_box.x0 < (chair_name.x0 + chair_name.x1) / 2 < chair_box.x1
    assert secretary_box.y1 <= secretary_name.y0 + 1
    assert secretary_box.x0 < (secretary_name.x0 + secretary_name.x1) / 2 < secretary_box.x1
    assert secretary_box.x1 < width / 2 < chair_box.x0
    assert widgets["phonghop-seal"].intersects(chair_box)
    render_last_page(pdf, "written-vote-signed")

    # the QR code's page, for anyone: the written vote by its question and council
    anyone = await new_client()
    page = await anyone.get(done["signatures"][0]["verify"], headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "Biên bản kiểm phiếu lấy ý kiến" in page.text
    assert TITLE in page.text and COUNCIL in page.text and QUESTION in page.text
    assert CHAIR in page.text and SECRETARY in page.text and "Chủ tịch" in page.text
    assert "Tài liệu còn nguyên vẹn, 3 chữ ký hợp lệ." in page.text
    opened = await anyone.get(done["signatures"][2]["verify"] + "/pdf")
    assert opened.content == pdf


async def test_a_frozen_pdf_that_no_longer_matches_its_hash_is_not_signed(
    people, database, settings
):
    vote_id, secretary, chair = people["vote"], people["secretary"], people["chair"]
    closed(database, vote_id)
    frozen = (await secretary.get(f"/written-votes/{vote_id}/record.pdf")).content
    blob = BlobStore(settings.blobs_dir).path(hashlib.sha256(frozen).hexdigest())
    blob.write_bytes(frozen.replace(b"%%EOF", b"%%EOF\n% altered", 1))
    before = kept(database, settings)
    refused = await sign(chair, vote_id, "chair", CHAIR_PIN)
    assert refused.status_code == 409 and refused.json()["code"] == "frozen_altered"
    assert "không còn khớp" in refused.json()["message"]
    assert kept(database, settings) == before

    blob.write_bytes(frozen)  # as it was frozen: signed
    assert (await sign(chair, vote_id, "chair", CHAIR_PIN)).status_code == 201
    database.rollback()  # a fresh snapshot: the server wrote since the last read
    vote = database.get(WrittenVote, vote_id)
    vote.record = {**vote.record, "title": "Một nội dung khác"}  # the frozen content, edited
    database.add(vote)
    database.commit()
    before = kept(database, settings)
    edited = await sign(secretary, vote_id, "secretary", SECRETARY_PIN)
    assert edited.status_code == 409 and edited.json()["code"] == "frozen_altered"
    assert kept(database, settings) == before


async def test_the_written_vote_page_shows_the_signatures_and_the_sign_form(people, database):
    vote_id, secretary, chair = people["vote"], people["secretary"], people["chair"]
    page = await chair.get(f"/written-votes/{vote_id}")
    assert f'hx-get="/written-votes/{vote_id}/signing"' not in page.text  # not closed yet
    pending = await chair.get(f"/written-votes/{vote_id}/signing")
    assert "sign-form" not in pending.text
    assert "được ký sau khi cuộc lấy ý kiến kết thúc" in pending.text

    closed(database, vote_id)
    page = await chair.get(f"/written-votes/{vote_id}")
    assert f'hx-get="/written-votes/{vote_id}/signing"' in page.text
    box = await chair.get(f"/written-votes/{vote_id}/signing")
    assert "Chữ ký số trên biên bản kiểm phiếu" in box.text
    assert "Ký số với vai trò chủ tịch" in box.text and 'name="pin"' in box.text
    assert "sign-form" not in (await secretary.get(f"/written-votes/{vote_id}/signing")).text
    hx = {"HX-Request": "true"}
    wrong = await chair.post(
        f"/written-votes/{vote_id}/sign", data={"role": "chair", "pin": "000000"}, headers=hx
    )
    assert wrong.status_code == 403 and "Sai mã PIN: văn bản chưa được ký." in wrong.text
    made = await chair.post(
        f"/written-votes/{vote_id}/sign", data={"role": "chair", "pin": CHAIR_PIN}, headers=hx
    )
    assert made.status_code == 200, made.text
    assert f"Chủ tịch:</b> {CHAIR}" in made.text and "Người ký tiếp theo: thư ký." in made.text
    assert "sign-form" not in made.text
    box = await secretary.get(f"/written-votes/{vote_id}/signing")
    assert "Ký số với vai trò thư ký" in box.text
    assert "Tải biên bản kiểm phiếu đã ký (PDF)" in box.text


def test_a_signature_is_on_exactly_one_thing(people, database):
    """The database's own check (migration 0017), whatever the code above it does."""
    vote_id = people["vote"]
    for n, target in enumerate(({}, {"written_vote_id": vote_id, "document_id": 1})):
        database.add(Signature(role="chair", pdf_sha256="0" * 64, code=f"x{n}", **target))
        with pytest.raises(IntegrityError):
            database.commit()
        database.rollback()
    database.add(Signature(written_vote_id=vote_id, role="chair", pdf_sha256="0" * 64, code="y"))
    database.commit()
    database.add(Signature(written_vote_id=vote_id, role="chair", pdf_sha256="1" * 64, code="z"))
    with pytest.raises(IntegrityError):  # one signature per role
        database.commit()
    database.rollback()


# ---------------------------------------------------------------------------
# In Chromium: the count minutes signed from the written vote's page


signing_server = signing_keys.signing_server
SHOTS = Path("/tmp/wv_shots")


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1024, 768), (800, 1280)):
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#written-vote-signing").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1024, "height": 768})


def _form(page, path: str, fields: dict) -> str:  # type: ignore[no-untyped-def]
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(path, form=fields, headers={"X-CSRFToken": token})
    assert answer.ok, answer.text()
    return answer.headers.get("hx-redirect", "")


def _on_server(live_server, vote_id: int, change) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from server import db

    engine = db.make_sync_engine(f"sqlite:///{live_server.data_dir / 'phonghop.db'}")
    with Session(engine) as session:
        vote = session.get(WrittenVote, vote_id)
        change(session, vote)
        session.commit()
    engine.dispose()


@pytest.mark.browser
def test_the_chair_then_the_secretary_sign_the_count_minutes_on_its_page(
    browser, signing_server, tmp_path
):
    from playwright.sync_api import expect

    from tests.browser import settled, sign_in, tablet

    secretary = tablet(browser, signing_server).new_page()
    sign_in(secretary, "thuky")
    body_id = secretary.request.get("/api/meetings").json()
    body_id = (body_id if isinstance(body_id, list) else body_id["meetings"])[0]["body_id"]
    target = _form(secretary, "/written-votes", {"body_id": str(body_id), "title": TITLE})
    vote_id = int(target.rsplit("/", 1)[1])
    context = tablet(browser, signing_server)
    chair = context.new_page()
    sign_in(chair, "chutoa")
    _form(chair, f"/written-votes/{vote_id}/send", {"deadline": in_an_hour()})

    def answered_and_due(session, vote) -> None:  # type: ignore[no-untyped-def]
        from server.models import WrittenBallot

        for voter in vote.voters[:15]:
            session.add(WrittenBallot(vote_id=vote_id, voter_id=voter, choice="yes"))
        vote.deadline = datetime.now(UTC) - timedelta(seconds=1)
        session.add(vote)

    _on_server(signing_server, vote_id, answered_and_due)

    chair.goto(f"/written-votes/{vote_id}")
    box = chair.locator("#written-vote-signing")
    expect(box).to_contain_text("Người ký tiếp theo: chủ tịch.")
    pin = box.locator("input[name=pin]")
    expect(pin).to_be_visible()
    settled(chair)
    shoot(chair, "chair-turn")
    pin.fill("000000")
    box.get_by_role("button", name="Ký số với vai trò chủ tịch").click()
    expect(box.locator(".form-error")).to_have_text("Sai mã PIN: văn bản chưa được ký.")
    shoot(chair, "chair-wrong-pin")
    box.locator("input[name=pin]").fill(CHAIR_PIN)
    box.get_by_role("button", name="Ký số với vai trò chủ tịch").click()
    box = chair.locator("#written-vote-signing")
    expect(box.locator(".signature-list li[data-role=chair]")).to_contain_text(
        "Chủ tịch: Trần Văn Bình"
    )
    expect(box.locator("input[name=pin]")).to_have_count(0)
    shoot(chair, "chair-signed")

    secretary.goto(f"/written-votes/{vote_id}")
    mine = secretary.locator("#written-vote-signing")
    mine.locator("input[name=pin]").fill(SECRETARY_PIN)
    mine.get_by_role("button", name="Ký số với vai trò thư ký").click()
    mine = secretary.locator("#written-vote-signing")
    expect(mine).to_contain_text("Người ký tiếp theo: con dấu của cơ quan.")
    expect(mine.locator("input[name=pin]")).to_have_count(0)  # the seal needs no PIN
    mine.get_by_role("button", name="Ký số với vai trò con dấu của cơ quan").click()
    mine = secretary.locator("#written-vote-signing")
    expect(mine).to_contain_text("Đã ký đủ.")
    expect(mine.locator(".signature-list li")).to_have_count(3)
    shoot(secretary, "secretary-signed")
    with secretary.expect_download() as download:
        mine.get_by_role("link", name="Tải biên bản kiểm phiếu đã ký (PDF)").click()
    signed = Path(download.value.path()).read_bytes()
    assert signed.count(b"/ByteRange") == 3
    render_last_page(signed, "written-vote-browser-signed")

    check = mine.locator(".signature-list li[data-role=chair] a").get_attribute("href")
    visitor = tablet(browser, signing_server).new_page()
    visitor.goto(check)
    expect(visitor.locator("#signed-what")).to_contain_text("Biên bản kiểm phiếu lấy ý kiến")
    expect(visitor.locator("#signed-what")).to_contain_text(TITLE)
    expect(visitor.locator("#signed-by li[data-role=seal]")).to_be_visible()
    expect(visitor.locator("#signed-by li[data-role=chair]")).to_contain_text("Chủ tịch")
    for width, height in ((1024, 768), (800, 1280)):
        visitor.set_viewport_size({"width": width, "height": height})
        visitor.screenshot(path=str(SHOTS / f"verify-{width}.png"), full_page=True)
    context.close()
