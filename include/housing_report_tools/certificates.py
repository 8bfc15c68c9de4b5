"""Throwaway certificates for the demo and the tests: a CA and a signer certificate it issued,
as a PKCS#12 archive (`make_throwaway_pkcs12`). Never for a real report: the issuing body's key
comes from its CA (Ban Cơ yếu Chính phủ for Party and state bodies), through the Connection
`report_signing`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Throwaway:
    """A CA and a signer: the CA's certificate (PEM), the signer's key and certificate."""

    ca_pem: bytes
    ca_key: rsa.RSAPrivateKey
    signer_key: rsa.RSAPrivateKey
    signer_cert: x509.Certificate
    ca_cert: x509.Certificate

    def pkcs12(self, passphrase: bytes) -> bytes:
        """The signer's key, certificate and the CA as a PKCS#12 archive."""
        return pkcs12.serialize_key_and_certificates(
            b"signer",
            self.signer_key,
            self.signer_cert,
            [self.ca_cert],
            serialization.BestAvailableEncryption(passphrase),
        )

    def signer_key_der(self) -> bytes:
        return self.signer_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def signer_cert_der(self) -> bytes:
        return self.signer_cert.public_bytes(serialization.Encoding.DER)


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def make_throwaway(
    signer_name: str = "Nguyễn Văn Thành",
    organisation: str = "Ban Tuyên giáo Tỉnh ủy (thử nghiệm)",
    ca_name: str = "CA thử nghiệm - không dùng thật",
) -> Throwaway:
    """A fresh CA (valid 10 years) and a signer certificate (valid 2 years) for signing PDFs."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_subject = _name(ca_name, organisation)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_subject)
        .issuer_name(ca_subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_name, organisation))
        .issuer_name(ca_subject)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Throwaway(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        ca_key=ca_key,
        signer_key=signer_key,
        signer_cert=signer_cert,
        ca_cert=ca_cert,
    )


def write_throwaway(folder: Path, passphrase: str = "demo") -> tuple[Path, Path]:
    """Write a throwaway `signer.p12` and the CA's `ca.pem` into `folder` (kept when present)."""
    folder.mkdir(parents=True, exist_ok=True)
    p12, ca = folder / "signer.p12", folder / "ca.pem"
    if not (p12.is_file() and ca.is_file()):
        made = make_throwaway()
        p12.write_bytes(made.pkcs12(passphrase.encode()))
        ca.write_bytes(made.ca_pem)
    return p12, ca
