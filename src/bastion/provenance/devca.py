"""A local DEVELOPMENT certificate authority and C2PA signing certificate.

``make run`` (``bastion serve --demo``) and ``BASTION_C2PA_DEV_SIGNER=true`` use it when no
signing certificate is configured, so the demo can sign outputs. Everything about it says
DEVELOPMENT: the names in the certificates, the folder, the log line at every start. It is
never used unless asked for; production sets ``BASTION_C2PA_CERT_FILE`` and
``BASTION_C2PA_KEY_FILE`` to a certificate from a CA on the C2PA trust list.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bastion.errors import ConfigError

log = logging.getLogger("bastion.provenance")

FOLDER = "c2pa-dev"
ORGANISATION = "Bastion DEVELOPMENT - not for production"
_ROOT_NAME = "Bastion DEVELOPMENT root CA"
_SIGNER_NAME = "Bastion DEVELOPMENT C2PA signer"


@dataclass(frozen=True)
class DevFiles:
    folder: Path

    @property
    def chain(self) -> Path:
        return self.folder / "signer-chain.pem"

    @property
    def key(self) -> Path:
        return self.folder / "signer-key.pem"

    @property
    def root(self) -> Path:
        return self.folder / "root-ca.pem"


def ensure_dev_signer(data_dir: Path, *, now: datetime.datetime | None = None) -> DevFiles:
    """Create the development CA and signer under ``data_dir/c2pa-dev`` unless present."""
    files = DevFiles(data_dir / FOLDER)
    if files.chain.exists() and files.key.exists() and files.root.exists():
        log.warning(
            "C2PA: signing with the DEVELOPMENT certificate in %s; outputs signed with it "
            "are not trusted anywhere else (configure BASTION_C2PA_CERT_FILE/KEY_FILE)",
            files.folder,
        )
        return files
    # Written into a private folder and renamed into place in one step, so two processes
    # starting at once never mix one's certificate with the other's key.
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = DevFiles(Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=data_dir)))
        root_pem, chain_pem, key_pem = _issue(now or datetime.datetime.now(datetime.UTC))
        _write(staging.root, root_pem, 0o644)
        _write(staging.chain, chain_pem, 0o644)
        _write(staging.key, key_pem, 0o600)
        try:
            os.rename(staging.folder, files.folder)
        except OSError:
            if not files.key.exists():
                raise
            shutil.rmtree(staging.folder, ignore_errors=True)  # another process won the race
            return files
    except OSError as exc:
        raise ConfigError(
            f"cannot create the development C2PA signer in {files.folder}: {exc}"
        ) from exc
    log.warning(
        "C2PA: created a DEVELOPMENT certificate authority and signer in %s. It is for local "
        "testing only; production must set BASTION_C2PA_CERT_FILE and BASTION_C2PA_KEY_FILE.",
        files.folder,
    )
    return files


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(now: datetime.datetime) -> tuple[bytes, bytes, bytes]:
    """A P-256 root CA (10 years) and a leaf for C2PA signing (2 years), as PEM."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(_ROOT_NAME))
        .issuer_name(_name(_ROOT_NAME))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(_SIGNER_NAME))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return root_pem, leaf.public_bytes(pem) + root_pem, key_pem
