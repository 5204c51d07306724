"""The five services with metrics and tracing on, exporting to a stand-in OTLP collector
(tests/fakes/otlp.py), with the fake OpenAI provider; the gateway's metrics on a port of its
own (OWUI_METRICS_PORT)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from owui.core.services import SERVICES
from tests.conftest import bearer, signup
from tests.support.fullstack import OPENAI_MODELS
from tests.support.procs import Proc, free_port, start_fake, start_service

BACKENDS = ("inference", "retrieval", "agent", "chat")


@dataclass
class Observed:
    services: dict[str, Proc]
    collector: Proc
    metrics_port: int
    token: str

    def url(self, name: str) -> str:
        return self.services[name].url


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    logs = tmp_path_factory.mktemp("observed-logs")
    data = tmp_path_factory.mktemp("observed-data")
    started: list[Proc] = []
    try:
        collector = start_fake("otlp", "otlp", {}, logs)
        started.append(collector)
        openai = start_fake("openai", "observed-openai", {"FAKE_MODELS": OPENAI_MODELS}, logs)
        started.append(openai)
        ports = {s.name: free_port() for s in SERVICES}
        metrics_port = free_port()
        env = {"JWT_SECRET_KEY": "observability-test-secret-0123456789abcdef",
               "OWUI_LOG_FORMAT": "json", "ENABLE_OLLAMA_API": "false",
               "OPENAI_API_BASE_URLS": f"{openai.url}/v1", "OPENAI_API_KEYS": "sk-fake",
               "EMBEDDING_ENGINE": "openai", "EMBEDDING_MODEL": "text-embedding-fake",
               "RATE_LIMIT": "1000000/minute", "SIGNIN_RATE_LIMIT": "1000000/minute",
               "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
               **{s.url_variable: f"http://127.0.0.1:{ports[s.name]}"
                  for s in SERVICES if s.url_variable}}
        services: dict[str, Proc] = {}
        for name in (*BACKENDS, "gateway"):
            extra = {"OWUI_METRICS_PORT": str(metrics_port)} if name == "gateway" else {}
            services[name] = start_service(
                name, {**env, **extra, "OWUI_DATA_DIR": str(data / name)}, logs,
                port=ports[name], wait=False)
            started.append(services[name])
        for proc in services.values():
            proc.wait_ready(timeout=120)
        account = signup(services["gateway"].url, name="Watcher", email="watcher@obs.test")
        yield Observed(services, collector, metrics_port, str(account["token"]))
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture(scope="module")
def client(observed: Observed) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=observed.url("gateway"), headers=bearer(observed.token),
                      timeout=60) as http:
        yield http
