"""Open WebUI's model files for Ollama (admin): `/ollama/models/upload` (a GGUF file sent by
the app) and `/ollama/models/download` (one fetched from Hugging Face or GitHub), each then
pushed to the Ollama connection as a blob and made a model named after the file.

Both answer as Open WebUI does, a stream of SSE events: `{"progress", "completed", "total"}`
while the file is read, then `{"done": true, "blob", "name", "model_created"}`, or
`{"error"}` when a step fails (the stream has started by then, so the status is 200).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from owui.core.auth import AdminUser
from owui.core.tokens import Claims
from owui.inference.providers.base import UpstreamRequest, dumps, sse
from owui.inference.routes import messages
from owui.inference.routes.bodies import check, json_body
from owui.inference.routes.ollama import UrlIdx, UrlIdxPath, add_routes, chosen
from owui.inference.runtime import runtime_of
from owui.inference.upstreams import Upstream

router = APIRouter(tags=["ollama"])
CHUNK = 1 << 20
# Open WebUI's rule: model files come from these hosts only (never from the local network).
ALLOWED_HOSTS = ("https://huggingface.co/", "https://github.com/")
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=3600, sock_connect=30, sock_read=120)


class DownloadForm(BaseModel):
    url: str = Field(min_length=1, max_length=2000)


class StepFailed(Exception):
    """A step after the stream began; its message becomes the stream's `{"error"}` event."""


def _progress(completed: int, total: int) -> bytes:
    percent = round(completed / total * 100, 2) if total else 100.0
    return sse({"progress": percent, "completed": completed, "total": total})


async def _blob(upstream: Upstream, path: Path, digest: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk

    url = upstream.url(f"/api/blobs/{digest}")
    headers = {"Content-Type": "application/octet-stream",
               "Content-Length": str((await asyncio.to_thread(path.stat)).st_size)}
    async with upstream.session.post(url, data=chunks(), headers=headers) as response:
        if response.status >= 400:
            raise StepFailed(f"Ollama did not take the blob (HTTP {response.status}): "
                             f"{(await response.text())[:300]}")


async def _create(upstream: Upstream, path: Path, name: str, digest: str) -> bytes:
    """The file pushed as a blob, then a model of it; the closing event."""
    await _blob(upstream, path, digest)
    model = os.path.splitext(name)[0]
    body = dumps({"model": model, "files": {name: digest}, "stream": False})
    async with upstream.open(UpstreamRequest("POST", "/api/create", body)) as response:
        if response.status >= 400:
            raise StepFailed(f"Ollama could not create the model (HTTP {response.status}): "
                             f"{(await response.text())[:300]}")
    return sse({"done": True, "blob": digest, "name": name, "model_created": model})


async def _finish(events: AsyncIterator[bytes], path: Path) -> AsyncIterator[bytes]:
    """The events, a failure as the last one, and the staged file removed whatever happens."""
    try:
        async for event in events:
            yield event
    except (StepFailed, aiohttp.ClientError, TimeoutError, OSError) as exc:
        yield sse({"error": str(exc) or type(exc).__name__})
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _staged() -> Path:
    handle, name = tempfile.mkstemp(prefix="owui-model-", suffix=".part")
    os.close(handle)
    return Path(name)


async def _uploaded(file: UploadFile, upstream: Upstream, path: Path,
                    name: str) -> AsyncIterator[bytes]:
    digest, total, completed = hashlib.sha256(), file.size or 0, 0
    with path.open("wb") as out:
        while chunk := await file.read(CHUNK):
            await asyncio.to_thread(out.write, chunk)  # the disk, off the event loop
            digest.update(chunk)
            completed += len(chunk)
            yield _progress(completed, max(total, completed))
    yield await _create(upstream, path, name, f"sha256:{digest.hexdigest()}")


async def _downloaded(url: str, upstream: Upstream, path: Path,
                      name: str) -> AsyncIterator[bytes]:
    digest, completed = hashlib.sha256(), 0
    async with aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT) as session, \
            session.get(url) as response:
        if response.status >= 400:
            raise StepFailed(f"{url} answered HTTP {response.status}")
        total = int(response.headers.get("Content-Length") or 0)
        with path.open("wb") as out:
            async for chunk in response.content.iter_chunked(CHUNK):
                await asyncio.to_thread(out.write, chunk)
                digest.update(chunk)
                completed += len(chunk)
                yield _progress(completed, max(total, completed))
    yield await _create(upstream, path, name, f"sha256:{digest.hexdigest()}")


def _file_name(raw: str | None) -> str:
    name = os.path.basename(raw or "")
    if not name or name in (".", ".."):
        raise HTTPException(400, "The file needs a name: the model is named after it.")
    return name


async def _upload(request: Request, url_idx: int | None, file: UploadFile) -> Response:
    upstream = chosen(await runtime_of(request), url_idx)
    path = _staged()
    events = _uploaded(file, upstream, path, _file_name(file.filename))
    return StreamingResponse(_finish(events, path), media_type="text/event-stream")


async def download(request: Request, user: Claims, url_idx: int | None) -> Response:
    form = check(DownloadForm, await json_body(request))
    if not form.url.startswith(ALLOWED_HOSTS):
        raise HTTPException(400, "url: model files are downloaded from "
                                 f"{' or '.join(ALLOWED_HOSTS)} only.")
    upstream = chosen(await runtime_of(request), url_idx)
    name = _file_name(urlparse(form.url).path)
    path = _staged()
    events = _downloaded(form.url, upstream, path, name)
    return StreamingResponse(_finish(events, path), media_type="text/event-stream")


_STREAMED: dict[int | str, dict[str, Any]] = {
    200: {"description": "Progress, then the model made (or an error), as SSE.",
          "content": {"text/event-stream": {}}},
    400: {"description": "A URL of another host, or a file without a name.",
          **messages.REFUSED},
    404: {"description": "No Ollama connection at url_idx, or none enabled.",
          **messages.REFUSED}}
_add = partial(add_routes, methods=["POST"], admin=True, prefixes=("/ollama",), to=router)
_add("/models/download", download, summary="Download a model file into Ollama (admin)",
     responses=_STREAMED, openapi_extra={"requestBody": {"required": True, "content": {
         "application/json": {"schema": DownloadForm.model_json_schema()}}}})


@router.post("/ollama/models/upload", summary="Upload a model file into Ollama (admin)",
             responses=_STREAMED)
async def upload(request: Request, _admin: AdminUser, file: UploadFile = File(...),
                 url_idx: int | None = UrlIdx) -> Response:
    return await _upload(request, url_idx, file)


@router.post("/ollama/models/upload/{url_idx}", responses=_STREAMED,
             summary="Upload a model file into the Ollama connection at url_idx (admin)")
async def upload_at(request: Request, _admin: AdminUser, file: UploadFile = File(...),
                    url_idx: int = UrlIdxPath) -> Response:
    return await _upload(request, url_idx, file)
