"""`owui certs`: a local CA and a certificate for each service, for a laptop or a Compose file.

    DIR/ca.pem, DIR/ca-key.pem                    the CA (kept when it exists: what already
                                                  trusts it keeps trusting it)
    DIR/<service>.pem, DIR/<service>-key.pem      one per service, made anew each time

Each service's certificate names the service (its Compose host name), owui-<service> (its
Kubernetes Service), localhost, 127.0.0.1 and ::1, so one set serves `owui up --tls` and the
rendered Compose and Kubernetes manifests alike; `--host` adds
the names the gateway is reached by from outside. Each is good for serving and, in mutual TLS,
for calling (serverAuth and clientAuth). Keys are ECDSA P-256 (the cheapest handshake), written
mode 0600 in a folder of mode 0700. Made with the `cryptography` library, no openssl command.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from owui.core.services import NAMES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.x509 import Certificate

CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
LOOPBACK = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
DEFAULT_DAYS = 825  # the longest a leaf is accepted by browsers that still take private CAs


@dataclass(frozen=True)
class CertSet:
    """Where a set of certificates lives."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / CA_CERT

    @property
    def ca_key(self) -> Path:
        return self.folder / CA_KEY

    def cert(self, name: str) -> Path:
        return self.folder / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.folder / f"{name}-key.pem"

    def exists(self) -> bool:
        return self.ca.is_file() and all(self.cert(n).is_file() for n in NAMES)

    @staticmethod
    def url(plain: str) -> str:
        return https(plain)

    def service_env(self, service: str) -> dict[str, str]:
        """The variables that make `service` serve and call over TLS with this set."""
        return {"SSL_CERTFILE": str(self.cert(service)), "SSL_KEYFILE": str(self.key(service)),
                "OWUI_TLS_CA": str(self.ca)}


def default_folder() -> Path:
    data = os.environ.get("OWUI_DATA_DIR") or str(Path.home() / ".owui")
    return Path(data).expanduser().resolve() / "tls"


def certs(
    folder: Annotated[Path | None, typer.Option(
        "--dir", help="Where to write them (default: $OWUI_DATA_DIR/tls, or ~/.owui/tls).",
        show_default=False)] = None,
    host: Annotated[list[str] | None, typer.Option(
        "--host", help="Another name or address the gateway is reached by, such as "
        "owui.example.com (repeatable).", show_default=False)] = None,
    days: Annotated[int, typer.Option(min=1, max=3650,
                                      help="Days the services' certificates are valid.")]
    = DEFAULT_DAYS,
    new_ca: Annotated[bool, typer.Option(
        "--new-ca", help="Make a new CA even if the folder has one.")] = False,
) -> None:
    """Make a local CA and a certificate for each service (for owui up --tls, or Compose)."""
    chosen = CertSet((folder or default_folder()).expanduser().resolve())
    try:
        made_ca = make_set(chosen, extra_hosts=host or [], days=days, new_ca=new_ca)
    except (OSError, ValueError) as exc:
        typer.echo(f"owui: cannot make certificates in {chosen.folder}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{'made a new' if made_ca else 'kept the'} CA {chosen.ca}")
    typer.echo(f"certificates for {', '.join(NAMES)} in {chosen.folder} "
               f"(valid {days} days; keys mode 0600)")
    typer.echo(f"trust it in a client: curl --cacert {chosen.ca} https://localhost:8000/healthz")


def for_up(env: dict[str, str], host: str) -> CertSet:
    """`owui up --tls`: the set under OWUI_DATA_DIR/tls (made on first use, for `host` too),
    OWUI_TLS_CA in `env` and every *_SERVICE_URL turned https://; each service's own pair is
    `service_env`'s."""
    from owui.core.services import SERVICES

    chosen = CertSet(Path(env["OWUI_DATA_DIR"]) / "tls")
    if not chosen.exists():
        make_set(chosen, shared_hosts=() if host in LOOPBACK else (host,))
    env["OWUI_TLS_CA"] = str(chosen.ca)
    for service in SERVICES:
        if service.url_variable:
            env[service.url_variable] = https(env[service.url_variable])
    return chosen


def https(url: str) -> str:
    return "https://" + url.removeprefix("http://") if url.startswith("http://") else url


def make_set(chosen: CertSet, *, extra_hosts: list[str] | tuple[str, ...] = (),
             shared_hosts: list[str] | tuple[str, ...] = (), days: int = DEFAULT_DAYS,
             new_ca: bool = False) -> bool:
    """Write the CA (unless one is there and not `new_ca`) and every service's certificate
    (`extra_hosts` on the gateway's, `shared_hosts` on all); True when the CA was made."""
    chosen.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = new_ca or not (chosen.ca.is_file() and chosen.ca_key.is_file())
    if made:
        ca_key = new_key()
        ca_cert = make_ca(ca_key)
        write_key(chosen.ca_key, ca_key)
        write_cert(chosen.ca, ca_cert)
    else:
        ca_cert, ca_key = load_ca(chosen)
    for name in NAMES:
        hosts = [name, f"owui-{name}", *LOOPBACK, *shared_hosts,
                 *(extra_hosts if name == "gateway" else ())]
        key = new_key()
        write_key(chosen.key(name), key)
        write_cert(chosen.cert(name), make_leaf(name, hosts, key, ca_cert, ca_key, days=days))
    return made


def new_key() -> EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def make_ca(key: EllipticCurvePrivateKey, name: str = "owui local CA",
            days: int = CA_DAYS) -> Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )


def make_leaf(name: str, hosts: list[str], key: EllipticCurvePrivateKey, ca_cert: Certificate,
              ca_key: EllipticCurvePrivateKey, *, days: int = DEFAULT_DAYS) -> Certificate:
    """A certificate for `name`, good for `hosts` (names or addresses), signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=False, crl_sign=False,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _alt_names(hosts: list[str]) -> list:
    from cryptography import x509

    names: list = []
    for host in dict.fromkeys(hosts):  # in order, once each
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def load_ca(chosen: CertSet) -> tuple[Certificate, EllipticCurvePrivateKey]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    cert = x509.load_pem_x509_certificate(chosen.ca.read_bytes())
    key = load_pem_private_key(chosen.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{chosen.ca_key} is not the EC key owui certs makes; use --new-ca")
    return cert, key


def write_key(path: Path, key: EllipticCurvePrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    _write(path, key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()), 0o600)


def write_cert(path: Path, cert: Certificate) -> None:
    from cryptography.hazmat.primitives import serialization

    _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Whole or not at all, with its mode from the start (a key is never readable by others)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)  # whatever the umask took away from a certificate's mode
    os.replace(tmp, path)
