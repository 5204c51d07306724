"""Export and import in Open WebUI's format: `GET /all` streams one ChatResponse per line
(NDJSON, as Open WebUI 0.12); `POST /import` takes `{"chats": [...]}` and stores all or nothing."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from owui.chat import reads, transfer
from owui.chat.rawdb import Raw
from owui.chat.responses import ndjson
from owui.chat.routes.chats import IMPORT_CHATS
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import ChatResponse, ChatsImportForm
from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/chats", tags=["import and export"])


@router.get("/all", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "One ChatResponse per line, every chat of the "
                                            "caller's, archived ones too."}})
async def export_chats(runtime: RuntimeDep, user: CurrentUser) -> StreamingResponse:
    return ndjson(reads.batches(runtime.raw, "c.user_id = :user_id",
                                {"user_id": user.sub}))


@router.post("/import", response_model=list[ChatResponse], dependencies=[IMPORT_CHATS])
async def import_chats(form: ChatsImportForm, conn: Raw, user: CurrentUser) -> Response:
    """Message trees, tags, pins, archive flags and times as exported; new chat ids."""
    return Response(await transfer.import_chats(conn, user.sub, form.chats),
                    media_type="application/json")
