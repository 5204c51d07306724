"""Bad TLS input stops a service at start with a message naming the variable and the file:
a missing or unreadable file, a file that is no certificate or key, a key of another
certificate, an expired certificate, a plain-HTTP service URL while OWUI_TLS_CA is set, mutual
TLS without a CA; and what `owui certs` writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from owui.cli.certs import CertSet, load_ca, make_set, new_key, write_cert
from owui.cli.main import app
from owui.core.config import load_settings
from owui.core.services import NAMES
from owui.core.tls import client_context, uvicorn_options

URLS = ("INFERENCE_SERVICE_URL", "AGENT_SERVICE_URL", "RETRIEVAL_SERVICE_URL",
        "CHAT_SERVICE_URL")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertSet:
    made = CertSet(tmp_path_factory.mktemp("certs"))
    make_set(made)
    return made


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    for name in ("SSL_CERTFILE", "SSL_KEYFILE", "OWUI_TLS_CA", "OWUI_TLS_CLIENT_CERT",
                 "OWUI_TLS_CLIENT_KEY", "OWUI_TLS_REQUIRE_CLIENT_CERT", *URLS):
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return set_env


def refused() -> str:
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    return str(stopped.value.code)


def test_a_missing_certificate_names_variable_and_file(env, tmp_path: Path) -> None:
    env(SSL_CERTFILE=str(tmp_path / "nope.pem"), SSL_KEYFILE=str(tmp_path / "nope-key.pem"))
    message = refused()
    assert "SSL_CERTFILE" in message and "nope.pem does not exist" in message


def test_an_unreadable_key_names_variable_and_file(env, certs: CertSet, tmp_path: Path) -> None:
    locked = tmp_path / "locked-key.pem"
    locked.write_bytes(certs.key("chat").read_bytes())
    locked.chmod(0)
    unreadable = locked if os.geteuid() != 0 else tmp_path  # root reads any file: a folder
    env(SSL_CERTFILE=str(certs.cert("chat")), SSL_KEYFILE=str(unreadable))
    message = refused()
    assert "SSL_KEYFILE" in message and str(unreadable) in message
    assert "cannot be read" in message or "is a directory" in message


def test_files_that_are_not_pem(env, certs: CertSet, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    env(SSL_CERTFILE=str(junk), SSL_KEYFILE=str(certs.key("chat")))
    assert "SSL_CERTFILE" in (message := refused()) and "holds no PEM certificate" in message
    env(SSL_CERTFILE=str(certs.cert("chat")), SSL_KEYFILE=str(junk))
    assert "SSL_KEYFILE" in (message := refused()) and "holds no PEM private key" in message
    env(SSL_CERTFILE=str(certs.cert("chat")), SSL_KEYFILE=str(certs.key("chat")),
        OWUI_TLS_CA=str(junk))
    assert "OWUI_TLS_CA" in (message := refused()) and str(junk) in message


def test_a_key_of_another_certificate(env, certs: CertSet) -> None:
    env(SSL_CERTFILE=str(certs.cert("chat")), SSL_KEYFILE=str(certs.key("agent")))
    message = refused()
    assert "SSL_KEYFILE" in message and "does not match" in message
    assert str(certs.key("agent")) in message and str(certs.cert("chat")) in message
    env(SSL_CERTFILE=str(certs.cert("chat")), SSL_KEYFILE=str(certs.key("chat")),
        OWUI_TLS_CLIENT_CERT=str(certs.cert("gateway")),
        OWUI_TLS_CLIENT_KEY=str(certs.key("chat")))
    assert "OWUI_TLS_CLIENT_KEY" in (message := refused()) and "does not match" in message


def test_half_a_pair(env, certs: CertSet) -> None:
    env(SSL_CERTFILE=str(certs.cert("chat")))
    assert "SSL_KEYFILE: " in (message := refused()) and "set both or neither" in message


def test_an_expired_certificate(env, certs: CertSet, tmp_path: Path) -> None:
    ca_cert, ca_key = load_ca(certs)
    key = new_key()
    past = datetime.now(UTC) - timedelta(days=30)
    expired = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old")]))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(past - timedelta(days=1)).not_valid_after(past)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
               .sign(ca_key, hashes.SHA256()))
    write_cert(tmp_path / "old.pem", expired)
    (tmp_path / "old-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    env(SSL_CERTFILE=str(tmp_path / "old.pem"), SSL_KEYFILE=str(tmp_path / "old-key.pem"))
    assert "SSL_CERTFILE" in (message := refused()) and "expired on" in message


def test_a_plain_http_service_url_while_tls_is_required(env, certs: CertSet) -> None:
    env(OWUI_TLS_CA=str(certs.ca), **{name: "https://chat:8004" for name in URLS})
    env(AGENT_SERVICE_URL="http://agent:8002")
    message = refused()
    assert "AGENT_SERVICE_URL" in message and "http://agent:8002 is plain HTTP" in message
    assert "CHAT_SERVICE_URL" not in message


def test_mutual_tls_without_a_ca_or_a_certificate(env, certs: CertSet) -> None:
    env(OWUI_TLS_REQUIRE_CLIENT_CERT="true")
    assert "OWUI_TLS_REQUIRE_CLIENT_CERT" in (message := refused()) and "OWUI_TLS_CA" in message
    env(OWUI_TLS_CA=str(certs.ca), **{name: "https://x:1" for name in URLS})
    assert "needs SSL_CERTFILE" in refused()


def test_good_settings_and_what_uvicorn_gets(env, certs: CertSet) -> None:
    env(SSL_CERTFILE=str(certs.cert("chat")), SSL_KEYFILE=str(certs.key("chat")),
        OWUI_TLS_CA=str(certs.ca), OWUI_TLS_REQUIRE_CLIENT_CERT="true",
        **{name: "https://127.0.0.1:1" for name in URLS})
    settings = load_settings()
    assert uvicorn_options(settings, "chat")["ssl_cert_reqs"] == 2  # ssl.CERT_REQUIRED
    assert "ssl_cert_reqs" not in uvicorn_options(settings, "gateway")  # the public door
    assert client_context(settings) is not None


def test_the_service_stops_at_start_naming_the_variable(certs: CertSet) -> None:
    env = {**os.environ, "SSL_CERTFILE": str(certs.cert("chat")),
           "SSL_KEYFILE": str(certs.key("inference"))}
    done = subprocess.run([sys.executable, "-m", "owui", "serve", "chat", "--port", "1"],
                          env=env, capture_output=True, text=True, timeout=60)
    # Port 1 is never bound: the settings are read, and refused, before anything else.
    assert done.returncode == 1, done.stderr
    assert "SSL_KEYFILE" in done.stderr and "does not match" in done.stderr
    assert "Traceback" not in done.stderr


def test_owui_certs_writes_a_ca_and_a_pair_per_service(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    result = CliRunner().invoke(app, ["certs", "--dir", str(folder), "--host",
                                      "owui.example.com", "--days", "30"])
    assert result.exit_code == 0, result.output
    made = CertSet(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in NAMES:
        assert stat.S_IMODE(made.key(name).stat().st_mode) == 0o600
        cert = x509.load_pem_x509_certificate(made.cert(name).read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert {name, f"owui-{name}"} <= set(names.get_values_for_type(x509.DNSName))
        assert "localhost" in names.get_values_for_type(x509.DNSName)
        assert ("owui.example.com" in names.get_values_for_type(x509.DNSName)) == (
            name == "gateway")
        assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1",
                                                                               "::1"]
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert set(usage) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert stat.S_IMODE(made.ca_key.stat().st_mode) == 0o600
    ca_before = made.ca.read_bytes()
    again = CliRunner().invoke(app, ["certs", "--dir", str(folder)])
    assert again.exit_code == 0 and "kept the CA" in again.output
    assert made.ca.read_bytes() == ca_before  # what trusts it keeps trusting it
