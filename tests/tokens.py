"""A SoftHSM2 token the tests initialize in a temporary directory (SOFTHSM2_CONF), with an
RSA key made on the token and its certificate from tests/pki.py stored beside it: the key
never leaves the token, as on a real USB token."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from tests.pki import Authority, Issued

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SO_PIN = "87654321"


def softhsm_present() -> bool:
    return Path(MODULE).is_file() and shutil.which("softhsm2-util") is not None


@dataclass
class Token:
    label: str
    pin: str
    module: str = MODULE


def init_softhsm(root: Path) -> None:
    """Points SoftHSM2 at a token directory of its own under `root` (for this process and
    the libraries it loads afterwards)."""
    tokens = root / "softhsm-tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)


def new_token(label: str, pin: str) -> Token:
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
            "--pin",
            pin,
        ],
        check=True,
        capture_output=True,
    )
    return Token(label, pin)


def key_on_token(
    token: Token, authority: Authority, key_label: str, common_name: str, **kw: object
) -> Issued:
    """An RSA key made on the token, certified by `authority` (`kw` as Authority.issue,
    or `how="expired"`/`"not_yet_valid"`), the certificate stored under the same label."""
    import pkcs11
    from cryptography.hazmat.primitives.serialization import load_der_public_key
    from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
    from pkcs11.util.rsa import encode_rsa_public_key

    lib = pkcs11.lib(token.module)
    how = str(kw.pop("how", "issue"))
    with lib.get_token(token_label=token.label).open(rw=True, user_pin=token.pin) as session:
        public, _ = session.generate_keypair(
            KeyType.RSA, 2048, label=key_label, id=key_label.encode(), store=True
        )
        der = encode_rsa_public_key(public)
        from asn1crypto import keys as asn1_keys

        spki = asn1_keys.PublicKeyInfo(
            {"algorithm": {"algorithm": "rsa"}, "public_key": asn1_keys.RSAPublicKey.load(der)}
        ).dump()
        public_key = load_der_public_key(spki)
        assert isinstance(public_key, rsa.RSAPublicKey)
        issued = getattr(authority, how)(common_name, public_key=public_key, **kw)
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: key_label,
                Attribute.VALUE: issued.der(),
                Attribute.SUBJECT: issued.cert.subject.public_bytes(),
                Attribute.ID: key_label.encode(),
            }
        )
    return issued
