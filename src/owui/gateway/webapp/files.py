"""The web app's files, as Open WebUI serves them: `/static/*` from the static folder (then the
build's own `static/` copy), everything else from the build, where a path that names no file
answers `index.html` (the single-page app routes it), except a missing `*.js`, which is a 404.

`_app/immutable/` files carry a hash in their names: cached for a year. Everything else is
revalidated (`no-cache`, answered 304 from its ETag). Text files go out gzipped when the client
accepts it, from copies made once (see compressed.py).
"""

from __future__ import annotations

import html
import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from owui.core.asgi import header, send_error
from owui.gateway.webapp.build import Build
from owui.gateway.webapp.compressed import GzipCache, worth_compressing

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
STATIC_PREFIX = "/static/"
_STATUS_DETAIL = {404: "Not Found", 405: "Method Not Allowed", 401: "Not Allowed"}


class WebApp:
    """Raw ASGI app for the paths that are not the API's.

    A build installed while the gateway runs (`owui ui install` in another terminal) is served
    without a restart: while there is none, `locate_build` is asked again, at most once a second.
    """

    def __init__(self, locate_build: Callable[[], Build]) -> None:
        self.locate_build = locate_build
        self.gzip = GzipCache()
        self.frontend: StaticFiles | None = None
        self.static: StaticFiles | None = None
        self._located_at = time.monotonic()
        self.build = self._use(locate_build())

    def _use(self, build: Build) -> Build:
        if build.ready:
            assert build.frontend is not None and build.static is not None
            self.frontend = StaticFiles(directory=build.frontend, check_dir=False)
            self.static = StaticFiles(directory=build.static, check_dir=False)
            self.static.all_directories.append(build.frontend / "static")
        return build

    def current(self) -> Build:
        """The build served, looked for again when there is none."""
        now = time.monotonic()
        if not self.build.ready and now - self._located_at >= 1.0:
            self._located_at = now
            self.build = self._use(self.locate_build())
        return self.build

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.current().ready or self.frontend is None or self.static is None:
            await self._missing(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await send_error(send, 405, f"{scope['method']} is not allowed on the web app's "
                                        "files; the API is under /api.",
                             [(b"allow", b"GET, HEAD")])
            return
        path: str = scope["path"]
        files, relative = ((self.static, path[len(STATIC_PREFIX):])
                           if path.startswith(STATIC_PREFIX) else (self.frontend, path))
        relative = posixpath.normpath(relative.lstrip("/") or ".")
        try:
            response = await files.get_response(relative, scope)
            cache = IMMUTABLE if relative.startswith("_app/immutable/") else REVALIDATE
        except HTTPException as exc:
            if exc.status_code != 404 or files is self.static or relative.endswith(".js"):
                detail = _STATUS_DETAIL.get(exc.status_code, "Not Found")
                await send_error(send, exc.status_code, f"{detail}: {path}")
                return
            response = await files.get_response("index.html", scope)
            cache = REVALIDATE
        response.headers["cache-control"] = cache
        if isinstance(response, FileResponse):
            response = await self._compressed(response, scope)
        await response(scope, receive, send)

    async def _compressed(self, response: FileResponse, scope: Scope) -> Response:
        """The gzipped copy when the client takes it and the file is worth it."""
        media_type = response.media_type or ""
        stat = response.stat_result
        if stat is None or not worth_compressing(media_type, stat.st_size):
            return response
        response.headers["vary"] = "Accept-Encoding"
        if scope["method"] != "GET" or not _accepts_gzip(header(scope, b"accept-encoding")):
            return response
        body = await self.gzip.get(str(response.path), stat.st_mtime_ns, stat.st_size)
        headers = {k: v for k, v in response.headers.items()
                   if k not in ("content-length", "accept-ranges")}
        headers["content-encoding"] = "gzip"
        headers["etag"] = "W/" + headers["etag"].removeprefix("W/")  # another encoding
        return Response(body, headers=headers, media_type=media_type)

    async def _missing(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = self.build.problem or "The web app is not available."
        if "text/html" in (header(scope, b"accept") or ""):
            page = (f"<!doctype html><title>owui</title><h1>owui: no web app</h1>"
                    f"<p>{html.escape(problem)}</p><p>The API is described at "
                    f"<a href=\"/docs\">/docs</a>.</p>")
            await HTMLResponse(page, status_code=404)(scope, receive, send)
            return
        await send_error(send, 404, problem)


def _accepts_gzip(value: str | None) -> bool:
    if not value:
        return False
    for part in value.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def default_user_image(build: Build) -> Path | None:
    """The static folder's `user.png`, the image of a user who set none."""
    folders = [build.static, build.frontend / "static" if build.frontend else None]
    for folder in folders:
        if folder is not None and (folder / "user.png").is_file():
            return folder / "user.png"
    return None
