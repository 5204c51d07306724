"""The agent's settings an admin changes at run time (owui.core.live_config): the task settings
(Admin Panel > Settings > Interface: task model, which tasks run, their prompts) and the code
execution settings (Admin Panel > Settings > Code Execution), under Open WebUI's names. The
environment gives their first values."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from owui.agent.models import LIVE_CONFIG
from owui.core.config import Settings
from owui.core.db import Database
from owui.core.live_config import LiveConfig

# "jupyter" is how Open WebUI's web app knows the code runs on the server (its "Run" button
# and code interpreter then call /api/v1/utils/code/execute); owui's server engine is its own
# sandbox, not a Jupyter server, and the Jupyter fields are kept only as the app sends them.
SERVER_ENGINE = "jupyter"
ENGINES = ("jupyter", "pyodide")


class TaskConfigForm(BaseModel):
    """Open WebUI's TaskConfigForm."""

    model_config = ConfigDict(extra="forbid")

    TASK_MODEL: str | None = None
    TASK_MODEL_EXTERNAL: str | None = None
    TASK_MODEL_PARAMS: dict[str, Any] | None = None
    ENABLE_TITLE_GENERATION: bool
    TITLE_GENERATION_PROMPT_TEMPLATE: str
    IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE: str
    ENABLE_AUTOCOMPLETE_GENERATION: bool
    AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH: int | None = None
    AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE: str
    TAGS_GENERATION_PROMPT_TEMPLATE: str
    FOLLOW_UP_GENERATION_PROMPT_TEMPLATE: str
    ENABLE_FOLLOW_UP_GENERATION: bool
    ENABLE_TAGS_GENERATION: bool
    ENABLE_SEARCH_QUERY_GENERATION: bool
    ENABLE_RETRIEVAL_QUERY_GENERATION: bool
    QUERY_GENERATION_PROMPT_TEMPLATE: str
    TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE: str
    ENABLE_VOICE_MODE_PROMPT: bool
    VOICE_MODE_PROMPT_TEMPLATE: str | None = None


class CodeExecutionConfigForm(BaseModel):
    """Open WebUI's CodeInterpreterConfigForm."""

    model_config = ConfigDict(extra="forbid")

    ENABLE_CODE_EXECUTION: bool
    CODE_EXECUTION_ENGINE: str = Field(pattern="^(jupyter|pyodide)$")
    CODE_EXECUTION_JUPYTER_URL: str | None = None
    CODE_EXECUTION_JUPYTER_AUTH: str | None = None
    CODE_EXECUTION_JUPYTER_AUTH_TOKEN: str | None = None
    CODE_EXECUTION_JUPYTER_AUTH_PASSWORD: str | None = None
    CODE_EXECUTION_JUPYTER_TIMEOUT: int | None = Field(default=None, gt=0, le=3600)
    ENABLE_CODE_INTERPRETER: bool
    CODE_INTERPRETER_ENGINE: str = Field(pattern="^(jupyter|pyodide)$")
    CODE_INTERPRETER_PROMPT_TEMPLATE: str | None = None
    CODE_INTERPRETER_JUPYTER_URL: str | None = None
    CODE_INTERPRETER_JUPYTER_AUTH: str | None = None
    CODE_INTERPRETER_JUPYTER_AUTH_TOKEN: str | None = None
    CODE_INTERPRETER_JUPYTER_AUTH_PASSWORD: str | None = None
    CODE_INTERPRETER_JUPYTER_TIMEOUT: int | None = Field(default=None, gt=0, le=3600)


AUTOCOMPLETE_INPUT_MAX_LENGTH = -1  # no limit, as Open WebUI's default


def task_defaults(settings: Settings) -> dict[str, Any]:
    return {"TASK_MODEL": settings.task_model or "", "TASK_MODEL_EXTERNAL": "",
            "TASK_MODEL_PARAMS": {}, "ENABLE_TITLE_GENERATION": True,
            "TITLE_GENERATION_PROMPT_TEMPLATE": "",
            "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE": "",
            "ENABLE_AUTOCOMPLETE_GENERATION": True,
            "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": AUTOCOMPLETE_INPUT_MAX_LENGTH,
            "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE": "",
            "TAGS_GENERATION_PROMPT_TEMPLATE": "", "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE": "",
            "ENABLE_FOLLOW_UP_GENERATION": True, "ENABLE_TAGS_GENERATION": True,
            "ENABLE_SEARCH_QUERY_GENERATION": True, "ENABLE_RETRIEVAL_QUERY_GENERATION": True,
            "QUERY_GENERATION_PROMPT_TEMPLATE": "", "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE": "",
            "ENABLE_VOICE_MODE_PROMPT": True, "VOICE_MODE_PROMPT_TEMPLATE": ""}


def code_defaults(settings: Settings) -> dict[str, Any]:
    timeout = int(settings.code_execution_timeout)
    jupyter = {"URL": "", "AUTH": "", "AUTH_TOKEN": "", "AUTH_PASSWORD": "", "TIMEOUT": timeout}
    return {"ENABLE_CODE_EXECUTION": settings.enable_code_execution,
            "CODE_EXECUTION_ENGINE": SERVER_ENGINE,
            **{f"CODE_EXECUTION_JUPYTER_{k}": v for k, v in jupyter.items()},
            "ENABLE_CODE_INTERPRETER": settings.enable_code_execution,
            "CODE_INTERPRETER_ENGINE": SERVER_ENGINE, "CODE_INTERPRETER_PROMPT_TEMPLATE": "",
            **{f"CODE_INTERPRETER_JUPYTER_{k}": v for k, v in jupyter.items()}}


TASK_KEYS = tuple(TaskConfigForm.model_fields)
CODE_KEYS = tuple(CodeExecutionConfigForm.model_fields)


def live_config(db: Database, settings: Settings) -> LiveConfig:
    return LiveConfig(db, LIVE_CONFIG, {**task_defaults(settings), **code_defaults(settings)})


def part(config: LiveConfig, keys: tuple[str, ...]) -> dict[str, Any]:
    values = config.snapshot()
    return {key: values[key] for key in keys}


async def update_tasks(config: LiveConfig, form: TaskConfigForm) -> dict[str, Any]:
    values = form.model_dump()
    if values["AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH"] is None:
        values["AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH"] = AUTOCOMPLETE_INPUT_MAX_LENGTH
    if values["TASK_MODEL_PARAMS"] is None:
        values["TASK_MODEL_PARAMS"] = {}
    await config.update(values)
    return part(config, TASK_KEYS)


async def update_code(config: LiveConfig, form: CodeExecutionConfigForm) -> dict[str, Any]:
    await config.update(form.model_dump())
    return part(config, CODE_KEYS)


def public_code(config: LiveConfig) -> dict[str, Any]:
    """What every signed-in page needs to know (Open WebUI's /api/config `code` and the two
    feature switches): whether code runs, and where."""
    return {"engine": config["CODE_EXECUTION_ENGINE"],
            "interpreter_engine": config["CODE_INTERPRETER_ENGINE"],
            "enable_code_execution": config["ENABLE_CODE_EXECUTION"],
            "enable_code_interpreter": config["ENABLE_CODE_INTERPRETER"]}
