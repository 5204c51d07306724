"""Open WebUI's web-app turn, run as a task: `POST /api/chat/completions` with `session_id`
(reached from completions.py: same path, the app's body), and `/api/tasks`: a chat's running
turns (a reloaded page resumes one), and their stop, keeping what was written.

A task id is its answer's message id. This replica's web turns are in `WebTurns`; those of other
replicas are the turns table's rows (shared): listed, and stopped where they run (turns/stops.py:
through Redis; 409 without REDIS_URL)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat import reads
from owui.chat.rawdb import Raw, RawConnection
from owui.chat.replies import begin_in, require_live
from owui.chat.responses import Json
from owui.chat.runtime import Runtime, RuntimeDep, runtime_of
from owui.chat.temporary import is_temporary
from owui.chat.turns import webapp_events
from owui.chat.turns.webapp import (
    WebAppBody,
    WebTurn,
    abandon,
    begin_webapp,
    read_body,
    refusal,
)
from owui.core.access import current_access, permission_denied
from owui.core.auth import AdminUser, CurrentUser
from owui.core.background import cancel_and_wait
from owui.core.errors import ConflictError, DomainError, NotFoundError, error_response
from owui.core.service import Session
from owui.core.tokens import Claims

log = logging.getLogger("owui.chat.turns")
router = APIRouter(tags=["tasks"])
OTHER_REPLICA = ("Task {!r} runs on another replica of the chat service; send the stop there, "
                 "or wait for it to end.")


async def webapp_turn(request: Request, conn: RawConnection, session: AsyncSession,
                      user: Claims, token: str, body: dict[str, Any]) -> Json:
    """The web app's turn: begun (its chat made when new), answered at once, heard on the
    user's sockets."""
    runtime = await runtime_of(request)
    form = read_body(body)
    if is_temporary(form.chat_id) and not current_access(request).allows("chat.temporary"):
        raise permission_denied("chat.temporary")
    web = await begin_in(session, current_access(request), lambda owner: begin_webapp(
        runtime.turns, conn, user, token, form, owner), form.chat_id or "")
    # a known chat's events flow at once
    relay = webapp_events.launch(runtime.webturns, web, runtime.realtime.emitter)
    try:
        await refusal(web)  # an unknown model answers 404, as without session_id
    except BaseException:
        if web.new_chat:  # its relay waits for the answer: nothing was heard of it
            await cancel_and_wait(relay)
        await abandon(runtime.turns, web)
        raise
    others = await _other_models(runtime, conn, user, token, form, web)
    web.answered.set()
    for other in others:  # heard once the app knows the chat (their events wait queued)
        webapp_events.launch(runtime.webturns, other, runtime.realtime.emitter)
    return Json({"status": True, "task_ids": [web.task_id, *(o.task_id for o in others)],
                 "chat_id": web.chat_id})


async def _other_models(runtime: Runtime, conn: RawConnection, user: Claims, token: str,
                        form: WebAppBody, first: WebTurn) -> list[WebTurn]:
    """Several models at once (`message_ids`): the other models answer the same user message,
    each a turn of its own, in the chat the first one made or named. One refused is left out
    (its answer stays empty, as the app shows a model that failed); the others go on."""
    begun: list[WebTurn] = []
    if first.temporary or first.prefix is not None:
        return begun
    for other in form.others():
        try:
            begun.append(await begin_webapp(runtime.turns, conn, user, token, other.model_copy(
                update={"chat_id": first.chat_id})))
        except DomainError as exc:
            log.warning("model %s of a turn in chat %s refused: %s", other.model,
                        first.chat_id, exc.detail)
    return begun


async def _stored_task_ids(conn: RawConnection, chat_id: str) -> list[str]:
    """The chat's answers being written, on any replica (the turns table)."""
    rows = await conn.fetch("SELECT message_id FROM turns WHERE chat_id = :chat_id"
                            " ORDER BY started_at", {"chat_id": chat_id})
    return [row[0] for row in rows]


@router.get("/api/tasks", summary="Every running turn's task id (admins only)")
async def all_tasks(conn: Raw, runtime: RuntimeDep, _admin: AdminUser) -> Json:
    """Open WebUI's `{tasks: [...]}`: this replica's web turns (temporary chats too) and the
    turns table's rows (every replica's stored chats)."""
    ids = list(runtime.webturns.running)
    rows = await conn.fetch("SELECT message_id FROM turns ORDER BY started_at", {})
    return Json({"tasks": ids + [row[0] for row in rows if row[0] not in ids]})


@router.get("/api/tasks/chat/{id}", responses={
    404: error_response("No chat of that id (or not yours).")},
    summary="The chat's running turns (task ids), to resume after a reload")
async def chat_tasks(id: str, conn: Raw, session: Session, request: Request,
                     user: CurrentUser, runtime: RuntimeDep) -> Json:
    if is_temporary(id):  # in no table: this replica's turns of it, the caller's
        return Json({"task_ids": [t.task_id for t in runtime.webturns.of_chat(id)
                                  if t.user_id == user.sub]})
    if await reads.find_chat(conn, id, user.sub) is None:  # another's they may reply in
        await require_live(session, id, current_access(request))
    ids = [t.task_id for t in runtime.webturns.of_chat(id)]
    ids += [i for i in await _stored_task_ids(conn, id) if i not in ids]
    return Json({"task_ids": ids})


@router.post("/api/tasks/stop/{task_id}", responses={
    404: error_response("No running task of that id (or not yours)."),
    409: error_response("It runs in another process, and there is no REDIS_URL to reach it.")},
    summary="Stop a turn; what was written is kept, as stopped")
async def stop_task(task_id: str, conn: Raw, user: CurrentUser, runtime: RuntimeDep) -> Json:
    web = runtime.webturns.running.get(task_id)
    if web is not None and web.user_id == user.sub:  # a temporary chat's is in no table
        chat_id = web.chat_id
    else:
        rows = await conn.fetch("SELECT chat_id FROM turns WHERE message_id = :id"
                                " AND user_id = :user_id", {"id": task_id, "user_id": user.sub})
        if not rows:
            raise NotFoundError(f"No running task {task_id!r}.")
        chat_id = rows[0][0]
    if await runtime.stops.stop_anywhere(conn, chat_id, task_id, user.sub) is None:
        raise ConflictError(OTHER_REPLICA.format(task_id))
    return Json({"status": True, "message": f"Task {task_id!r} stopped."})


@router.post("/api/tasks/chat/{id}/stop", responses={
    404: error_response("No chat of that id (or not yours)."),
    409: error_response("Its turns run in another process, and there is no REDIS_URL to reach "
                        "them.")},
    summary="Stop the chat's running turns; what was written is kept, as stopped")
async def stop_chat_tasks(id: str, conn: Raw, user: CurrentUser, runtime: RuntimeDep) -> Json:
    await reads.require_chat(conn, id, user.sub)
    ids = [t.task_id for t in runtime.webturns.of_chat(id)]
    ids += [i for i in await _stored_task_ids(conn, id) if i not in ids]
    # One after the other: they share the request's connection.
    outcomes = [await runtime.stops.stop_anywhere(conn, id, task_id, user.sub)
                for task_id in ids]
    stopped = [i for i, outcome in zip(ids, outcomes, strict=True) if outcome is not None]
    if len(stopped) < len(ids) and not stopped:
        raise ConflictError(OTHER_REPLICA.format(ids[0]))
    return Json({"status": True, "task_ids": stopped})
