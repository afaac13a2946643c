"""A certificate authority the tests create: its root, certificates for the people and seals
that sign a council's record, and the ways a certificate goes bad (expired, not yet valid,
revoked with a CRL that says so). Real X.509 made with `cryptography`, nothing faked.

    ca = Authority()
    chair = ca.issue("Trần Văn Bình", title="Chủ tịch HĐND phường")
    ca.pkcs12(chair, b"secret")          # for a key kept in a file
    ca.issue("Thư ký", public_key=key)   # for a key that lives on a token
    ca.revoke(chair); ca.crl_der()       # what a revocation list says
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey | None  # None when the key lives on a token

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _name(common_name: str, organization: str = "", title: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organization:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if title:
        parts.append(x509.NameAttribute(NameOID.TITLE, title))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


class Authority:
    def __init__(self, name: str = "Phonghop Test Root CA", crl_url: str = "") -> None:
        self.key = new_key()
        self.crl_url = crl_url
        self.revoked: list[x509.RevokedCertificate] = []
        now = datetime.now(UTC)
        subject = _name(name, "Phonghop tests")
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def root_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write_root(self, path: Path) -> Path:
        path.write_bytes(self.root_pem())
        return path

    def issue(
        self,
        common_name: str,
        *,
        title: str = "",
        organization: str = "HĐND phường Ba Đình",
        public_key: rsa.RSAPublicKey | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Issued:
        """A signing certificate; valid from yesterday for a year unless told otherwise."""
        key = None if public_key is not None else new_key()
        public = public_key if public_key is not None else key.public_key()  # type: ignore[union-attr]
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization, title))
            .issuer_name(self.cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=1))
            .not_valid_after(not_after or now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if self.crl_url:
            point = x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(self.crl_url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        return Issued(builder.sign(self.key, hashes.SHA256()), key)

    def expired(self, common_name: str, **kw: object) -> Issued:
        now = datetime.now(UTC)
        return self.issue(
            common_name,
            not_before=now - timedelta(days=400),
            not_after=now - timedelta(days=35),
            **kw,  # type: ignore[arg-type]
        )

    def not_yet_valid(self, common_name: str, **kw: object) -> Issued:
        now = datetime.now(UTC)
        return self.issue(
            common_name,
            not_before=now + timedelta(days=30),
            not_after=now + timedelta(days=400),
            **kw,  # type: ignore[arg-type]
        )

    def revoke(self, issued: Issued) -> None:
        self.revoked.append(
            x509.RevokedCertificateBuilder()
            .serial_number(issued.cert.serial_number)
            .revocation_date(datetime.now(UTC) - timedelta(minutes=5))
            .build()
        )

    def crl_der(self) -> bytes:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - timedelta(minutes=10))
            .next_update(now + timedelta(days=7))
        )
        for entry in self.revoked:
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def pkcs12(self, issued: Issued, password: bytes, name: str = "seal") -> bytes:
        """The key and its certificate chain in one file, as a CA hands out a seal."""
        assert issued.key is not None, "a token's key cannot be exported"
        return pkcs12.serialize_key_and_certificates(
            name.encode(),
            issued.key,
            issued.cert,
            [self.cert],
            serialization.BestAvailableEncryption(password),
        )
