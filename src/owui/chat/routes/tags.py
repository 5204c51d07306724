"""Tags, as Open WebUI: `/all/tags`, chats by tag (`POST /tags`), and a chat's own tags."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from owui.chat.crud import chats as chat_rows
from owui.chat.crud import tags as tag_rows
from owui.chat.crud.tags import tag_id
from owui.chat.models import Chat, ChatTag
from owui.chat.responses import Json
from owui.chat.schemas import ChatTitleIdResponse, TagFilterForm, TagForm, TagModel
from owui.chat.views import tag_model
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["tags"])


async def _chat_tags(session: Session, chat_id: str, user_id: str) -> Json:
    rows = await tag_rows.of_chat(session, chat_id, user_id)
    return Json([tag_model(user_id, r.id, r.name, r.meta) for r in rows])


def _checked_id(name: str) -> str:
    tag = tag_id(name)
    if not tag or tag == "none":
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"Tag name {name!r} is not allowed: give a name other than 'None'.")
    return tag


@router.get("/all/tags", response_model=list[TagModel])
async def all_tags(session: Session, user: CurrentUser) -> Json:
    rows = await tag_rows.of_user(session, user.sub)
    return Json([tag_model(user.sub, r.id, r.name, r.meta) for r in rows])


@router.post("/tags", response_model=list[ChatTitleIdResponse])
async def chats_by_tag(form: TagFilterForm, session: Session, user: CurrentUser) -> Json:
    tagged = select(ChatTag.chat_id).where(ChatTag.user_id == user.sub,
                                           ChatTag.tag_id == tag_id(form.name))
    return Json(await chat_rows.list_titles(session, user.sub, Chat.id.in_(tagged),
                                            archived=None, offset=form.skip or 0,
                                            limit=form.limit or 50))


@router.get("/{id}/tags", response_model=list[TagModel])
async def chat_tags(id: str, session: Session, user: CurrentUser) -> Json:
    await chat_rows.require_chat(session, id, user.sub)
    return await _chat_tags(session, id, user.sub)


@router.post("/{id}/tags", response_model=list[TagModel])
async def add_tag(id: str, form: TagForm, session: Session, user: CurrentUser) -> Json:
    await chat_rows.require_chat(session, id, user.sub)
    tag = _checked_id(form.name)
    await tag_rows.ensure(session, user.sub, {tag: form.name.strip()})
    await tag_rows.link(session, [{"chat_id": id, "tag_id": tag, "user_id": user.sub}])
    await chat_rows.touch(session, id)
    await session.commit()
    return await _chat_tags(session, id, user.sub)


@router.delete("/{id}/tags", response_model=list[TagModel])
async def remove_tag(id: str, form: TagForm, session: Session, user: CurrentUser) -> Json:
    await chat_rows.require_chat(session, id, user.sub)
    await tag_rows.unlink(session, id, [tag_id(form.name)])
    await tag_rows.drop_unused(session, user.sub)
    await chat_rows.touch(session, id)
    await session.commit()
    return await _chat_tags(session, id, user.sub)


@router.delete("/{id}/tags/all", response_model=bool)
async def remove_all_tags(id: str, session: Session, user: CurrentUser) -> Json:
    await chat_rows.require_chat(session, id, user.sub)
    await tag_rows.unlink(session, id, None)
    await tag_rows.drop_unused(session, user.sub)
    await session.commit()
    return Json(True)
