"""The tasks the web app asks the server for (Open WebUI's `/api/v1/tasks/*`: title, tags,
follow-ups, queries, image prompt, autocompletion, emoji, merged answers, and their settings),
the code block's Run (`/api/v1/utils/code/execute`) and the code execution settings
(`/api/v1/configs/code_execution`, served by the agent service), against Open WebUI's answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import MODEL, World, get, ok

COMPLETION = {"id": "", "object": "", "created": 0, "model": "",
              "choices": [{"index": 0, "message": {"role": "", "content": ""}}]}
SOURCE = ("Open WebUI's tasks answer the task model's chat completion "
          "(generate_chat_completion, not streamed)")
CHAT = [{"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": "Sunny."}]
TASK_CONFIG = {"TASK_MODEL": "", "TASK_MODEL_EXTERNAL": "", "TASK_MODEL_PARAMS": {},
               "ENABLE_TITLE_GENERATION": True, "TITLE_GENERATION_PROMPT_TEMPLATE": "",
               "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE": "",
               "ENABLE_AUTOCOMPLETE_GENERATION": True,
               "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": 0,
               "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE": "",
               "TAGS_GENERATION_PROMPT_TEMPLATE": "", "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE": "",
               "ENABLE_FOLLOW_UP_GENERATION": True, "ENABLE_TAGS_GENERATION": True,
               "ENABLE_SEARCH_QUERY_GENERATION": True, "ENABLE_RETRIEVAL_QUERY_GENERATION": True,
               "QUERY_GENERATION_PROMPT_TEMPLATE": "", "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE": "",
               "ENABLE_VOICE_MODE_PROMPT": True}
CONFIG_SOURCE = "Open WebUI's get_task_config (TASK_CONFIG_KEYS, as TaskConfigForm)"


def task(kind: str, **body: object) -> Callable[[World], httpx.Response]:
    return lambda w: w.client.post(f"/api/v1/tasks/{kind}/completions", headers=w.bearer(),
                                   json={"model": MODEL, "chat_id": w.chat_id, **body})


def _update_task_config(world: World) -> httpx.Response:
    current = ok(world.client.get("/api/v1/tasks/config", headers=world.bearer()))
    return world.client.post("/api/v1/tasks/config/update", headers=world.bearer(),
                             json={**current, "ENABLE_AUTOCOMPLETE_GENERATION": True})


def _update_code_config(world: World) -> httpx.Response:
    current = ok(world.client.get("/api/v1/configs/code_execution", headers=world.bearer()))
    return world.client.post("/api/v1/configs/code_execution", headers=world.bearer(),
                             json=current)


OPERATIONS: list[Operation] = [
    Operation("POST", "/api/v1/tasks/title/completions", "agent", Shape(COMPLETION, SOURCE),
              task("title", messages=CHAT)),
    Operation("POST", "/api/v1/tasks/tags/completions", "agent", Shape(COMPLETION, SOURCE),
              task("tags", messages=CHAT)),
    Operation("POST", "/api/v1/tasks/follow_up/completions", "agent",
              Shape(COMPLETION, SOURCE), task("follow_up", messages=CHAT)),
    Operation("POST", "/api/v1/tasks/queries/completions", "agent", Shape(COMPLETION, SOURCE),
              task("queries", messages=CHAT, type="web_search")),
    Operation("POST", "/api/v1/tasks/image_prompt/completions", "agent",
              Shape(COMPLETION, SOURCE), task("image_prompt", messages=CHAT)),
    Operation("POST", "/api/v1/tasks/auto/completions", "agent", Shape(COMPLETION, SOURCE),
              task("auto", prompt="What is the wea", type="search query", messages=CHAT)),
    Operation("POST", "/api/v1/tasks/emoji/completions", "agent", Shape(COMPLETION, SOURCE),
              task("emoji", prompt="I am so happy today")),
    Operation("POST", "/api/v1/tasks/moa/completions", "agent", Shape(COMPLETION, SOURCE),
              task("moa", prompt="Why is the sky blue?", stream=False,
                   responses=["Rayleigh scattering.", "Because of the air."])),
    Operation("POST", "/api/v1/tasks/title/completions", "agent",
              Shape({"detail": ""}, "HTTPException detail"),
              lambda w: w.client.post("/api/v1/tasks/title/completions", headers=w.bearer(),
                                      json={"model": MODEL}),
              label="no messages", status=422),
    Operation("GET", "/api/v1/tasks/config", "agent", Shape(TASK_CONFIG, CONFIG_SOURCE),
              get("/api/v1/tasks/config")),
    Operation("POST", "/api/v1/tasks/config/update", "agent", Shape(TASK_CONFIG, CONFIG_SOURCE),
              _update_task_config),
    Operation("POST", "/api/v1/utils/code/execute", "agent",
              Shape({"stdout": "", "stderr": "", "result": ""},
                    "Open WebUI's Jupyter engine answer (stdout, stderr, result)"),
              lambda w: w.client.post("/api/v1/utils/code/execute", headers=w.bearer(),
                                      json={"code": "print('hi')\n6 * 7"})),
    Operation("GET", "/api/v1/configs/code_execution", "agent", Schema(),
              get("/api/v1/configs/code_execution")),
    Operation("POST", "/api/v1/configs/code_execution", "agent", Schema(),
              _update_code_config),
]
