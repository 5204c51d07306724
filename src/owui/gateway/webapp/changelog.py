"""owui's own changes (CHANGELOG.md beside this file) in Open WebUI's `/api/changelog` shape:
`{version: {"date": ..., "added": [{"title", "content", "raw"}], "fixed": [...], ...}}`."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("CHANGELOG.md")
_RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\S+))?")
_SECTION = re.compile(r"^### (?P<name>.+)$")
_CODE = re.compile(r"`([^`]+)`")


@cache
def changelog() -> dict[str, dict[str, Any]]:
    return parse(SOURCE.read_text(encoding="utf-8"))


def parse(text: str) -> dict[str, dict[str, Any]]:
    releases: dict[str, dict[str, Any]] = {}
    release: dict[str, Any] | None = None
    section: list[dict[str, str]] | None = None
    for line in text.splitlines():
        if found := _RELEASE.match(line):
            release = releases.setdefault(found["version"], {"date": found["date"] or ""})
            section = None
        elif (found := _SECTION.match(line)) and release is not None:
            section = release.setdefault(found["name"].strip().lower(), [])
        elif line.startswith("- ") and section is not None:
            content = line[2:].strip()
            raw = _CODE.sub(r"<code>\1</code>", html.escape(content, quote=False))
            section.append({"title": "", "content": content, "raw": f"<li>{raw}</li>"})
    return releases
