"""Open WebUI's integration paths (the `embeddings / completions / messages` rows): OpenAI's
chat completions and embeddings at `/api/v1/*` and `/api/embeddings`, and Anthropic's
Messages at `/api/v1/messages` and `/api/message` with `count_tokens`, answered by the stand-in
OpenAI provider. Open WebUI's document gives none of them a schema: the shapes are the
protocols' own (OpenAI's and Anthropic's API references)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Shape
from tests.webapp.world import MODEL, World

OPENAI = "OpenAI's API reference (chat.completion, embeddings list)"
ANTHROPIC = "Anthropic's Messages API reference (message, count_tokens)"
CHAT_COMPLETION = {"id": "", "object": "chat.completion", "created": 0, "model": "",
                   "choices": [{"index": 0, "message": {"role": "", "content": ""},
                                "finish_reason": ""}],
                   "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
EMBEDDINGS = {"object": "list", "model": "",
              "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}]}
MESSAGE = {"id": "", "type": "message", "role": "", "model": "",
           "content": [{"type": "text", "text": ""}], "stop_reason": "", "stop_sequence": None,
           "usage": {"input_tokens": 0, "output_tokens": 0}}
COUNTED = {"input_tokens": 0}
HI = [{"role": "user", "content": "hi"}]


def post(path: str, body: object) -> Callable[[World], httpx.Response]:
    return lambda world: world.client.post(path, headers=world.bearer(), json=body)


CHAT = {"model": MODEL, "messages": HI, "max_tokens": 2}
EMBED = {"model": "text-embedding-fake", "input": ["a", "b"]}
ASK = {"model": MODEL, "max_tokens": 2, "messages": HI, "system": "Be brief."}
COUNT = {"model": MODEL, "messages": HI}

OPERATIONS: list[Operation] = [
    Operation("POST", "/api/v1/chat/completions", "inference",
              Shape(CHAT_COMPLETION, OPENAI), post("/api/v1/chat/completions", CHAT)),
    *[Operation("POST", path, "inference", Shape(EMBEDDINGS, OPENAI), post(path, EMBED))
      for path in ("/api/v1/embeddings", "/api/embeddings")],
    *[Operation("POST", path, "inference", Shape(shape, ANTHROPIC), post(path, body))
      for base in ("/api/v1/messages", "/api/message")
      for path, shape, body in ((base, MESSAGE, ASK), (f"{base}/count_tokens", COUNTED, COUNT))],
]
