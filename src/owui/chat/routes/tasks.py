"""Open WebUI's web-app turn, run as a task: `POST /api/chat/completions` with `session_id`
(reached from completions.py: same path, the app's body), and `/api/tasks`: a chat's running
turns (a reloaded page resumes one), and their stop, keeping what was written.

A task id is its answer's message id. This replica's web turns are in `WebTurns`; those of other
replicas are the turns table's rows (shared): listed, but stopped only where they run (409)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from owui.chat import reads
from owui.chat.rawdb import Raw, RawConnection
from owui.chat.realtime.emitter import Emitter
from owui.chat.responses import Json
from owui.chat.runtime import RuntimeDep
from owui.chat.turns import webapp_events
from owui.chat.turns.webapp import WebTurns, abandon, begin_webapp, read_body, refusal
from owui.core.auth import CurrentUser
from owui.core.errors import ConflictError, NotFoundError, error_response
from owui.core.tokens import Claims

router = APIRouter(tags=["tasks"])
OTHER_REPLICA = ("Task {!r} runs on another replica of the chat service; send the stop there, "
                 "or wait for it to end.")


async def webturns_of(request: Request) -> WebTurns:
    return request.app.state.webturns


WebTurnsDep = Annotated[WebTurns, Depends(webturns_of)]


async def webapp_turn(request: Request, conn: RawConnection, user: Claims, token: str,
                      body: dict[str, Any]) -> Json:
    """The web app's turn: begun (its chat made when new), answered at once, heard on the
    user's sockets."""
    runtime = request.app.state.runtime
    webturns: WebTurns = request.app.state.webturns
    emitter: Emitter = request.app.state.realtime.emitter
    web = await begin_webapp(runtime.turns, conn, user, token, read_body(body))
    relay = webapp_events.launch(webturns, web, emitter)  # a known chat's events flow at once
    try:
        await refusal(web)  # an unknown model answers 404, as without session_id
    except BaseException:
        if web.new_chat:  # its relay waits for the answer: nothing was heard of it
            relay.cancel()
        await abandon(runtime.turns, web)
        raise
    web.answered.set()
    return Json({"status": True, "task_ids": [web.task_id], "chat_id": web.chat_id})


async def _stored_task_ids(conn: RawConnection, chat_id: str) -> list[str]:
    """The chat's answers being written, on any replica (the turns table)."""
    rows = await conn.fetch("SELECT message_id FROM turns WHERE chat_id = :chat_id"
                            " ORDER BY started_at", {"chat_id": chat_id})
    return [row[0] for row in rows]


@router.get("/api/tasks/chat/{id}", responses={
    404: error_response("No chat of that id (or not yours).")},
    summary="The chat's running turns (task ids), to resume after a reload")
async def chat_tasks(id: str, conn: Raw, user: CurrentUser, webturns: WebTurnsDep) -> Json:
    await reads.require_chat(conn, id, user.sub)
    ids = [t.task_id for t in webturns.of_chat(id)]
    ids += [i for i in await _stored_task_ids(conn, id) if i not in ids]
    return Json({"task_ids": ids})


@router.post("/api/tasks/stop/{task_id}", responses={
    404: error_response("No running task of that id (or not yours)."),
    409: error_response("It runs on another replica of the chat service.")},
    summary="Stop a turn; what was written is kept, as stopped")
async def stop_task(task_id: str, conn: Raw, user: CurrentUser, webturns: WebTurnsDep,
                    runtime: RuntimeDep) -> Json:
    web = webturns.running.get(task_id)
    if web is not None and web.user_id == user.sub:
        await webturns.stop(web)
        return Json({"status": True, "message": f"Task {task_id!r} stopped."})
    rows = await conn.fetch("SELECT chat_id FROM turns WHERE message_id = :id"
                            " AND user_id = :user_id", {"id": task_id, "user_id": user.sub})
    if not rows:
        raise NotFoundError(f"No running task {task_id!r}.")
    turn = runtime.turns.get(rows[0][0], task_id)  # a turn of our SSE path on this replica
    if turn is None:
        raise ConflictError(OTHER_REPLICA.format(task_id))
    await runtime.turns.stop_turn(turn)
    return Json({"status": True, "message": f"Task {task_id!r} stopped."})


@router.post("/api/tasks/chat/{id}/stop", responses={
    404: error_response("No chat of that id (or not yours)."),
    409: error_response("A turn of it runs on another replica of the chat service.")},
    summary="Stop the chat's running turns; what was written is kept, as stopped")
async def stop_chat_tasks(id: str, conn: Raw, user: CurrentUser, webturns: WebTurnsDep,
                          runtime: RuntimeDep) -> Json:
    await reads.require_chat(conn, id, user.sub)
    stopped = []
    for web in webturns.of_chat(id):
        await webturns.stop(web)
        stopped.append(web.task_id)
    elsewhere = []
    for task_id in await _stored_task_ids(conn, id):
        if task_id in stopped:
            continue
        turn = runtime.turns.get(id, task_id)
        if turn is None:
            elsewhere.append(task_id)
            continue
        await runtime.turns.stop_turn(turn)
        stopped.append(task_id)
    if elsewhere and not stopped:
        raise ConflictError(OTHER_REPLICA.format(elsewhere[0]))
    return Json({"status": True, "task_ids": stopped})
