"""A wrong upload is deleted before publishing; after, a document gets a new version, the book is
built again, marks follow the pages whose text did not change, and the history is kept."""

from __future__ import annotations

import asyncio
import uuid

import pymupdf
import pytest
from sqlmodel import select

from server.models import AgendaBook, Annotation, Document, DocumentPage, JournalEvent
from tests.test_documents import kept_files, papers, upload
from tests.test_publish import finished, publish


@pytest.fixture
async def meeting(client, accounts):
    """A meeting with one agenda item, the secretary signed in on `client`."""
    accounts.user("thuky", "secretary", accounts.body())
    await client.login("thuky")
    created = await client.post(
        "/api/meetings", json={"title": "Kỳ họp", "starts_at": "2026-12-15T08:00:00+07:00"}
    )
    mid = created.json()["id"]
    item = await client.post(f"/api/meetings/{mid}/items", json={"title": "Ngân sách"})
    return {"id": mid, "item": item.json()["id"]}


def changed_on_last_page(pdf: bytes) -> bytes:
    """The same paper with a sentence added on its last page only."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        doc[-1].insert_text((72, 60), "Sửa đổi theo ý kiến thẩm tra", fontname="helv")
        return doc.tobytes()


async def uploaded(client, meeting, paper=None) -> dict:
    paper = paper or papers()[0]
    response = await upload(client, meeting["item"], paper.pdf, title=paper.title)
    assert response.status_code == 201, response.text
    return response.json()


async def replace(client, document_id, data: bytes, version=1, name="to-trinh-v2.pdf"):
    return await client.post(
        f"/api/documents/{document_id}/versions",
        files={"file": (name, data, "application/pdf")},
        data={"version": str(version)},
    )


def fresh(database):
    database.rollback()
    database.expire_all()
    return database


# --- bad input first ----------------------------------------------------------------------


async def test_a_paper_in_the_published_book_cannot_be_deleted(client, meeting, database):
    document = await uploaded(client, meeting)
    assert (await publish(client, meeting["id"]))["state"] == "done"
    refused = await client.delete(f"/api/documents/{document['id']}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "published"
    assert fresh(database).get(Document, document["id"]) is not None


async def test_replacing_with_a_broken_file_changes_nothing(client, meeting, database, settings):
    document = await uploaded(client, meeting)
    await publish(client, meeting["id"])
    files_before = sorted(kept_files(settings))
    for hostile in (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>", b"MZ\x90\x00not a pdf"):
        refused = await replace(client, document["id"], hostile)
        assert refused.status_code == 422, refused.text
    db = fresh(database)
    assert db.get(Document, document["id"]).replaced_at is None
    assert len(db.exec(select(Document).where(Document.kind == "paper")).all()) == 1
    assert not db.exec(select(JournalEvent).where(JournalEvent.type == "document.replaced")).all()
    assert sorted(kept_files(settings)) == files_before


async def test_a_secretary_of_another_council_cannot_touch_the_document(
    client, meeting, accounts, new_client, database
):
    document = await uploaded(client, meeting)
    accounts.user("thukykhac", "secretary", accounts.body("HĐND xã Bên Cạnh"))
    other = await new_client()
    await other.login("thukykhac")
    assert (await replace(other, document["id"], papers()[1].pdf)).status_code in (403, 404)
    assert (await other.delete(f"/api/documents/{document['id']}")).status_code in (403, 404)
    db = fresh(database)
    assert db.get(Document, document["id"]).replaced_at is None
    assert len(db.exec(select(Document)).all()) == 1


async def test_a_delegate_cannot_delete_or_replace(client, meeting, accounts, new_client, database):
    document = await uploaded(client, meeting)
    accounts.join(accounts.user("daibieu01"), meeting["id"])
    delegate = await new_client()
    await delegate.login("daibieu01")
    assert (await delegate.delete(f"/api/documents/{document['id']}")).status_code == 403
    assert (await delegate.post(f"/documents/{document['id']}/delete")).status_code == 403
    assert (await replace(delegate, document["id"], papers()[1].pdf)).status_code == 403
    assert fresh(database).get(Document, document["id"]).replaced_at is None


async def test_two_secretaries_replacing_the_same_version_one_wins(
    client, meeting, accounts, new_client, database
):
    document = await uploaded(client, meeting)
    accounts.user("thuky2", "secretary", accounts.body())
    second = await new_client()
    await second.login("thuky2")
    answers = await asyncio.gather(
        replace(client, document["id"], papers()[1].pdf),
        replace(second, document["id"], papers()[2].pdf),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["code"] == "replaced_meanwhile"
    db = fresh(database)
    versions = db.exec(select(Document).where(Document.kind == "paper")).all()
    assert sorted(d.version for d in versions) == [1, 2]
    # the loser tries again with the version it saw: still a conflict, nothing changes
    assert (await replace(second, document["id"], papers()[2].pdf)).status_code == 409
    assert len(fresh(database).exec(select(Document)).all()) == 2


async def test_replacing_a_book_is_refused(client, meeting, database):
    await uploaded(client, meeting)
    await publish(client, meeting["id"])
    book = fresh(database).exec(select(AgendaBook)).one()
    assert (await replace(client, book.document_id, papers()[1].pdf)).status_code == 400


# --- what works ---------------------------------------------------------------------------


async def test_a_paper_not_yet_published_is_deleted_and_its_file_released(
    client, meeting, database, settings
):
    document = await uploaded(client, meeting)
    kept = await uploaded(client, meeting, papers()[1])
    blob = settings.blobs_dir / document["sha256"][:2] / f"{document['sha256']}.pdf"
    assert blob.exists()
    fragment = await client.post(
        f"/documents/{document['id']}/delete", headers={"HX-Request": "true"}
    )
    assert fragment.status_code in (200, 201), fragment.text
    assert document["title"] not in fragment.text and kept["title"] in fragment.text
    assert not blob.exists()
    db = fresh(database)
    assert db.get(Document, document["id"]) is None
    assert not db.exec(select(DocumentPage).where(DocumentPage.document_id == document["id"])).all()
    assert db.exec(select(JournalEvent).where(JournalEvent.type == "document.deleted")).one()


async def test_a_file_another_document_uses_is_kept_when_one_is_deleted(client, meeting, settings):
    first = await uploaded(client, meeting)
    twin = await uploaded(client, meeting)
    assert first["sha256"] == twin["sha256"]
    assert (await client.delete(f"/api/documents/{first['id']}")).status_code == 204
    blob = settings.blobs_dir / twin["sha256"][:2] / f"{twin['sha256']}.pdf"
    assert blob.exists()
    assert (await client.get(f"/api/documents/{twin['id']}/pages/1?w=320")).status_code == 200


async def test_a_new_version_rebuilds_the_book_and_marks_follow_unchanged_pages(
    client, meeting, database, accounts
):
    paper = papers()[0]
    document = await uploaded(client, meeting, paper)
    await publish(client, meeting["id"])
    db = fresh(database)
    first = db.exec(select(AgendaBook)).one()
    book_pages = db.exec(
        select(DocumentPage)
        .where(DocumentPage.document_id == first.document_id, DocumentPage.content_key != "")
        .order_by(DocumentPage.page)
    ).all()
    assert len(book_pages) >= 2
    owner = accounts.user("daibieu01")
    unchanged, changed = book_pages[0], book_pages[-1]
    marks = [
        Annotation(
            id=uuid.uuid4(),
            owner_id=owner.id,
            document_id=on.document_id,
            page=on.page,
            kind="note",
            data={"x": 0.5, "y": 0.5, "text": "ghi chú"},
            content_key=on.content_key,
        )
        for on in (unchanged, changed)
    ]
    db.add_all(marks)
    db.commit()

    answer = await replace(client, document["id"], changed_on_last_page(paper.pdf))
    assert answer.status_code == 201, answer.text
    new = answer.json()
    assert new["version"] == 2 and new["title"] == document["title"]
    assert (await finished(client, meeting["id"]))["state"] == "done"

    db = fresh(database)
    old = db.get(Document, document["id"])
    assert old.replaced_at is not None
    assert db.get(Document, new["id"]).previous_id == old.id
    second = db.exec(select(AgendaBook).where(AgendaBook.version == 2)).one()
    assert any(e.get("document_id") == new["id"] for e in second.page_map)
    moved, aside = (db.get(Annotation, m.id) for m in marks)
    assert moved.document_id == second.document_id and not moved.set_aside
    assert aside.set_aside and not aside.deleted
    replaced = db.exec(select(JournalEvent).where(JournalEvent.type == "document.replaced")).one()
    assert replaced.payload["replaced_by"] == new["id"]

    history = (await client.get(f"/api/documents/{new['id']}/versions")).json()
    assert [(v["version"], v["current"]) for v in history] == [(2, True), (1, False)]
    assert history[0]["uploaded_by"] == "Thuky" and history[0]["page_count"] == new["page_count"]
    info = (await client.get(f"/api/documents/{first.document_id}")).json()
    assert info["page_keys"][unchanged.page - 1] == unchanged.content_key
    agenda = (await client.get(f"/api/meetings/{meeting['id']}")).json()
    listed = [d["id"] for item in agenda["items"] for d in item["documents"]]
    assert listed == [new["id"]]  # the old version is history, not on the agenda


async def test_marks_on_the_paper_itself_follow_its_new_version(
    client, meeting, database, accounts
):
    paper = papers()[0]
    document = await uploaded(client, meeting, paper)
    db = fresh(database)
    pages = db.exec(
        select(DocumentPage)
        .where(DocumentPage.document_id == document["id"])
        .order_by(DocumentPage.page)
    ).all()
    owner = accounts.user("daibieu01")
    marks = [
        Annotation(
            id=uuid.uuid4(),
            owner_id=owner.id,
            document_id=document["id"],
            page=p.page,
            kind="note",
            data={"x": 0.5, "y": 0.5, "text": "x"},
            content_key=p.content_key,
        )
        for p in (pages[0], pages[-1])
    ]
    db.add_all(marks)
    db.commit()
    new = (await replace(client, document["id"], changed_on_last_page(paper.pdf))).json()
    db = fresh(database)
    moved, aside = (db.get(Annotation, m.id) for m in marks)
    assert (moved.document_id, moved.page, moved.set_aside) == (new["id"], 1, False)
    assert aside.set_aside and aside.document_id == document["id"]


async def test_deleting_a_replaced_paper_before_publishing_takes_its_older_versions(
    client, meeting, database, settings
):
    first = await uploaded(client, meeting)
    second = (await replace(client, first["id"], papers()[1].pdf)).json()
    assert second["version"] == 2
    assert (await client.delete(f"/api/documents/{second['id']}")).status_code == 204
    db = fresh(database)
    assert db.exec(select(Document)).all() == []
    assert kept_files(settings) == [] or all("blobs" not in str(p) for p in kept_files(settings))
