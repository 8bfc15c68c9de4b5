"""The issuing body's signing key: a PKCS#12 file or secret (`Pkcs12Key`), or a PKCS#11 token
(`Pkcs11Key`: the module, the token's label, the PIN), opened as a pyHanko signer by
`open_signer`. Where the key comes from (an Airflow Connection) is the Airflow glue's business;
here it is plain data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from asn1crypto import pem, x509


class SigningKeyError(ValueError):
    """The key cannot be opened (wrong passphrase or PIN, no such token or key)."""


@dataclass(frozen=True, repr=False)
class Pkcs12Key:
    """A PKCS#12 archive (.p12/.pfx): the key, its certificate and usually the CA chain."""

    data: bytes
    passphrase: bytes | None = None
    trust_roots: tuple[bytes, ...] = ()  # DER or PEM; default: the chain's self-signed roots

    def __repr__(self) -> str:  # never the secret in a log
        return f"Pkcs12Key({len(self.data)} bytes)"


@dataclass(frozen=True, repr=False)
class Pkcs11Key:
    """A key on a PKCS#11 token (a USB token or an HSM)."""

    module: str  # the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
    token_label: str
    pin: str
    key_label: str | None = None  # the key's (and its certificate's) label; default: the only one
    cert_label: str | None = None
    trust_roots: tuple[bytes, ...] = field(default=())

    def __repr__(self) -> str:
        return f"Pkcs11Key(module={self.module!r}, token={self.token_label!r}, key={self.key_label!r})"


SigningKey = Pkcs12Key | Pkcs11Key


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in `data`: DER, or PEM with one or more certificates."""
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


@contextmanager
def open_signer(key: SigningKey) -> Iterator:
    """A pyHanko `Signer` for `key`, its PKCS#11 session (if any) closed afterwards."""
    if isinstance(key, Pkcs12Key):
        from pyhanko.sign.signers import SimpleSigner

        try:
            signer = SimpleSigner.load_pkcs12_data(key.data, other_certs=(), passphrase=key.passphrase)
        except ValueError as exc:
            raise SigningKeyError(
                "Không mở được tệp khóa PKCS#12: sai mật khẩu hoặc tệp hỏng (cannot open the PKCS#12 key)."
            ) from exc
        yield signer
        return
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(
            key.module, token_criteria=TokenCriteria(label=key.token_label), user_pin=key.pin
        )
    except Exception as exc:  # python-pkcs11 raises its own types (no token, PIN incorrect...)
        raise SigningKeyError(
            f"Không mở được token PKCS#11 '{key.token_label}' ({key.module}): {type(exc).__name__} "
            "(cannot open the PKCS#11 token)."
        ) from exc
    try:
        yield PKCS11Signer(session, key_label=key.key_label, cert_label=key.cert_label or key.key_label)
    finally:
        session.close()


def trust_roots(key: SigningKey, signer) -> list[x509.Certificate]:
    """The roots to validate the signature against: the key's `trust_roots`, else the
    self-signed certificates of the signer's chain."""
    if key.trust_roots:
        return [cert for blob in key.trust_roots for cert in load_certificates(blob)]
    chain = [signer.signing_cert, *signer.cert_registry]
    return [c for c in chain if c is not None and c.self_signed in ("yes", "maybe")]
