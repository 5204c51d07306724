"""`/api/v1/evaluations/feedback*`: the caller's ratings of answers (the thumbs and the comment
under an answer in Open WebUI's web app), in Open WebUI's shapes. Owned by the chat service,
which holds the rated messages (crud/feedback.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from owui.chat.crud import feedback as feedback_rows
from owui.chat.errors import TooLarge
from owui.chat.responses import Json, dumps
from owui.chat.schemas import JsonObject
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/evaluations", tags=["evaluations"])
PAGE_SIZE = 30  # Open WebUI's feedback pages
MAX_FEEDBACK_BYTES = 8 * 1024 * 1024  # the snapshot holds the whole chat


class RatingData(BaseModel):
    model_config = ConfigDict(extra="allow")

    rating: str | int | None = None
    model_id: str | None = None
    sibling_model_ids: list[str] | None = None
    reason: str | None = None
    comment: str | None = None


class FeedbackForm(BaseModel):
    type: str = Field(min_length=1, max_length=64)
    data: RatingData | None = None
    meta: JsonObject | None = None
    snapshot: JsonObject | None = None

    def stored(self) -> dict[str, Any]:
        """What is stored, checked for size before anything is."""
        form = self.model_dump(exclude_none=False)
        size = len(dumps(form))
        if size > MAX_FEEDBACK_BYTES:
            raise TooLarge("feedback", size, MAX_FEEDBACK_BYTES, "bytes")
        return form


@router.post("/feedback", response_model=JsonObject)
async def create_feedback(form: FeedbackForm, session: Session, user: CurrentUser) -> Json:
    """A rating of one of the caller's answers (`meta.chat_id`, `meta.message_id`): 404 for a
    chat or message not theirs, and then nothing is stored."""
    row = await feedback_rows.create(session, user.sub, form.stored())
    await session.commit()
    return Json(feedback_rows.feedback_model(row))


@router.get("/feedback/{id}", response_model=JsonObject)
async def get_feedback(id: str, session: Session, user: CurrentUser) -> Json:
    return Json(feedback_rows.feedback_model(await feedback_rows.require(session, id, user.sub)))


@router.post("/feedback/{id}", response_model=JsonObject)
async def update_feedback(id: str, form: FeedbackForm, session: Session,
                          user: CurrentUser) -> Json:
    row = await feedback_rows.require(session, id, user.sub)
    await feedback_rows.update(session, row, form.stored())
    await session.commit()
    return Json(feedback_rows.feedback_model(row))


@router.delete("/feedback/{id}", response_model=bool)
async def delete_feedback(id: str, session: Session, user: CurrentUser) -> Json:
    if not await feedback_rows.delete_mine(session, user.sub, id):
        raise feedback_rows.FeedbackNotFound(id)
    await session.commit()
    return Json(True)


@router.get("/feedbacks/user", response_model=JsonObject)
async def my_feedbacks(session: Session, user: CurrentUser,
                       page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Json:
    """Open WebUI's FeedbackListResponse, newest first, 30 a page. `user` is null: the chat
    service knows accounts by id only."""
    rows, total = await feedback_rows.list_mine(session, user.sub, (page - 1) * PAGE_SIZE,
                                                PAGE_SIZE)
    items = [{**{k: v for k, v in feedback_rows.feedback_model(r).items() if k != "snapshot"},
              "user": None} for r in rows]
    return Json({"items": items, "total": total})


@router.delete("/feedbacks", response_model=bool)
async def delete_my_feedbacks(session: Session, user: CurrentUser) -> Json:
    """True if the caller had any."""
    deleted = await feedback_rows.delete_mine(session, user.sub, None)
    await session.commit()
    return Json(deleted > 0)
