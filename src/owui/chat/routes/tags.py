"""Tags, as Open WebUI: `/all/tags`, chats by tag (`POST /tags`), and a chat's own tags."""

from __future__ import annotations

from fastapi import APIRouter, Request

from owui.chat import reads, writes
from owui.chat.crud.tags import tag_id
from owui.chat.rawdb import Raw, RawConnection
from owui.chat.replies import require_live
from owui.chat.responses import Json
from owui.chat.schemas import ChatTitleIdResponse, TagFilterForm, TagForm, TagModel
from owui.core.access import current_access
from owui.core.auth import CurrentUser
from owui.core.errors import BadRequestError
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["tags"])
TAGGED = "c.id IN (SELECT chat_id FROM chat_tags WHERE user_id = :user_id AND tag_id = :tag)"


def _checked_id(name: str) -> str:
    tag = tag_id(name)
    if not tag or tag == "none":
        raise BadRequestError(f"Tag name {name!r} is not allowed: give a name other than "
                              "'None'.")
    return tag


async def _unlink(conn: RawConnection, chat_id: str, user_id: str, tag: str | None) -> None:
    params = {"chat_id": chat_id, "tag": tag}
    only = " AND tag_id = :tag" if tag is not None else ""

    async def job(writer: RawConnection) -> None:
        await writer.execute(f"DELETE FROM chat_tags WHERE chat_id = :chat_id{only}", params)
        await writes.drop_unused_tags(writer, user_id)
        await writes.touch(writer, chat_id)

    await conn.write(job)


@router.get("/all/tags", response_model=list[TagModel])
async def all_tags(conn: Raw, user: CurrentUser) -> Json:
    return Json(await reads.user_tags(conn, user.sub))


@router.post("/tags", response_model=list[ChatTitleIdResponse])
async def chats_by_tag(form: TagFilterForm, conn: Raw, user: CurrentUser) -> Json:
    return Json(await reads.list_titles(
        conn, user.sub, archived=None, conditions=[TAGGED], params={"tag": tag_id(form.name)},
        offset=form.skip or 0, limit=form.limit or 50))


@router.get("/{id}/tags", response_model=list[TagModel])
async def chat_tags(id: str, conn: Raw, session: Session, request: Request,
                    user: CurrentUser) -> Json:
    if await reads.find_chat(conn, id, user.sub) is None:
        await require_live(session, id, current_access(request))
        return Json([])  # the owner's tags are how they file the chat, not a replier's
    return Json(await reads.user_tags(conn, user.sub, id))


@router.post("/{id}/tags", response_model=list[TagModel])
async def add_tag(id: str, form: TagForm, conn: Raw, user: CurrentUser) -> Json:
    await reads.require_chat(conn, id, user.sub)
    tag = _checked_id(form.name)

    async def job(writer: RawConnection) -> None:
        await writes.add_tags(writer, {(user.sub, tag): form.name.strip()},
                              [(id, tag, user.sub)])
        await writes.touch(writer, id)

    await conn.write(job)
    return Json(await reads.user_tags(conn, user.sub, id))


@router.delete("/{id}/tags", response_model=list[TagModel])
async def remove_tag(id: str, form: TagForm, conn: Raw, user: CurrentUser) -> Json:
    await reads.require_chat(conn, id, user.sub)
    await _unlink(conn, id, user.sub, tag_id(form.name))
    return Json(await reads.user_tags(conn, user.sub, id))


@router.delete("/{id}/tags/all", response_model=bool)
async def remove_all_tags(id: str, conn: Raw, user: CurrentUser) -> Json:
    await reads.require_chat(conn, id, user.sub)
    await _unlink(conn, id, user.sub, None)
    return Json(True)
