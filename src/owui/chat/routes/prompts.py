"""`/api/v1/prompts`, as Open WebUI 0.12: the Workspace's prompts page (paged list, tags, create,
edit, toggle, delete, versions) and what the chat input's `/` menu reads (`GET /`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from owui.chat.crud import prompts as rows
from owui.chat.models import Prompt, PromptVersion
from owui.chat.responses import Json
from owui.chat.routes.paging import Page
from owui.chat.workspace import (
    MAX_COMMAND_CHARS,
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    MAX_TAGS,
    SHARING_NOT_SERVED,
    AccessGrantsForm,
    check_bytes,
    check_chars,
    owner,
    private_access,
)
from owui.core.access import current_access, permission_denied
from owui.core.auth import CurrentUser
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims

router = APIRouter(prefix="/api/v1/prompts", tags=["prompts"])
COMMAND = re.compile(r"[\w-]+")
_TAKEN = {409: error_response("You already have a prompt with this command.")}
_NOT_FOUND = not_found_response("No prompt of this id (or not yours).")
MAX_META_BYTES = 256 * 1024


def _command(value: str) -> str:
    command = value.strip().removeprefix("/")
    if not COMMAND.fullmatch(command):
        raise ValueError("a command is letters, digits, '-' and '_' (the '/' is the menu's)")
    if len(command) > MAX_COMMAND_CHARS:
        raise ValueError(f"a command is at most {MAX_COMMAND_CHARS} characters")
    return command


class PromptForm(BaseModel):
    command: str = Field(max_length=MAX_COMMAND_CHARS + 1)
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    content: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)
    access_grants: list[dict[str, Any]] | None = None
    version_id: str | None = None
    commit_message: str | None = Field(None, max_length=MAX_NAME_CHARS)
    is_production: bool | None = True

    _command = field_validator("command")(_command)

    def fields(self) -> rows.Fields:
        check_chars("content", self.content, MAX_PROMPT_CHARS)
        check_bytes("data", self.data, MAX_META_BYTES)
        check_bytes("meta", self.meta, MAX_META_BYTES)
        check_bytes("tags", self.tags, MAX_META_BYTES)
        return rows.Fields(self.command, self.name, self.content, self.data, self.meta,
                           self.tags)


class PromptMetadataForm(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    command: str = Field(max_length=MAX_COMMAND_CHARS + 1)
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)

    _command = field_validator("command")(_command)

    def check(self) -> None:
        check_bytes("tags", self.tags, MAX_META_BYTES)


class PromptVersionUpdateForm(BaseModel):
    version_id: str = Field(max_length=64)


class PromptAccessGrantsForm(AccessGrantsForm):
    pass


async def may_create(request: Request) -> None:
    """Open WebUI's rule for a new prompt: `workspace.prompts`, or `workspace.prompts_import`
    (the Import button makes prompts through create too); admins may."""
    access = current_access(request)
    if not (access.allows("workspace.prompts") or access.allows("workspace.prompts_import")):
        raise permission_denied("workspace.prompts")


def prompt_model(prompt: Prompt) -> dict[str, Any]:
    return {"id": prompt.id, "command": prompt.command, "user_id": prompt.user_id,
            "name": prompt.name, "content": prompt.content, "data": prompt.data,
            "meta": prompt.meta, "tags": prompt.tags or [], "is_active": prompt.is_active,
            "version_id": prompt.version_id, "created_at": prompt.created_at,
            "updated_at": prompt.updated_at, "access_grants": []}


def prompt_access(prompt: Prompt, user: Claims) -> dict[str, Any]:
    return {**prompt_model(prompt), "user": owner(user), "write_access": True}


def version_model(version: PromptVersion) -> dict[str, Any]:
    return {"id": version.id, "prompt_id": version.prompt_id, "parent_id": version.parent_id,
            "snapshot": version.snapshot, "user_id": version.user_id,
            "commit_message": version.commit_message, "created_at": version.created_at}


async def _saved(session: Session, prompt: Prompt) -> Json:
    await session.commit()
    return Json(prompt_model(prompt))


@router.get("/", summary="The `/` menu: the caller's active prompts")
async def list_prompts(session: Session, user: CurrentUser) -> Json:
    return Json([prompt_model(p) for p in await rows.active(session, user.sub)])


@router.get("/tags", response_model=list[str])
async def prompt_tags(session: Session, user: CurrentUser) -> Json:
    return Json(await rows.tags(session, user.sub))


@router.get("/list", summary="The prompts page: 30 a page, with the total")
async def prompt_list(session: Session, user: CurrentUser,
                      query: Annotated[str | None, Query(max_length=500)] = None,
                      view_option: str | None = None, tag: str | None = None,
                      order_by: str | None = None, direction: str | None = None,
                      page: Page = 1) -> Json:
    found, total = await rows.search(session, user.sub, rows.Query(
        query, view_option, tag, order_by, direction), page or 1)
    return Json({"items": [prompt_access(p, user) for p in found], "total": total})


@router.post("/create", responses=_TAKEN, dependencies=[Depends(may_create)])
async def create_prompt(form: PromptForm, session: Session, user: CurrentUser) -> Json:
    prompt = await rows.create(session, user.sub, form.fields(), form.commit_message)
    return await _saved(session, prompt)


@router.get("/id/{prompt_id}", responses=_NOT_FOUND)
async def get_prompt(prompt_id: str, session: Session, user: CurrentUser) -> Json:
    return Json(prompt_access(await rows.require(session, prompt_id, user.sub), user))


@router.post("/id/{prompt_id}/update", responses={**_TAKEN, **_NOT_FOUND})
async def update_prompt(prompt_id: str, form: PromptForm, session: Session,
                        user: CurrentUser) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    await rows.save(session, prompt, form.fields(), user.sub, form.commit_message,
                    form.is_production is not False)
    return await _saved(session, prompt)


@router.post("/id/{prompt_id}/update/meta", responses={**_TAKEN, **_NOT_FOUND})
async def update_prompt_meta(prompt_id: str, form: PromptMetadataForm, session: Session,
                             user: CurrentUser) -> Json:
    form.check()
    prompt = await rows.require(session, prompt_id, user.sub)
    await rows.rename(session, prompt, form.name, form.command, form.tags)
    return await _saved(session, prompt)


@router.post("/id/{prompt_id}/update/version", responses=_NOT_FOUND)
async def set_prompt_version(prompt_id: str, form: PromptVersionUpdateForm, session: Session,
                             user: CurrentUser) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    await rows.make_current(session, prompt, form.version_id)
    return await _saved(session, prompt)


@router.post("/id/{prompt_id}/access/update", responses=_NOT_FOUND, summary=SHARING_NOT_SERVED)
async def update_prompt_access(prompt_id: str, form: PromptAccessGrantsForm, session: Session,
                               user: CurrentUser) -> Json:
    return await private_access("Prompts", form, rows.require(session, prompt_id, user.sub),
                                prompt_model)


@router.post("/id/{prompt_id}/toggle", responses=_NOT_FOUND)
async def toggle_prompt(prompt_id: str, session: Session, user: CurrentUser) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    prompt.is_active = not prompt.is_active
    prompt.updated_at = rows.now()
    return await _saved(session, prompt)


@router.delete("/id/{prompt_id}/delete", response_model=bool, responses=_NOT_FOUND)
async def delete_prompt(prompt_id: str, session: Session, user: CurrentUser) -> Json:
    await rows.remove(session, await rows.require(session, prompt_id, user.sub))
    await session.commit()
    return Json(True)


@router.get("/id/{prompt_id}/history", responses=_NOT_FOUND)
async def prompt_history(prompt_id: str, session: Session, user: CurrentUser,
                         page: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    return Json([{**version_model(v), "user": owner(user)}
                 for v in await rows.versions(session, prompt, page)])


@router.get("/id/{prompt_id}/history/diff", responses=_NOT_FOUND)
async def prompt_diff(prompt_id: str, from_id: str, to_id: str, session: Session,
                      user: CurrentUser) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    return Json(await rows.diff(session, prompt, from_id, to_id))


@router.get("/id/{prompt_id}/history/{history_id}", responses=_NOT_FOUND)
async def prompt_version(prompt_id: str, history_id: str, session: Session,
                         user: CurrentUser) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    return Json(version_model(await rows.version_of(session, prompt, history_id)))


@router.delete("/id/{prompt_id}/history/{history_id}", response_model=bool,
               responses=_NOT_FOUND)
async def delete_prompt_version(prompt_id: str, history_id: str, session: Session,
                                user: CurrentUser) -> Json:
    prompt = await rows.require(session, prompt_id, user.sub)
    await rows.drop_version(session, prompt, history_id)
    await session.commit()
    return Json(True)
