"""Signing a frozen version in the order its form asks, keeping each signed PDF, and the
page the QR code of a signature opens.

Order: the minutes are signed by the chair (chủ tọa), then the secretary (thư ký), then the
council's seal when the server holds one; the conclusion notice by the chair, then the seal;
an adopted resolution (a document of kind "resolution" on an item a closed vote passed) by
the chair (TM. Hội đồng nhân dân / Chủ tịch), then the seal; a written vote's count minutes
(server/signing/written_votes.py) by the council's chair who sent it, the secretary, the seal.
Each signature adds an incremental update to the PDF the one before left, so nothing signed
earlier changes: every signed copy starts with the frozen PDF's bytes, checked against the
hash kept at freezing. A signature is kept (its row, its PDF as a blob) only once the new PDF
holds every earlier signature intact; a refusal at any step keeps nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypedDict

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server import openapi
from server.access import meeting_permission
from server.blobs import BlobStore
from server.documents.rules import reads_confidential
from server.errors import AppError, forbidden, not_found
from server.house import House, house_of
from server.i18n import N_, language_of, translate, translations
from server.models import (
    Body,
    Document,
    Meeting,
    MeetingRole,
    Participant,
    RecordVersion,
    Signature,
    User,
    Vote,
    WrittenVote,
)
from server.settings import Settings
from server.signing import keys
from server.signing.sign import (
    Block,
    Place,
    PlacementError,
    bottom_right_place,
    find_place,
    seal_place,
    sign_pdf,
    signatures_of,
    signed_place,
)

log = logging.getLogger("phonghop")

PRESIDE = {"permission": "preside"}
VIEW = {"permission": "view"}
ORDER = {
    "minutes": ("chair", "secretary", "seal"),
    "notice": ("chair", "seal"),
    "resolution": ("chair", "seal"),
    "written_vote": ("chair", "secretary", "seal"),
}
ROLE_NAMES = {
    "chair": N_("the chair"),
    "secretary": N_("the secretary"),
    "seal": N_("the council's seal"),
}
# between sessions there is no chủ tọa: the council's chair who sent the written vote signs
COUNCIL_ROLE_NAMES = {**ROLE_NAMES, "chair": N_("the council's chair")}
HEADINGS = {"chair": "CHỦ TỌA", "secretary": "THƯ KÝ", "seal": "CON DẤU"}
FILENAMES = {
    "minutes": "bien-ban-ky-hop",
    "notice": "thong-bao-ket-luan",
    "resolution": "nghi-quyet",
    "written_vote": "bien-ban-kiem-phieu",
}
TARGETS = ("record_version_id", "document_id", "written_vote_id")  # Signature's, one each
# Decree 30: a council's resolution is signed "TM. HỘI ĐỒNG NHÂN DÂN / CHỦ TỊCH"
RESOLUTION_HEADING = "CHỦ TỊCH"
RESOLUTION_OFFICE = "TM. Hội đồng nhân dân - Chủ tịch"
Anchor = tuple[str, str, str]  # the name and heading the form prints, and the signer's office


class SignRequest(msgspec.Struct, forbid_unknown_fields=True):
    role: str
    pin: str = ""  # typed by the signer for this signature; never stored nor logged

    def __repr__(self) -> str:  # the PIN stays out of any log line or traceback
        return f"SignRequest(role={self.role!r}, pin=***)"


def order(kind: str, settings: Settings) -> tuple[str, ...]:
    roles = ORDER[kind]
    return roles if keys.has_seal(settings) else tuple(r for r in roles if r != "seal")


def _role_name(request: Request, role: str, names: dict[str, str] = ROLE_NAMES) -> str:
    return translate(request, names[role])


async def _version(db: AsyncSession, meeting_id: int, kind: str, version: str) -> RecordVersion:
    if kind not in ("minutes", "notice"):  # the record versions of a meeting
        raise not_found("document")
    if not version.isdigit():
        raise AppError(
            409, "not_frozen", "Only a frozen version can be signed: freeze the document first."
        )
    row = (
        await db.exec(
            select(RecordVersion).where(
                RecordVersion.meeting_id == meeting_id,
                RecordVersion.kind == kind,
                RecordVersion.version == int(version),
            )
        )
    ).first()
    if row is None:
        raise not_found("version")
    return row


def target_of(sig: Signature) -> dict[str, int]:
    """What `sig` is on, as its one column: {"record_version_id": 3}."""
    return {column: getattr(sig, column) for column in TARGETS if getattr(sig, column) is not None}


async def _signatures(db: AsyncSession, **target: int | None) -> list[tuple[Signature, str]]:
    """The signatures on one target, in order: `record_version_id=`, `document_id=` or
    `written_vote_id=`."""
    ((column, target_id),) = target.items()
    rows = await db.exec(
        select(Signature, User.full_name)
        .outerjoin(User, col(User.id) == Signature.signer_id)
        .where(getattr(Signature, column) == target_id)
        .order_by(col(Signature.id))
    )
    return [(sig, name or "") for sig, name in rows.all()]


async def _chair_id(db: AsyncSession, meeting_id: int) -> int | None:
    return (
        await db.exec(
            select(Participant.user_id)
            .where(Participant.meeting_id == meeting_id, Participant.role == MeetingRole.chair)
            .order_by(col(Participant.id))
            .limit(1)
        )
    ).first()


def _may_sign(request: Request, role: str, chair_id: int | None) -> bool:
    """The chair signs as chair; the meeting's secretary (or whoever runs the body's
    meetings) as secretary; the body's own accounts apply the seal."""
    access = request.state.access
    if role == "chair":
        return request.user.id == chair_id
    if role == "secretary":
        return request.user.id != chair_id and MeetingRole.secretary in access.roles()
    return bool(access.runs_body)


def _anchor(row: RecordVersion, role: str) -> Anchor:
    """The name and heading the form prints for `role`, and the signer's office."""
    content = row.content
    if row.kind == "notice":
        titles = list(content.get("signer_titles") or ["CHỦ TỌA"])
        return content.get("signer", ""), titles[-1], " ".join(titles[1:]) or titles[-1]
    if role == "secretary":
        return content.get("secretary", ""), "THƯ KÝ", content.get("secretary_title", "")
    return content.get("chair", ""), "CHỦ TỌA", content.get("chair_title", "")


class SignatureOut(TypedDict):
    role: str
    signer: str
    subject: str
    signed_at: str
    signed_at_local: str
    timestamped: bool
    pdf_sha256: str
    verify: str


class SigningLinks(TypedDict):
    sign: str
    pdf: str


class Turns(TypedDict):
    """The signatures so far, whose turn it is and what the caller needs to sign now."""

    order: list[str]
    signatures: list[SignatureOut]
    turn: str | None
    turn_name: str
    my_turn: bool
    needs_pin: bool
    has_key: bool
    links: SigningLinks


class PaperSignatures(Turns):
    """Of a version of the minutes or the notice of conclusions."""

    kind: str
    version: int


class ResolutionSignatures(Turns):
    kind: str
    document_id: int | None
    version: int
    adopted: bool


def signature_json(sig: Signature, signer: str, tz: Any) -> SignatureOut:
    return {
        "role": sig.role,
        "signer": signer,
        "subject": sig.subject,
        "signed_at": sig.signed_at.isoformat(),
        "signed_at_local": sig.signed_at.astimezone(tz).strftime("%H:%M %d/%m/%Y"),
        "timestamped": sig.timestamped,
        "pdf_sha256": sig.pdf_sha256,
        "verify": f"/verify/{sig.code}",
    }


@dataclass
class Signed:
    pdf: bytes
    subject: str
    timestamped: bool


def _sign_now(
    settings: Settings,
    source: bytes,
    anchors: dict[str, Anchor],
    role: str,
    user: User,
    pin: str,
    url: str,
    now: datetime,
    fallback: bool = False,
) -> Signed:
    """In a worker thread: opens the key, checks its certificate, signs, and checks that
    every signature of the new PDF is intact. `anchors` holds the form's name, heading and
    office for `role` and for the chair; with `fallback`, a document whose last pages print
    neither gets the chair's block at the bottom right of its last page."""
    name, heading, office = anchors[role]
    chair_name, chair_heading, _ = anchors["chair"]
    try:
        if fallback and role == "seal":  # over the chair's block, wherever it went
            place: Place = seal_place(signed_place(source, "phonghop-chair"))
        elif fallback:
            try:
                place = find_place(source, name, heading)
            except PlacementError:
                place = bottom_right_place(source)
        else:
            place = find_place(source, chair_name if role == "seal" else name, heading)
            if role == "seal":
                place = seal_place(find_place(source, chair_name, chair_heading))
    except Exception as exc:  # noqa: BLE001
        raise AppError(
            409, "no_signature_place", "The document has no place for this signature."
        ) from exc
    local = now.astimezone(settings.tz)
    signer_ctx: AbstractContextManager[Any]
    if role == "seal":
        signer_ctx = _seal(settings)
    else:
        token = keys.token_of(settings, user.username)
        if token is None:
            raise AppError(
                409,
                "no_key",
                "No signing key is set up for your account: ask the administrator.",
            )
        signer_ctx = keys.token_signer(settings, token, pin)
    with signer_ctx as signer:
        cert = keys.check_certificate(settings, signer.signing_cert, now)
        organization = next(
            (a.value for a in cert.subject if a.oid.dotted_string == "2.5.4.10"), ""
        )
        block = Block(
            heading=HEADINGS[role],
            title=office if role != "seal" else "",
            name=str(organization) if role == "seal" else (user.full_name or name),
            signed_at=local,
            url=url,
            seal_image=settings.seal_image if role == "seal" else "",
        )
        try:
            pdf = sign_pdf(source, signer, f"phonghop-{role}", place, block, settings.tsa_url)
        except AppError:
            raise
        except Exception as exc:  # noqa: BLE001 (a token, a timestamp server, pyHanko)
            log.warning("signing as %s failed", role, exc_info=exc)
            raise AppError(
                502, "signing_failed", "The signature could not be made: nothing was signed."
            ) from exc
    found = signatures_of(pdf)
    if not found or not all(s["intact"] and s["valid"] and s["docmdp_ok"] for s in found):
        raise AppError(
            500, "signing_failed", "The signature could not be made: nothing was signed."
        )
    return Signed(pdf, cert.subject.rfc4514_string(), bool(settings.tsa_url))


class _seal:
    """The seal's signer as a context, like a token's."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __enter__(self) -> Any:
        return keys.seal_signer(self.settings)

    def __exit__(self, *exc: object) -> None:
        return None


ALREADY_SIGNED = {
    "version": "{role} has already signed this version.",
    "resolution": "{role} has already signed this resolution.",
    "written_vote": "{role} has already signed these minutes.",
}


def _check_turn(
    request: Request,
    roles: tuple[str, ...],
    done: list[tuple[Signature, str]],
    role: str,
    may_sign: Callable[[str], bool],
    what: str = "version",
    names: dict[str, str] = ROLE_NAMES,
) -> None:
    """Refuses a role the document has not, a second signature in a role, one out of order,
    and one by someone `may_sign` does not let sign in that role."""
    if role not in roles:
        raise AppError(400, "bad_role", "This document is not signed in that role.")
    signed = [sig.role for sig, _ in done]
    if role in signed:
        role_name = _role_name(request, role, names).capitalize()
        raise AppError(409, "already_signed", ALREADY_SIGNED[what], role=role_name)
    turn = next(r for r in roles if r not in signed)
    if role != turn:
        raise AppError(
            409,
            "out_of_order",
            "Not yet: {turn} signs before {role}.",
            turn=_role_name(request, turn, names),
            role=_role_name(request, role, names),
        )
    if not may_sign(role):
        raise forbidden()


async def _keep(
    state: House, sig: Signature, done: list[tuple[Signature, str]], new_blob: bool
) -> None:
    """Keeps the signature unless someone signed the same thing while it was being made."""
    blob = BlobStore(state.settings.blobs_dir).path(sig.pdf_sha256)
    async with state.db() as db:
        latest = await _signatures(db, **target_of(sig))
        if len(latest) != len(done):  # someone signed while this one was being made
            if new_blob:
                blob.unlink(missing_ok=True)
            raise AppError(409, "busy", "Someone else signed meanwhile; reload and try again.")
        db.add(sig)
        try:
            await db.commit()
        except IntegrityError as exc:
            if new_blob:
                blob.unlink(missing_ok=True)
            raise AppError(
                409, "busy", "Someone else signed meanwhile; reload and try again."
            ) from exc


async def _sign_and_keep(
    request: Request,
    state: House,
    data: SignRequest,
    done: list[tuple[Signature, str]],
    unsigned: str,
    anchors: dict[str, Anchor],
    fallback: bool = False,
    **target: Any,
) -> tuple[Signature, str]:
    """Signs the newest signed copy (or the `unsigned` blob, the frozen PDF) in a worker and
    keeps it; `target` names what is signed (record_version_id, document_id or
    written_vote_id)."""
    blobs = BlobStore(state.settings.blobs_dir)
    source = await asyncio.to_thread(_source, blobs, unsigned, done)
    code = secrets.token_urlsafe(18)
    url = f"{str(request.base_url).rstrip('/')}/verify/{code}"
    now = datetime.now(UTC)
    settings, user = state.settings, request.user
    made = await asyncio.to_thread(
        _sign_now, settings, source, anchors, data.role, user, data.pin, url, now, fallback
    )
    new_blob = not blobs.path(hashlib.sha256(made.pdf).hexdigest()).exists()
    sig = Signature(
        **target,
        role=data.role,
        signer_id=user.id,
        subject=made.subject[:500],
        signed_at=now,
        pdf_sha256=blobs.put(made.pdf),
        code=code,
        timestamped=made.timestamped,
    )
    await _keep(state, sig, done, new_blob)
    return sig, user.full_name


def _source(blobs: BlobStore, unsigned: str, done: list[tuple[Signature, str]]) -> bytes:
    """The PDF the next signature goes on: the frozen PDF, or the newest signed copy, which
    must start with the frozen PDF's bytes; either must match the hash it was kept under."""
    altered = AppError(
        409,
        "frozen_altered",
        "The frozen PDF no longer matches the fingerprint kept when it was frozen: "
        "nothing was signed.",
    )
    try:
        frozen = blobs.get(unsigned)
        source = blobs.get(done[-1][0].pdf_sha256) if done else frozen
    except (OSError, ValueError) as exc:
        raise altered from exc
    expected = done[-1][0].pdf_sha256 if done else unsigned
    if hashlib.sha256(frozen).hexdigest() != unsigned or not source.startswith(frozen):
        raise altered
    if hashlib.sha256(source).hexdigest() != expected:
        raise altered
    return source


async def sign_version(
    request: Request, state: House, meeting_id: int, kind: str, version: str, data: SignRequest
) -> tuple[Signature, str]:
    async with state.db_read() as db:
        row = await _version(db, meeting_id, kind, version)
        newest = (
            await db.exec(
                select(RecordVersion.version)
                .where(RecordVersion.meeting_id == meeting_id, RecordVersion.kind == kind)
                .order_by(col(RecordVersion.version).desc())
                .limit(1)
            )
        ).first()
        done = await _signatures(db, record_version_id=row.id)
        chair_id = await _chair_id(db, meeting_id)
    roles = order(kind, state.settings)
    if data.role in roles and newest != row.version:
        raise AppError(
            409, "superseded", "Version {newest} replaces this one: sign that.", newest=newest
        )
    _check_turn(request, roles, done, data.role, partial(_may_sign, request, chair_id=chair_id))
    anchors = {r: _anchor(row, r) for r in roles}
    return await _sign_and_keep(
        request, state, data, done, row.pdf_sha256, anchors, record_version_id=row.id
    )


def _next_turn(roles: tuple[str, ...], done: list[tuple[Signature, str]]) -> str | None:
    signed = {sig.role for sig, _ in done}
    return next((r for r in roles if r not in signed), None)


def _turns(
    request: Request,
    state: House,
    roles: tuple[str, ...],
    done: list[tuple[Signature, str]],
    turn: str | None,
    mine: bool,
    base: str,
    names: dict[str, str] = ROLE_NAMES,
) -> Turns:
    """The signatures so far, whose turn it is and what the caller needs to sign now."""
    return {
        "order": list(roles),
        "signatures": [signature_json(s, n, state.settings.tz) for s, n in done],
        "turn": turn,
        "turn_name": _role_name(request, turn, names) if turn else "",
        "my_turn": mine,
        "needs_pin": bool(mine and turn != "seal"),
        "has_key": bool(
            mine and (turn == "seal" or keys.token_of(state.settings, request.user.username))
        ),
        "links": {"sign": base, "pdf": f"{base}/pdf" if done else ""},
    }


async def signatures_view(
    request: Request, db: AsyncSession, state: House, meeting_id: int, kind: str, version: str
) -> PaperSignatures:
    row = await _version(db, meeting_id, kind, version)
    done = await _signatures(db, record_version_id=row.id)
    roles = order(kind, state.settings)
    turn = _next_turn(roles, done)
    base = f"/api/meetings/{meeting_id}/signatures/{kind}/{row.version}"
    mine = turn is not None and _may_sign(request, turn, await _chair_id(db, meeting_id))
    return {
        "kind": kind,
        "version": row.version,
        **_turns(request, state, roles, done, turn, mine, base),
    }


# ---------------------------------------------------------------------------
# Adopted resolutions: a document of kind "resolution" on an item a closed vote passed


async def _resolution(db: AsyncSession, document_id: int) -> Document:
    document = await db.get(Document, document_id)
    if document is None:
        raise not_found("document")
    if document.kind != "resolution":
        raise AppError(
            409,
            "not_a_resolution",
            "Only a resolution is signed here: upload its final text as a resolution.",
        )
    return document


async def adopted(db: AsyncSession, item_id: int | None) -> bool:
    """Whether a closed vote on the item passed it."""
    if item_id is None:
        return False
    results = await db.exec(
        select(Vote.result).where(Vote.item_id == item_id, Vote.status == "closed")
    )
    return any(bool(result and result.get("passed")) for result in results.all())


async def _chair_anchor(db: AsyncSession, chair_id: int | None) -> Anchor:
    chair = await db.get(User, chair_id) if chair_id is not None else None
    return (chair.full_name if chair else "", RESOLUTION_HEADING, RESOLUTION_OFFICE)


async def sign_resolution(
    request: Request, state: House, document_id: int, data: SignRequest
) -> tuple[Signature, str]:
    async with state.db_read() as db:
        document = await _resolution(db, document_id)
        passed = await adopted(db, document.item_id)
        done = await _signatures(db, document_id=document.id)
        chair_id = await _chair_id(db, document.meeting_id)
        chair = await _chair_anchor(db, chair_id)
    if not passed:
        raise AppError(
            409,
            "not_adopted",
            "The council has not adopted this item: a resolution is signed only after a vote "
            "on its item passed.",
        )
    if document.replaced_at is not None:
        raise AppError(409, "superseded", "A newer version replaces this document: sign that.")
    roles = order("resolution", state.settings)
    may_sign = partial(_may_sign, request, chair_id=chair_id)
    _check_turn(request, roles, done, data.role, may_sign, "resolution")
    anchors = {"chair": chair, "seal": chair}
    return await _sign_and_keep(
        request, state, data, done, document.sha256, anchors, document_id=document.id, fallback=True
    )


async def resolution_view(
    request: Request, db: AsyncSession, state: House, document: Document
) -> ResolutionSignatures:
    """A resolution's signatures, whose turn it is and whether it is the caller's."""
    done = await _signatures(db, document_id=document.id)
    roles = order("resolution", state.settings)
    turn = _next_turn(roles, done)
    passed = await adopted(db, document.item_id)
    mine = bool(
        passed
        and turn is not None
        and request.state.access.can("preside")
        and _may_sign(request, turn, await _chair_id(db, document.meeting_id))
    )
    base = f"/api/documents/{document.id}/signatures"
    return {
        "kind": "resolution",
        "document_id": document.id,
        "version": document.version,
        "adopted": passed,
        **_turns(request, state, roles, done, turn, mine, base),
    }


async def resolution_signatures(
    db: AsyncSession, state: House, document_id: int, tz: Any
) -> list[SignatureOut]:
    """For a page: a resolution's signatures, oldest first."""
    return [signature_json(s, n, tz) for s, n in await _signatures(db, document_id=document_id)]


# ---------------------------------------------------------------------------
# Routes


@get(
    "/api/meetings/{meeting_id:int}/signatures/{kind:str}/{version:str}",
    guards=[meeting_permission],
    opt=PRESIDE,
)
async def get_signatures(
    request: Request,
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    kind: FromPath[str],
    version: FromPath[str],
) -> PaperSignatures:
    """A frozen version's signatures, whose turn it is, and whether it is the caller's."""
    return await signatures_view(request, db, state, meeting_id, kind, version)


@post(
    "/api/meetings/{meeting_id:int}/signatures/{kind:str}/{version:str}",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_201_CREATED,
)
async def add_signature(
    request: Request,
    state: House,
    meeting_id: FromPath[int],
    kind: FromPath[str],
    version: FromPath[str],
    data: JSONBody[SignRequest],
) -> SignatureOut:
    """Ký số: `{role, pin}`; the PIN only for a key on a token."""
    sig, name = await sign_version(request, state, meeting_id, kind, version, data)
    return signature_json(sig, name, state.settings.tz)


@get(
    "/api/meetings/{meeting_id:int}/signatures/{kind:str}/{version:str}/pdf",
    guards=[meeting_permission],
    opt=PRESIDE,
    responses=openapi.PDF,
)
async def signed_pdf(
    db: NamedDependency[AsyncSession],
    state: House,
    meeting_id: FromPath[int],
    kind: FromPath[str],
    version: FromPath[str],
) -> Response[bytes]:
    """The newest signed PDF of the version (the one with every signature so far)."""
    row = await _version(db, meeting_id, kind, version)
    done = await _signatures(db, record_version_id=row.id)
    if not done:
        raise not_found("signed PDF")
    return _pdf(
        state, done[-1][0].pdf_sha256, f"{FILENAMES[kind]}-{meeting_id}-v{row.version}-da-ky.pdf"
    )


@get("/api/documents/{document_id:int}/signatures", guards=[meeting_permission], opt=VIEW)
async def get_resolution_signatures(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> ResolutionSignatures:
    """An adopted resolution's signatures, whose turn it is, and whether it is the caller's."""
    document = await _resolution(db, document_id)
    if document.confidential and not _reads_confidential(request):
        raise not_found("document")
    return await resolution_view(request, db, state, document)


@post(
    "/api/documents/{document_id:int}/signatures",
    guards=[meeting_permission],
    opt=PRESIDE,
    status_code=HTTP_201_CREATED,
)
async def add_resolution_signature(
    request: Request, state: House, document_id: FromPath[int], data: JSONBody[SignRequest]
) -> SignatureOut:
    """Ký số nghị quyết: `{role, pin}`; the chair first, then the council's seal."""
    sig, name = await sign_resolution(request, state, document_id, data)
    return signature_json(sig, name, state.settings.tz)


@get(
    "/api/documents/{document_id:int}/signatures/pdf",
    guards=[meeting_permission],
    opt=VIEW,
    responses=openapi.PDF,
)
async def signed_resolution_pdf(
    request: Request, db: NamedDependency[AsyncSession], state: House, document_id: FromPath[int]
) -> Response[bytes]:
    """The resolution with every signature so far."""
    document = await _resolution(db, document_id)
    if document.confidential and not _reads_confidential(request):
        raise not_found("document")
    done = await _signatures(db, document_id=document.id)
    if not done:
        raise not_found("signed PDF")
    name = f"{FILENAMES['resolution']}-{document.meeting_id}-{document.id}-da-ky.pdf"
    return _pdf(state, done[-1][0].pdf_sha256, name)


def _reads_confidential(request: Request) -> bool:
    return reads_confidential(request.state.access)


def _pdf(state: House, sha256: str, filename: str, inline: bool = False) -> Response[bytes]:
    how = "inline" if inline else "attachment"
    return Response(
        BlobStore(state.settings.blobs_dir).get(sha256),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{how}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@dataclass
class Found:
    """What a QR code's signature is on: a record version, a resolution or a written vote's
    count minutes, as the page names it."""

    kind: str  # minutes | notice | resolution | written_vote
    version: int
    where: str  # the meeting's title, or the council's name for a written vote
    filename: str
    target: dict[str, int]  # the signatures' column, as `target_of`
    title: str = ""  # the resolution's title, or what the written vote asked
    question: str = ""  # the written vote's question


async def _by_code(db: AsyncSession, code: str) -> tuple[Signature, Found]:
    sig = (await db.exec(select(Signature).where(Signature.code == code[:64]))).first()
    if sig is None:
        raise not_found("signed document")
    target = target_of(sig)
    if sig.written_vote_id is not None:
        vote = await db.get_one(WrittenVote, sig.written_vote_id)
        body = await db.get_one(Body, vote.body_id)
        filename = f"{FILENAMES['written_vote']}-{vote.id}-da-ky.pdf"
        return sig, Found("written_vote", 1, body.name, filename, target, vote.title, vote.question)
    if sig.document_id is not None:
        document = await db.get_one(Document, sig.document_id)
        meeting = await db.get_one(Meeting, document.meeting_id)
        filename = f"{FILENAMES['resolution']}-{meeting.id}-{document.id}-da-ky.pdf"
        found = Found("resolution", document.version, meeting.title, filename, target)
        found.title = document.title
        return sig, found
    row = await db.get_one(RecordVersion, sig.record_version_id)
    meeting = await db.get_one(Meeting, row.meeting_id)
    filename = f"{FILENAMES[row.kind]}-{meeting.id}-v{row.version}-da-ky.pdf"
    return sig, Found(row.kind, row.version, meeting.title, filename, target)


@get("/verify/{code:str}")
async def verify_code(
    request: Request, db: NamedDependency[AsyncSession], code: FromPath[str]
) -> Template:
    """Where a signature's QR code leads, for anyone: the document, who signed it when (from
    phonghop's records), the signed PDF, and the verification of that PDF's bytes."""
    state = house_of(request)
    sig, found = await _by_code(db, code)
    done = await _signatures(db, **found.target)
    newest = done[-1][0]
    report = None
    try:
        from server import verification
    except ImportError:  # pragma: no cover
        verification = None  # type: ignore[assignment]
    check = getattr(verification, "check_pdf", None)
    if check is not None:
        pdf = BlobStore(state.settings.blobs_dir).get(newest.pdf_sha256)
        report = await asyncio.to_thread(check, pdf, state.settings)
    extra: dict[str, Any] = {}
    if verification is not None:
        extra = {
            "problems": getattr(verification, "PROBLEMS", {}),
            "changes": getattr(verification, "CHANGES", {}),
        }
        explain = getattr(verification, "problem_text", None)
        if explain is not None:  # with this request's catalog: Jinja's `_` needs its context
            gettext = translations(language_of(request)).gettext
            extra["problem_text"] = lambda check, _gettext: explain(check, gettext)
    return Template(
        "signed.html",
        context={
            "where": found.where,
            "kind": found.kind,
            "version": found.version,
            "title": found.title,
            "question": found.question,
            "code": code,
            "scanned": sig.role,
            "role_names": COUNCIL_ROLE_NAMES if found.kind == "written_vote" else ROLE_NAMES,
            "signatures": [signature_json(s, n, state.settings.tz) for s, n in done],
            "report": report,
            "tz": state.settings.tz,
            "max_upload_mb": state.settings.max_upload_mb,
            **extra,
        },
    )


@get("/verify/{code:str}/pdf")
async def verify_code_pdf(
    request: Request, db: NamedDependency[AsyncSession], code: FromPath[str]
) -> Response[bytes]:
    """The signed PDF with every signature so far, for anyone holding the QR code."""
    sig, found = await _by_code(db, code)
    done = await _signatures(db, **found.target)
    return _pdf(house_of(request), done[-1][0].pdf_sha256, found.filename, inline=True)


ROUTES = [
    get_signatures,
    add_signature,
    signed_pdf,
    get_resolution_signatures,
    add_resolution_signature,
    signed_resolution_pdf,
    verify_code,
    verify_code_pdf,
]
