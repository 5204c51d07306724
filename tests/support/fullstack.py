"""All five real services behind a gateway, each told where the others are, with fake providers
(OpenAI and Ollama protocols) and a fake web search engine standing in for the outside world."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from owui.core.services import SERVICES
from tests.support.procs import Proc, free_port, start_fake, start_service

OPENAI_MODELS = "gpt-fake;gpt-fake-echo;gpt-fake-agent;text-embedding-fake"
OLLAMA_MODELS = "llama-fake:latest;embed-fake:latest"
BACKENDS = ("inference", "retrieval", "agent", "chat")


@dataclass
class FullStack:
    services: dict[str, Proc]
    fakes: dict[str, Proc]
    env: dict[str, str]

    @property
    def gateway(self) -> str:
        return self.services["gateway"].url

    def url(self, name: str) -> str:
        return self.services[name].url


@contextmanager
def full_stack(secret: str, data_dir: Path, log_dir: Path, openai_env: dict[str, str] | None = None,
               **extra_env: str) -> Iterator[FullStack]:
    """Every service up and ready; all stopped on the way out, whatever happened.
    `openai_env` adds switches to the fake OpenAI provider (tests/fakes/openai.py)."""
    started: list[Proc] = []
    try:
        openai = {"FAKE_MODELS": OPENAI_MODELS, **(openai_env or {})}
        fakes = {"openai": start_fake("openai", "full-openai", openai, log_dir),
                 "ollama": start_fake("ollama", "full-ollama", {"FAKE_MODELS": OLLAMA_MODELS},
                                      log_dir),
                 "websearch": start_fake("websearch", "full-websearch", {}, log_dir)}
        started += fakes.values()
        ports = {s.name: free_port() for s in SERVICES}
        env = {"JWT_SECRET_KEY": secret, "OWUI_LOG_FORMAT": "text",
               "OLLAMA_BASE_URLS": fakes["ollama"].url,
               "OPENAI_API_BASE_URLS": f"{fakes['openai'].url}/v1",
               "EMBEDDING_ENGINE": "openai", "EMBEDDING_MODEL": "text-embedding-fake",
               "WEB_SEARCH_ENGINE": "searxng",
               "SEARXNG_QUERY_URL": f"{fakes['websearch'].url}/search",
               "RATE_LIMIT": "1000000/minute", "SIGNIN_RATE_LIMIT": "1000000/minute",
               "MODEL_RATE_LIMIT": "1000000/minute", "UPLOAD_RATE_LIMIT": "1000000/minute",
               "SEARCH_RATE_LIMIT": "1000000/minute",
               **{s.url_variable: f"http://127.0.0.1:{ports[s.name]}"
                  for s in SERVICES if s.url_variable}, **extra_env}
        services: dict[str, Proc] = {}
        for name in (*BACKENDS, "gateway"):
            services[name] = start_service(
                name, {**env, "OWUI_DATA_DIR": str(data_dir / name)}, log_dir,
                port=ports[name], wait=False)
            started.append(services[name])
        for proc in services.values():
            proc.wait_ready(timeout=90)
        yield FullStack(services, fakes, env)
    finally:
        for proc in reversed(started):
            proc.stop()
