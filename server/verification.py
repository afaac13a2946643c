"""Verification for everyone: who signed a PDF, when, whether each certificate chains to the
configured trusted roots (PHONGHOP_TRUSTED_ROOTS) and is not revoked by the configured CRLs
(PHONGHOP_CRLS), whether the signed bytes are intact, and whether the document changed after
each signature. `check_pdf` is plain and synchronous (pyHanko parses and validates); routes run
it through `check_pdf_in_thread`, never on the event loop.

Certificates are checked at the time of checking, as a PDF reader does by default; one that has
expired since is accepted when it was valid at the signing time (the timestamp's time when the
signature carries a trusted timestamp, else the time the signer claims), and the card says so.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import pem  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from server.errors import AppError, form_of
from server.house import house_of
from server.i18n import N_, language_of, translations
from server.settings import Settings

log = logging.getLogger("phonghop.verification")

MAX_AT_ONCE = 2  # uploads checked at the same time; more wait their turn
_turns: dict[int, asyncio.Semaphore] = {}  # one per event loop

# Why a certificate is not trusted, as shown on the card (msgids; translated when shown).
PROBLEMS = {
    "no_roots": N_("No trusted root certificates are configured on this server."),
    "untrusted": N_("The certificate does not chain to a trusted root."),
    "expired": N_("The certificate had expired when the document was signed."),
    "not_yet_valid": N_("The certificate was not yet valid when the document was signed."),
    "revoked": N_("The certificate was revoked on {date}."),
    "revocation_unknown": N_("Whether the certificate was revoked could not be checked."),
    "usage": N_("The certificate may not be used to sign documents."),
    "bad_signature": N_("The signature itself is not valid."),
    "unreadable": N_("The signature could not be read."),
    "other": N_("The certificate could not be validated."),
}
# What happened to the document after a signature.
CHANGES = {
    "none": N_("Nothing changed after this signature."),
    "signatures": N_("Only later signatures were added."),
    "form": N_("Form fields were filled in after this signature."),
    "annotations": N_("Comments or annotations were added after this signature."),
    "content": N_("The content was changed after this signature."),
}
FINE_CHANGES = ("none", "signatures")


@dataclass
class SignatureCheck:
    """One signature, in signing order (`number` counts from 1)."""

    number: int
    field: str = ""
    signer: str = ""  # the certificate subject's common name
    title: str = ""
    organization: str = ""
    issuer: str = ""
    signed_at: datetime | None = None  # the time the signer claims
    timestamp_at: datetime | None = None  # the time of an RFC 3161 timestamp token, if any
    timestamp_trusted: bool = False
    intact: bool = False  # the signed bytes are as signed and the signature is valid
    trusted: bool = False  # chains to a trusted root, valid when signed, not revoked
    problem: str = ""  # a key of PROBLEMS when not trusted (or not intact)
    revoked_at: datetime | None = None
    expired_since: bool = False  # valid when signed, expired by now
    changed_after: str = "content"  # a key of CHANGES

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.changed_after in FINE_CHANGES

    @property
    def changed(self) -> bool:
        return self.changed_after not in FINE_CHANGES


@dataclass
class Report:
    """What phonghop says about one PDF. `problem`: "" or not_pdf, too_large, empty,
    no_signatures (the file as a whole could not be checked, or has nothing to check)."""

    problem: str = ""
    signatures: list[SignatureCheck] = field(default_factory=list)
    size: int = 0
    revisions: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem and all(s.ok for s in self.signatures)

    def verdict(self, language: str = "vi", max_upload_mb: int = 50) -> str:
        """The one line a person reads first."""
        gettext = translations(language).gettext
        ngettext = translations(language).ngettext
        if self.problem == "not_pdf":
            return gettext("This file is not a PDF document, or it is damaged.")
        if self.problem == "too_large":
            return gettext("The file is larger than {mb} MB.").format(mb=max_upload_mb)
        if self.problem == "empty":
            return gettext("The file is empty.")
        if self.problem == "no_signatures":
            return gettext("This PDF has no digital signatures.")
        broken = next((s for s in self.signatures if not s.intact), None)
        if broken is not None:
            return gettext(
                "Signature {n} does not match the document: the signed content was altered."
            ).format(n=broken.number)
        # a change after signature m shows on signatures 1..m: name the last one
        changed = next((s for s in reversed(self.signatures) if s.changed), None)
        if changed is not None:
            return gettext("The document was changed after signature {n}.").format(n=changed.number)
        n = len(self.signatures)
        untrusted = [s for s in self.signatures if not s.trusted]
        if untrusted:
            return ngettext(
                "The document is intact, but {k} of {n} signature is not valid.",
                "The document is intact, but {k} of {n} signatures are not valid.",
                n,
            ).format(k=len(untrusted), n=n)
        return ngettext(
            "The document is intact, {n} valid signature.",
            "The document is intact, {n} valid signatures.",
            n,
        ).format(n=n)

    def to_json(self, language: str = "vi", max_upload_mb: int = 50) -> dict[str, Any]:
        gettext = translations(language).gettext
        signatures = []
        for check in self.signatures:
            item = asdict(check)
            for key in ("signed_at", "timestamp_at", "revoked_at"):
                item[key] = item[key].isoformat() if item[key] else None
            item["ok"] = check.ok
            item["problem_text"] = problem_text(check, gettext) if check.problem else ""
            item["changed_text"] = gettext(CHANGES[check.changed_after])
            signatures.append(item)
        return {
            "ok": self.ok,
            "problem": self.problem,
            "verdict": self.verdict(language, max_upload_mb),
            "size": self.size,
            "revisions": self.revisions,
            "signatures": signatures,
        }


def problem_text(check: SignatureCheck, gettext: Any) -> str:
    text: str = gettext(PROBLEMS.get(check.problem, PROBLEMS["other"]))
    date = check.revoked_at.strftime("%d/%m/%Y %H:%M UTC") if check.revoked_at else "?"
    return text.format(date=date)


# ---------------------------------------------------------------- the check itself


def check_pdf(pdf: bytes, settings: Settings) -> Report:
    """Every signature of `pdf`, in signing order. Never raises for a bad file: the report
    says what is wrong. Slow for big files (pyHanko): call it in a worker thread."""
    size = len(pdf)
    if size > settings.max_upload_mb * 1024 * 1024:
        return Report(problem="too_large", size=size)
    if size == 0:
        return Report(problem="empty")
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        embedded = list(reader.embedded_signatures)
        revisions = reader.xrefs.total_revisions
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        log.info("verification: not a readable PDF (%s)", exc)
        return Report(problem="not_pdf", size=size)
    # /DocTimeStamp revisions add nothing but a timestamp: they count as signatures added.
    signed_revisions = {sig.signed_revision for sig in embedded}
    regular = [sig for sig in embedded if sig.sig_object_type == "/Sig"]
    if not regular:
        return Report(problem="no_signatures", size=size, revisions=revisions)
    roots = load_certificates(settings.trusted_roots)
    crls = load_crls(settings.crls)
    checks = [
        _check_one(number, sig, roots, crls, signed_revisions, revisions)
        for number, sig in enumerate(regular, start=1)
    ]
    return Report(signatures=checks, size=size, revisions=revisions)


async def check_pdf_in_thread(pdf: bytes, settings: Settings) -> Report:
    """`check_pdf` in a worker thread, at most MAX_AT_ONCE at a time."""
    loop = asyncio.get_running_loop()
    turn = _turns.setdefault(id(loop), asyncio.Semaphore(MAX_AT_ONCE))
    async with turn:
        return await asyncio.to_thread(check_pdf, pdf, settings)


def _check_one(
    number: int,
    sig: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    crls: list[asn1_crl.CertificateList],
    signed_revisions: set[int],
    revisions: int,
) -> SignatureCheck:
    check = SignatureCheck(number=number, field=str(sig.field_name or ""))
    try:
        cert = sig.signer_cert
        _describe(check, cert)
    except Exception as exc:  # a signature whose CMS cannot be parsed
        log.info("verification: signature %s unreadable (%s)", number, exc)
        check.problem = "unreadable"
        return check
    try:
        status = validate_pdf_signature(sig, _context(cert, roots, crls))
    except Exception as exc:  # pyHanko refuses the signature object itself
        log.info("verification: signature %s not checked (%s)", number, exc)
        check.problem = "unreadable"
        return check
    check.signed_at = status.signer_reported_dt
    timestamp = status.timestamp_validity
    if timestamp is not None:
        check.timestamp_at = timestamp.timestamp
        check.timestamp_trusted = bool(timestamp.intact and timestamp.valid and timestamp.trusted)
    check.intact = bool(status.intact and status.valid)
    check.changed_after = _changed_after(status, sig, signed_revisions, revisions)
    if not check.intact:
        check.problem = "bad_signature" if status.intact else ""
        return check
    check.trusted = status.trusted
    if not status.trusted:
        check.problem = _problem(status, cert, check, roots)
        if check.problem == "expired" and _valid_when_signed(check, cert):
            check.trusted = _trusted_at(sig, _signing_time(check), roots)
            check.expired_since = check.trusted
            check.problem = "" if check.trusted else "expired"
    return check


def _describe(check: SignatureCheck, cert: asn1_x509.Certificate) -> None:
    subject = cert.subject.native
    check.signer = str(subject.get("common_name", "")) or cert.subject.human_friendly
    check.title = str(subject.get("title", ""))
    check.organization = str(subject.get("organization_name", ""))
    issuer = cert.issuer.native
    check.issuer = str(issuer.get("common_name", "")) or cert.issuer.human_friendly


def _context(
    cert: asn1_x509.Certificate,
    roots: list[asn1_x509.Certificate],
    crls: list[asn1_crl.CertificateList],
    moment: datetime | None = None,
) -> ValidationContext:
    """Nothing fetched from the network. When a configured CRL comes from the signer's issuer,
    checking it is required; otherwise revocation is checked only where the certificate points
    to revocation information (and then not fetched)."""
    from_issuer = any(c["tbs_cert_list"]["issuer"] == cert.issuer for c in crls)
    soft = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    policy = RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED if from_issuer else soft,
        intermediate_ca_cert_rule=soft,
    )
    return ValidationContext(
        trust_roots=list(roots),
        crls=list(crls),
        allow_fetching=False,
        moment=moment,
        revinfo_policy=CertRevTrustPolicy(policy),
    )


def _problem(
    status: PdfSignatureStatus,
    cert: asn1_x509.Certificate,
    check: SignatureCheck,
    roots: list[asn1_x509.Certificate],
) -> str:
    if status.revoked:
        details = status.revocation_details
        check.revoked_at = details.revocation_date if details else None
        return "revoked"
    indication = str(getattr(status.trust_problem_indic, "name", ""))
    if not roots:
        return "no_roots"
    if (
        indication == "NO_CERTIFICATE_CHAIN_FOUND"
        or status.validation_path is None
        and (indication in ("", "GENERIC"))
    ):
        return "untrusted"
    when = _signing_time(check)
    validity = cert["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    now = datetime.now(UTC)
    if indication in ("OUT_OF_BOUNDS_NO_POE", "EXPIRED") or now > not_after:
        return "expired"
    if indication == "NOT_YET_VALID" or when < not_before or now < not_before:
        return "not_yet_valid"
    if indication in ("TRY_LATER", "REVOCATION_OUT_OF_BOUNDS_NO_POE", "NO_POE"):
        return "revocation_unknown"
    if indication == "CHAIN_CONSTRAINTS_FAILURE" or indication == "SIG_CONSTRAINTS_FAILURE":
        return "usage"
    if indication == "CERTIFICATE_CHAIN_GENERAL_FAILURE":
        return "revocation_unknown" if _crl_trouble(status) else "other"
    return "other"


def _crl_trouble(status: PdfSignatureStatus) -> bool:
    """A general failure with a complete path: the revocation check is what failed."""
    return status.validation_path is not None


def _signing_time(check: SignatureCheck) -> datetime:
    if check.timestamp_at is not None and check.timestamp_trusted:
        return check.timestamp_at
    return check.signed_at or datetime.now(UTC)


def _valid_when_signed(check: SignatureCheck, cert: asn1_x509.Certificate) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    when = _signing_time(check)
    return bool(validity["not_before"].native <= when <= validity["not_after"].native)


def _trusted_at(
    sig: EmbeddedPdfSignature, moment: datetime, roots: list[asn1_x509.Certificate]
) -> bool:
    """The chain checked at the signing time (revocation as far as the certificate declares)."""
    try:
        context = _context(sig.signer_cert, roots, [], moment=moment)
        again = validate_pdf_signature(sig, context, skip_diff=True)
    except Exception as exc:
        log.info("verification: check at signing time failed (%s)", exc)
        return False
    return bool(again.trusted)


def _changed_after(
    status: PdfSignatureStatus,
    sig: EmbeddedPdfSignature,
    signed_revisions: set[int],
    revisions: int,
) -> str:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "none"
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return "content"  # the byte ranges do not cover a whole revision: not a fair signature
    level = status.modification_level
    if level is None or level == ModificationLevel.OTHER:
        return "content"
    if level == ModificationLevel.ANNOTATIONS:
        return "annotations"
    later = set(range(sig.signed_revision + 1, revisions))
    if level <= ModificationLevel.LTA_UPDATES or later <= signed_revisions:
        return "signatures"
    return "form"


# ---------------------------------------------------------------- trust material from files


def _pem_or_der(data: bytes, kind: str) -> list[bytes]:
    if pem.detect(data):
        return [der for name, _headers, der in pem.unarmor(data, multiple=True) if kind in name]
    return [data]


def load_certificates(paths: list[str]) -> list[asn1_x509.Certificate]:
    """Every certificate in the PEM (or DER) files; an unreadable file is logged and skipped."""
    found = []
    for path in paths:
        try:
            for der in _pem_or_der(Path(path).read_bytes(), "CERTIFICATE"):
                cert = asn1_x509.Certificate.load(der)
                _ = cert.native  # parses it all now, not in the middle of a check
                found.append(cert)
        except (OSError, ValueError, TypeError) as exc:
            log.warning("PHONGHOP_TRUSTED_ROOTS: cannot read %s (%s)", path, exc)
    return found


def load_crls(paths: list[str]) -> list[asn1_crl.CertificateList]:
    found = []
    for path in paths:
        try:
            for der in _pem_or_der(Path(path).read_bytes(), "CRL"):
                revocations = asn1_crl.CertificateList.load(der)
                _ = revocations.native
                found.append(revocations)
        except (OSError, ValueError, TypeError) as exc:
            log.warning("PHONGHOP_CRLS: cannot read %s (%s)", path, exc)
    return found


# ---------------------------------------------------------------- routes


async def _upload(request: Request) -> bytes | None:
    """The uploaded file's bytes; None when the form has no file."""
    form = await form_of(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None
    data: bytes = await upload.read()
    return data


class VerifyReport(TypedDict):
    """What the check of a signed PDF found; `verdict` in the caller's language."""

    ok: bool
    problem: str
    verdict: str
    size: int
    revisions: int
    signatures: list[dict[str, Any]]


@post(
    "/api/verify",
    status_code=200,
    responses={200: ResponseSpec(VerifyReport, description="The report on the PDF's signatures.")},
)
async def verify_api(request: Request) -> Response[dict[str, Any]]:
    """Multipart `file`: the report as JSON, for anyone, signed in or not. It changes nothing
    (so it is outside CSRF: a script can post to it without a session)."""
    data = await _upload(request)
    if data is None:
        raise AppError(400, "no_file", "Choose a file to upload.")
    settings = house_of(request).settings
    report = await check_pdf_in_thread(data, settings)
    return Response(report.to_json(language_of(request), settings.max_upload_mb))


def report_context(settings: Settings, report: Report | None) -> dict[str, Any]:
    """What fragments/verify_report.html needs, for any page that shows a report:
    `{% include "fragments/verify_report.html" %}` with this in the template's context."""
    return {
        "report": report,
        "max_upload_mb": settings.max_upload_mb,
        "problems": PROBLEMS,
        "changes": CHANGES,
        "tz": settings.tz,
    }


def _page(request: Request, report: Report | None, fragment: bool = False) -> Template:
    context = report_context(house_of(request).settings, report)
    name = "fragments/verify_report.html" if fragment else "verify.html"
    return Template(name, context=context)


@get("/verify")
async def verify_page(request: Request) -> Template:
    """Upload a signed PDF and read who signed it and whether it changed."""
    return _page(request, None)


@post("/verify", status_code=200)
async def verify_form(request: Request) -> Template:
    """The page's form: the report as a fragment for htmx, or the whole page without script."""
    data = await _upload(request)
    settings = house_of(request).settings
    report = await check_pdf_in_thread(data, settings) if data else Report(problem="empty")
    return _page(request, report, fragment=bool(request.headers.get("hx-request")))


ROUTES = [verify_api, verify_page, verify_form]
