"""Where a council keeps its keys, and whether a certificate may sign today.

* The seal (con dấu): a PKCS#12 file held by the server (PHONGHOP_SEAL_P12); its password is
  read from the environment variable PHONGHOP_SEAL_PASSWORD each time it signs, never kept.
* A person's key: on a PKCS#11 token (a USB token, SoftHSM2 in the tests) reached through
  its module (PHONGHOP_PKCS11_MODULE); PHONGHOP_SIGNING_TOKENS names each signer's token and
  key label. The PIN is typed by the signer for one signature and dropped after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import Signer

from server.errors import AppError
from server.settings import Settings

SEAL_PASSWORD = "PHONGHOP_SEAL_PASSWORD"


@dataclass(frozen=True)
class TokenKey:
    """A person's key on a token: the token's label and the key's (= its certificate's)."""

    token_label: str
    key_label: str


def token_of(settings: Settings, username: str) -> TokenKey | None:
    found = settings.signing_tokens.get(username.lower())
    return TokenKey(*found) if found else None


def has_seal(settings: Settings) -> bool:
    return bool(settings.seal_p12)


def seal_signer(settings: Settings) -> Signer:
    """The council's seal from its PKCS#12 file, opened with the password from the
    environment."""
    path = Path(settings.seal_p12)
    if not settings.seal_p12 or not path.is_file():
        raise AppError(409, "no_seal", "This council has no seal key configured.")
    password = os.environ.get(SEAL_PASSWORD, "")
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            path.read_bytes(), other_certs=[], passphrase=password.encode() or None
        )
    except (ValueError, TypeError):
        signer = None
    if signer is None:
        raise AppError(
            409,
            "seal_locked",
            "The seal's key file could not be opened: check PHONGHOP_SEAL_PASSWORD.",
        )
    return signer


@contextmanager
def token_signer(settings: Settings, key: TokenKey, pin: str) -> Iterator[Signer]:
    """A signer on the person's token, logged in with `pin` for as long as the block runs."""
    from pkcs11 import exceptions as p11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    if not settings.pkcs11_module:
        raise AppError(409, "no_token_module", "No PKCS#11 module is configured on the server.")
    if not pin:
        raise AppError(400, "pin_needed", "Type the PIN of your token.")
    try:
        session = open_pkcs11_session(
            settings.pkcs11_module,
            token_criteria=TokenCriteria(label=key.token_label),
            user_pin=pin,
        )
    except p11.PinIncorrect as exc:
        raise AppError(403, "wrong_pin", "Wrong PIN: nothing was signed.") from exc
    except p11.PinLocked as exc:
        raise AppError(403, "pin_locked", "The token's PIN is locked.") from exc
    except (p11.PKCS11Error, OSError) as exc:
        raise AppError(
            409, "no_token", "The token {token} cannot be reached.", token=key.token_label
        ) from exc
    try:
        try:
            signer = PKCS11Signer(session, cert_label=key.key_label, key_label=key.key_label)
            assert signer.signing_cert is not None  # fetched now: a missing one is said here
        except Exception as exc:  # noqa: BLE001 (python-pkcs11 and pyHanko raise many kinds)
            raise AppError(
                409,
                "no_key",
                "No key or certificate labelled {key} on the token {token}.",
                key=key.key_label,
                token=key.token_label,
            ) from exc
        yield signer
    finally:
        session.close()


def _crl(path: str) -> x509.CertificateRevocationList:
    try:
        data = Path(path).read_bytes()
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except (OSError, ValueError) as exc:
        raise AppError(
            409, "crl_unreadable", "The revocation list {path} cannot be read.", path=path
        ) from exc


def check_certificate(
    settings: Settings, cert: Any, now: datetime | None = None
) -> x509.Certificate:
    """Refuses a certificate (as pyHanko holds it, an asn1crypto one) that is not valid now
    or that a configured CRL revokes."""
    now = now or datetime.now(UTC)
    parsed = x509.load_der_x509_certificate(cert.dump())
    who = parsed.subject.rfc4514_string()
    if now < parsed.not_valid_before_utc:
        raise AppError(
            409,
            "cert_not_yet_valid",
            "The certificate of {who} is not valid until {date}.",
            who=who,
            date=parsed.not_valid_before_utc.strftime("%d/%m/%Y"),
        )
    if now > parsed.not_valid_after_utc:
        raise AppError(
            409,
            "cert_expired",
            "The certificate of {who} expired on {date}.",
            who=who,
            date=parsed.not_valid_after_utc.strftime("%d/%m/%Y"),
        )
    for path in settings.crls:
        crl = _crl(path)
        if crl.issuer != parsed.issuer:
            continue
        revoked = crl.get_revoked_certificate_by_serial_number(parsed.serial_number)
        if revoked is not None:
            raise AppError(
                409,
                "cert_revoked",
                "The certificate of {who} was revoked on {date}.",
                who=who,
                date=revoked.revocation_date_utc.strftime("%d/%m/%Y"),
            )
    return parsed
