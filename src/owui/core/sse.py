"""Reading server-sent events: the payloads of the `data:` lines, up to `data: [DONE]`."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def data_lines(lines: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The payload of each `data:` line (other lines skipped); ends at `data: [DONE]`."""
    async for raw in lines:
        if not raw.startswith(b"data:"):
            continue
        data = raw[5:].strip()
        if data == b"[DONE]":
            return
        yield data
