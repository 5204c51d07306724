"""A stand-in for the chat service's socket.io endpoint: a WebSocket at /ws/socket.io/ that
first tells what the gateway sent it, then echoes text and bytes, and closes with the code a
client asks for ("close:4000"); engine.io's long-polling GET answers a line of text.

    uvicorn tests.webapp.echo_socket:app
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"authorization": websocket.headers.get("authorization"),
                               "cookie": websocket.headers.get("cookie"),
                               "query": websocket.url.query})
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is not None and text.startswith("close:"):
                await websocket.close(code=int(text[len("close:"):]))
                return
            if text is not None:
                await websocket.send_text(text)
            elif message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        return


async def polling(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"polling {request.url.query} "
                             f"{request.headers.get('authorization', '')[:12]}")


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[WebSocketRoute("/ws/socket.io/", socket),
                        Route("/ws/socket.io/", polling), Route("/healthz", healthz)])
