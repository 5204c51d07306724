"""User code (tools and functions) as Open WebUI writes it: Python source executed into a
module namespace of its own. Admin-only, since it runs in the service's process.

Malformed source is a 400 that names the line. The front matter of the module's docstring
(`title:`, `author:`, `version:`, `description:`, `requirements:` ...) becomes the manifest;
requirements are not installed: a module that imports a missing package fails to load with
the line of the import.
"""

from __future__ import annotations

import linecache
import re
import traceback
import types
from typing import Any

from owui.core.errors import BadRequestError

_FRONT_MATTER = re.compile(r'^\s*(?:"""|\'\'\')(.*?)(?:"""|\'\'\')', re.DOTALL)
_ITEM = re.compile(r"^\s*([A-Za-z_][\w ]*?)\s*:\s*(.+?)\s*$")
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


def front_matter(source: str) -> dict[str, str]:
    """`key: value` lines of the leading docstring, as Open WebUI reads them."""
    match = _FRONT_MATTER.match(source)
    if not match:
        return {}
    found: dict[str, str] = {}
    for line in match.group(1).splitlines():
        item = _ITEM.match(line)
        if item:
            found[item.group(1).strip().lower()] = item.group(2)
    return found


def _line_of(error: BaseException, filename: str) -> int | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return frames[-1].lineno if frames else None


def load_module(kind: str, item_id: str, source: str) -> types.ModuleType:
    """Compile and execute the source; 400 naming the line when it cannot."""
    filename = f"<{kind} {item_id}>"
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise BadRequestError(f"The {kind}'s source has a syntax error on line "
                              f"{exc.lineno}: {exc.msg}.") from None
    except ValueError as exc:  # null bytes
        raise BadRequestError(f"The {kind}'s source cannot be compiled: {exc}.") from None
    # Tracebacks from this code show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"owui_{kind}_{item_id}")
    module.__file__ = filename
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        line = _line_of(exc, filename)
        where = f" on line {line}" if line else ""
        raise BadRequestError(f"The {kind}'s source failed to load{where}: "
                              f"{type(exc).__name__}: {exc}") from None
    return module


def instantiate(kind: str, module: types.ModuleType, class_name: str) -> Any:
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise BadRequestError(f"The {kind}'s source defines no class {class_name}.")
    try:
        return cls()
    except Exception as exc:
        line = _line_of(exc, module.__file__ or "")
        where = f" (line {line})" if line else ""
        raise BadRequestError(f"{class_name}() failed{where}: "
                              f"{type(exc).__name__}: {exc}") from None
