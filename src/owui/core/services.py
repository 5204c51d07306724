"""The five services: names, default ports and the path prefixes the gateway routes to each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    port: int
    url_variable: str | None
    prefixes: tuple[str, ...]


SERVICES: tuple[Service, ...] = (
    Service("gateway", 8000, None, ("/api/v1/auths", "/api/v1/users")),
    Service("inference", 8001, "INFERENCE_SERVICE_URL",
            ("/api/v1/inference", "/ollama", "/openai", "/api/models", "/api/v1/models",
             "/api/v1/chat/completions", "/api/v1/embeddings", "/api/embeddings",
             "/api/v1/messages", "/api/message")),
    Service("agent", 8002, "AGENT_SERVICE_URL",
            ("/api/v1/agents", "/api/v1/tools", "/api/v1/functions", "/api/v1/tasks",
             "/api/v1/utils/code", "/api/v1/pipelines", "/api/chat/actions",
             "/api/v1/configs/code_execution")),
    Service("retrieval", 8003, "RETRIEVAL_SERVICE_URL",
            ("/api/v1/retrieval", "/api/v1/files", "/api/v1/knowledge")),
    Service("chat", 8004, "CHAT_SERVICE_URL",
            ("/api/v1/chats", "/api/v1/folders", "/api/v1/users/user/settings",
             "/api/chat/completions", "/api/tasks", "/api/v1/notes", "/ws/socket.io",
             "/api/v1/prompts", "/api/v1/memories", "/api/v1/evaluations",
             "/api/chat/completed", "/api/v1/search", "/api/v1/skills", "/api/v1/channels")),
)

BY_NAME: dict[str, Service] = {s.name: s for s in SERVICES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
