"""Gzipped copies of the web app's text files, made once per file in a worker thread and kept
in memory (bounded), so that no request compresses on the event loop that also proxies the API.

Starlette's GZipMiddleware compresses every response again, at level 9, on the event loop: the
app's largest bundles would hold the loop for tens of milliseconds on each page load.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import OrderedDict
from pathlib import Path

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/xml",
                "image/svg+xml", "application/manifest+json", "application/wasm")
MIN_SIZE = 1024  # smaller files gain little and cost a header
MAX_FILE = 16 * 1024 * 1024  # larger ones (pyodide's) are sent as they are
LEVEL = 6


def worth_compressing(media_type: str, size: int) -> bool:
    return MIN_SIZE <= size <= MAX_FILE and media_type.startswith(COMPRESSIBLE)


class GzipCache:
    """path + mtime + size -> gzipped bytes, least recently used dropped past `capacity`."""

    def __init__(self, capacity: int = 96 * 1024 * 1024) -> None:
        self.capacity = capacity
        self.size = 0
        self._entries: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._pending: dict[tuple[str, int, int], asyncio.Future[bytes]] = {}

    async def get(self, path: str, mtime_ns: int, size: int) -> bytes:
        key = (path, mtime_ns, size)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        pending = self._pending.get(key)
        if pending is not None:  # another request is compressing it: share the result
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            data = await asyncio.to_thread(_compress, path)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked as seen: waiters re-raise it, nobody else need
            raise
        finally:
            del self._pending[key]
        future.set_result(data)
        self._store(key, data)
        return data

    def _store(self, key: tuple[str, int, int], data: bytes) -> None:
        if len(data) > self.capacity:
            return
        self._entries[key] = data
        self.size += len(data)
        while self.size > self.capacity:
            _, dropped = self._entries.popitem(last=False)
            self.size -= len(dropped)


def _compress(path: str) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=LEVEL, mtime=0)
