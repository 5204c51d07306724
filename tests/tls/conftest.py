"""The five services over HTTPS with mutual TLS between them (the certificates of `owui
certs`), the fake OpenAI provider behind inference; and a second CA that owui does not trust."""

from __future__ import annotations

import ssl
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from owui.cli.certs import CertSet, make_set
from owui.core.services import SERVICES
from tests.support.fullstack import OPENAI_MODELS
from tests.support.procs import Proc, free_port, spawn, start_fake

BACKENDS = ("inference", "retrieval", "agent", "chat")
SECRET = "tls-test-secret-0123456789abcdef0123456789"


def context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A client's context: trusts `ca` only, presents `cert` when given."""
    made = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        made.load_cert_chain(str(cert), str(key))
    return made


@dataclass
class TlsProc:
    proc: Proc

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.proc.port}"


def start_tls_service(name: str, env: dict[str, str], logs: Path, port: int | None = None
                      ) -> TlsProc:
    port = port or free_port()
    proc = spawn([sys.executable, "-m", "owui", "serve", name, "--port", str(port)], name, port,
                 env, logs)
    return TlsProc(proc)


def wait_ready(service: TlsProc, verify: ssl.SSLContext, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc.process.poll() is not None:
            raise RuntimeError(f"{service.proc.name} exited:\n{service.proc.log()[-3000:]}")
        try:
            if httpx.get(f"{service.url}/readyz", verify=verify, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{service.proc.name} not ready:\n{service.proc.log()[-3000:]}")


@dataclass
class TlsStack:
    services: dict[str, TlsProc]
    certs: CertSet
    other: CertSet  # a CA owui does not trust, with certificates of the same names
    env: dict[str, str]

    def url(self, name: str) -> str:
        return self.services[name].url

    def trusted(self, as_service: str | None = None) -> ssl.SSLContext:
        """A client trusting our CA, presenting `as_service`'s certificate if named."""
        if as_service is None:
            return context(self.certs.ca)
        return context(self.certs.ca, self.certs.cert(as_service), self.certs.key(as_service))


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsStack]:
    logs = tmp_path_factory.mktemp("tls-logs")
    data = tmp_path_factory.mktemp("tls-data")
    certs = CertSet(tmp_path_factory.mktemp("tls-certs"))
    make_set(certs)
    other = CertSet(tmp_path_factory.mktemp("tls-other"))
    make_set(other)
    started: list[Proc] = []
    try:
        openai = start_fake("openai", "tls-openai", {"FAKE_MODELS": OPENAI_MODELS}, logs)
        started.append(openai)
        ports = {s.name: free_port() for s in SERVICES}
        env = {"JWT_SECRET_KEY": SECRET, "OWUI_LOG_FORMAT": "text",
               "ENABLE_OLLAMA_API": "false", "OPENAI_API_BASE_URLS": f"{openai.url}/v1",
               "OPENAI_API_KEYS": "sk-fake", "EMBEDDING_ENGINE": "openai",
               "EMBEDDING_MODEL": "text-embedding-fake",
               "RATE_LIMIT": "1000000/minute", "SIGNIN_RATE_LIMIT": "1000000/minute",
               "OWUI_TLS_REQUIRE_CLIENT_CERT": "true",
               **{s.url_variable: f"https://127.0.0.1:{ports[s.name]}"
                  for s in SERVICES if s.url_variable}}
        services: dict[str, TlsProc] = {}
        for name in (*BACKENDS, "gateway"):
            services[name] = start_tls_service(
                name, {**env, **certs.service_env(name), "OWUI_DATA_DIR": str(data / name)},
                logs, port=ports[name])
            started.append(services[name].proc)
        for name, service in services.items():
            wait_ready(service, context(certs.ca, certs.cert(name), certs.key(name)))
        yield TlsStack(services, certs, other, env)
    finally:
        for proc in reversed(started):
            proc.stop()
