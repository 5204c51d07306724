"""Ratings of answers (`/api/v1/evaluations/feedback`), stored as Open WebUI stores them: a
feedback row (type, data = the message's annotation with the model ids, meta naming the chat and
message, snapshot = the chat when rated), and on the rated message its `annotation` and
`feedbackId`, so that reopening the chat shows the rating.

A rating names one of the caller's own chats and a message in it (else 404, nothing stored); a
temporary chat (`temporary:...`, never stored) has no message to hold it, so only the row is kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.errors import ChatNotFound, MessageNotFound
from owui.chat.models import Chat, Feedback, Message, new_id, now
from owui.chat.temporary import is_temporary
from owui.core.errors import NotFoundError

# Open WebUI's RatingData fields that say which models were rated, not how.
MODEL_KEYS = ("model_id", "sibling_model_ids")


class FeedbackNotFound(NotFoundError):
    def __init__(self, feedback_id: str) -> None:
        super().__init__(f"No feedback {feedback_id!r}.")


def feedback_model(row: Feedback) -> dict[str, Any]:
    """Open WebUI's FeedbackModel."""
    return {"id": row.id, "user_id": row.user_id, "version": row.version, "type": row.type,
            "data": row.data, "meta": row.meta, "snapshot": row.snapshot,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _target(meta: dict[str, Any] | None) -> tuple[str | None, str | None]:
    meta = meta or {}
    chat_id, message_id = meta.get("chat_id"), meta.get("message_id")
    return (chat_id if isinstance(chat_id, str) and chat_id else None,
            message_id if isinstance(message_id, str) and message_id else None)


async def _rated_message(session: AsyncSession, user_id: str, chat_id: str | None,
                         message_id: str | None) -> Message | None:
    """The message a rating names, in one of the caller's chats; None for a temporary chat or
    a rating that names none."""
    if chat_id is None or is_temporary(chat_id):
        return None
    owned = await session.scalar(select(Chat.id).where(Chat.id == chat_id,
                                                       Chat.user_id == user_id))
    if owned is None:
        raise ChatNotFound(chat_id)
    if message_id is None:
        return None
    message = await session.scalar(select(Message).where(Message.chat_id == chat_id,
                                                         Message.id == message_id))
    if message is None:
        raise MessageNotFound(chat_id, message_id)
    return message


def _annotate(message: Message | None, feedback: Feedback) -> None:
    if message is None:
        return
    annotation = {k: v for k, v in (feedback.data or {}).items() if k not in MODEL_KEYS}
    message.extra = {**(message.extra or {}), "annotation": annotation,
                     "feedbackId": feedback.id}
    message.updated_at = now()


async def create(session: AsyncSession, user_id: str, form: dict[str, Any]) -> Feedback:
    chat_id, message_id = _target(form.get("meta"))
    message = await _rated_message(session, user_id, chat_id, message_id)
    stamp = now()
    row = Feedback(id=new_id(), user_id=user_id, version=0, type=form["type"],
                   data=form.get("data"), meta=form.get("meta"), snapshot=form.get("snapshot"),
                   chat_id=chat_id, message_id=message_id, created_at=stamp, updated_at=stamp)
    session.add(row)
    _annotate(message, row)
    return row


async def require(session: AsyncSession, feedback_id: str, user_id: str) -> Feedback:
    row = await session.scalar(select(Feedback).where(Feedback.id == feedback_id,
                                                      Feedback.user_id == user_id))
    if row is None:
        raise FeedbackNotFound(feedback_id)
    return row


async def update(session: AsyncSession, row: Feedback, form: dict[str, Any]) -> Feedback:
    """As Open WebUI: the data, meta and snapshot sent replace the stored ones."""
    if form.get("meta"):
        chat_id, message_id = _target(form["meta"])
        message = await _rated_message(session, row.user_id, chat_id, message_id)
        row.meta, row.chat_id, row.message_id = form["meta"], chat_id, message_id
    else:
        message = await _rated_message(session, row.user_id, row.chat_id, row.message_id)
    if form.get("data"):
        row.data = form["data"]
    if form.get("snapshot"):
        row.snapshot = form["snapshot"]
    row.updated_at = now()
    _annotate(message, row)
    return row


async def list_mine(session: AsyncSession, user_id: str, offset: int, limit: int
                    ) -> tuple[list[Feedback], int]:
    where = Feedback.user_id == user_id
    total = int(await session.scalar(select(func.count()).where(where)) or 0)
    rows = await session.scalars(select(Feedback).where(where)
                                 .order_by(Feedback.updated_at.desc(), Feedback.id)
                                 .offset(offset).limit(limit))
    return list(rows), total


async def delete_mine(session: AsyncSession, user_id: str, feedback_id: str | None) -> int:
    statement = delete(Feedback).where(Feedback.user_id == user_id)
    if feedback_id is not None:
        statement = statement.where(Feedback.id == feedback_id)
    return int((await session.execute(statement)).rowcount or 0)
