"""TLS: the certificate files a service is given, checked at start, and the contexts made of them.

    SSL_CERTFILE, SSL_KEYFILE        the service serves HTTPS (uvicorn's names), PEM files
    OWUI_TLS_CA                      the CA that https:// service URLs are verified against (and
                                     nothing else); once set, every *_SERVICE_URL is https://
    OWUI_TLS_CLIENT_CERT, _KEY       what calls to other services present (default: the
                                     service's own SSL_CERTFILE and SSL_KEYFILE)
    OWUI_TLS_REQUIRE_CLIENT_CERT     true: the services behind the gateway accept only clients
                                     with a certificate OWUI_TLS_CA signed (mutual TLS)

The gateway's port is the public door: it never asks a client for a certificate. The checks
run in the settings (core/config.py), so a missing, unreadable or mismatched file stops the
service at start with the variable and the file named, not at the first call.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from owui.core.config import Settings

# The service that faces clients; client certificates are for the services behind it.
PUBLIC_SERVICE = "gateway"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a PEM file") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc.strerror or exc}") from None


def read_certificates(path: Path) -> list[Certificate]:
    """The PEM certificates in `path` (a certificate, its chain, or a CA bundle)."""
    from cryptography import x509

    data = _read(path)
    try:
        with warnings.catch_warnings():  # a system bundle's old CAs: not ours to judge here
            warnings.simplefilter("ignore")
            found = x509.load_pem_x509_certificates(data)
    except ValueError:
        found = []
    if not found:
        raise ValueError(f"{path} holds no PEM certificate")
    return found


def check_certificate(path: Path) -> Path:
    """A readable PEM certificate whose first (leaf) certificate has not expired."""
    leaf = read_certificates(path)[0]
    if leaf.not_valid_after_utc < datetime.now(UTC):
        raise ValueError(f"the certificate in {path} expired on "
                         f"{leaf.not_valid_after_utc:%Y-%m-%d}")
    return path


def check_key(path: Path) -> Path:
    """A readable, unencrypted PEM private key."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _read(path)
    try:
        load_pem_private_key(data, password=None)
    except TypeError:
        raise ValueError(f"{path} is an encrypted key; give it unencrypted (mode 0600)") from None
    except ValueError:
        raise ValueError(f"{path} holds no PEM private key") from None
    return path


def check_pair(cert: Path, key: Path, cert_variable: str) -> None:
    """The key is the private half of the certificate's public key."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    leaf = read_certificates(cert)[0]
    private = load_pem_private_key(_read(key), password=None)

    def spki(public: Any) -> bytes:
        return public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    if spki(private.public_key()) != spki(leaf.public_key()):
        raise ValueError(f"the key in {key} does not match the certificate in {cert} "
                         f"({cert_variable})")


def serves_tls(settings: Settings) -> bool:
    return settings.ssl_certfile is not None


def asks_client_certificate(settings: Settings, service: str) -> bool:
    return settings.owui_tls_require_client_cert and service != PUBLIC_SERVICE


def client_pair(settings: Settings) -> tuple[Path, Path] | None:
    """The certificate and key that calls to other services present, if any."""
    if settings.owui_tls_client_cert is not None and settings.owui_tls_client_key is not None:
        return settings.owui_tls_client_cert, settings.owui_tls_client_key
    if settings.ssl_certfile is not None and settings.ssl_keyfile is not None:
        return settings.ssl_certfile, settings.ssl_keyfile
    return None


def uvicorn_options(settings: Settings, service: str) -> dict[str, Any]:
    """uvicorn.Config's TLS arguments for this service: none for plain HTTP."""
    if not serves_tls(settings):
        return {}
    options: dict[str, Any] = {
        "ssl_certfile": str(settings.ssl_certfile),
        "ssl_keyfile": str(settings.ssl_keyfile),
        # Python's defaults (forward secrecy, no SHA-1) rather than uvicorn's "TLSv1", which
        # would leave a TLS 1.2 client only the CBC-SHA1 suites.
        "ssl_ciphers": "",
    }
    if asks_client_certificate(settings, service):
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        options["ssl_ca_certs"] = str(settings.owui_tls_ca)
    return options


def client_context(settings: Settings) -> ssl.SSLContext | None:
    """The context for calls to other owui services; None: the library's default (system CAs,
    no client certificate), which is all a deployment without TLS settings needs."""
    return _context(settings.owui_tls_ca, client_pair(settings))


def probe_context(env: Mapping[str, str]) -> ssl.SSLContext | None:
    """The same context from a service's environment, for a process that probes the services
    without their settings (the supervisor of `owui up`); None when the env has no TLS."""
    ca = env.get("OWUI_TLS_CA") or None
    cert = env.get("OWUI_TLS_CLIENT_CERT") or env.get("SSL_CERTFILE")
    key = env.get("OWUI_TLS_CLIENT_KEY") or env.get("SSL_KEYFILE")
    return _context(Path(ca) if ca else None,
                    (Path(cert), Path(key)) if cert and key else None)


def _context(ca: Path | None, pair: tuple[Path, Path] | None) -> ssl.SSLContext | None:
    if ca is None and pair is None:
        return None
    # Only our CA when one is named: a certificate from any other CA is refused.
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    if pair is not None:
        context.load_cert_chain(str(pair[0]), str(pair[1]))
    return context
