"""Logs: one JSON object a line for machines, one short line for people.

OWUI_LOG_FORMAT picks: `json`, `text`, or `auto` (the default: text on a terminal, JSON
otherwise, as in a container or under `owui up`, which reads the JSON and prints the short form
itself when its own output is a terminal). OWUI_LOG_LEVEL sets the level, OWUI_LOG_LEVEL_<SERVICE>
(OWUI_LOG_LEVEL_CHAT=debug) one service's. A JSON line carries the service, the request id and,
while tracing is on, the trace and span ids:

    {"ts": "2026-12-05T01:02:03.456Z", "level": "info", "service": "chat", "logger": "...",
     "msg": "...", "request_id": "...", "trace_id": "...", "span_id": "...", ...fields}
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar

from owui.core import tracing

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "color_message"}


_second: tuple[int, str] = (-1, "")


def timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds; the part up to the second is made once a second."""
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


def _ids(entry: dict[str, object]) -> None:
    request_id = request_id_var.get()
    if request_id:
        entry["request_id"] = request_id
    ids = tracing.current_ids()
    if ids is not None:
        entry["trace_id"], entry["span_id"] = ids


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        _ids(entry)
        fields = getattr(record, "fields", None)
        if fields is not None:  # the hot path (access log): no walk over the record
            entry.update(fields)
        else:
            entry.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# ANSI colours by level; the rest of a line stays plain, the ids dim.
_LEVEL_COLOURS = {"debug": "2", "info": "32", "warning": "33", "error": "31", "critical": "1;31"}
_DIM = "\033[2m"
_RESET = "\033[0m"
# Keys of a JSON line that the short form shows in its own way, or not at all.
_SHOWN = frozenset({"ts", "level", "service", "logger", "msg", "request_id", "trace_id",
                    "span_id", "exc", "method", "path", "status", "ms", "taskName"})


def render(entry: Mapping[str, object], colour: bool = False) -> str:
    """The short form of one JSON log line: level, message, a few fields, the ids (shortened:
    enough to grep for), then the traceback if any."""
    level = str(entry.get("level", "info"))
    shown_level = f"{level.upper():7}"
    if colour:
        shown_level = f"\033[{_LEVEL_COLOURS.get(level, '0')}m{shown_level}{_RESET}"
    parts = [shown_level, str(entry.get("msg", ""))]
    if "ms" in entry:
        parts.append(f"{entry['ms']} ms")
    extra = " ".join(f"{k}={v}" for k, v in entry.items() if k not in _SHOWN)
    if extra:
        parts.append(extra)
    ids = []
    if entry.get("request_id"):
        ids.append(f"req={str(entry['request_id'])[:12]}")
    if entry.get("trace_id"):
        ids.append(f"trace={entry['trace_id']}")
    if ids:
        tail = " ".join(ids)
        parts.append(f"{_DIM}{tail}{_RESET}" if colour else tail)
    line = " ".join(parts)
    if entry.get("exc"):
        line += "\n" + str(entry["exc"])
    return line


class TextFormatter(logging.Formatter):
    """The short form, for `owui serve` on a terminal (OWUI_LOG_FORMAT=text or auto)."""

    def __init__(self, service: str, colour: bool = False) -> None:
        super().__init__()
        self.json = JsonFormatter(service)
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        entry = json.loads(self.json.format(record))
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        return f"{stamp} {render(entry, self.colour)}"


class AccessLog:
    """One line per request (logger `owui.access`). Where the log is JSON and nothing else
    listens to that logger, the line is written to the handler's stream directly, as
    JsonFormatter would write it: a LogRecord and the formatter cost ~10 µs a request, the
    direct line ~2 (measured at the gateway). Otherwise through logging, as any line."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("owui.access")

    def __call__(self, method: str, path: str, status: int, seconds: float) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        fields = {"status": status, "method": method, "path": path,
                  "ms": round(seconds * 1000, 2)}
        handler = _json_handler
        if handler is None or logger.handlers or not logger.propagate:
            logger.info("%s %s %s", method, path, status, extra={"fields": fields})
            return
        formatter = handler.formatter
        assert isinstance(formatter, JsonFormatter)
        entry: dict[str, object] = {"ts": timestamp(time.time()), "level": "info",
                                    "service": formatter.service, "logger": logger.name,
                                    "msg": f"{method} {path} {status}"}
        _ids(entry)
        entry.update(fields)
        line = json.dumps(entry, default=str) + "\n"
        with handler.lock:  # made with the handler
            handler.stream.write(line)
            handler.stream.flush()


# The root's JSON handler, when the log is JSON (the access log's direct path writes to it).
_json_handler: logging.StreamHandler | None = None


def wants_text(fmt: str, stream: object) -> bool:
    """Whether `fmt` (json, text, auto) means the short form on `stream`."""
    if fmt == "auto":
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())
    return fmt == "text"


def configure_logging(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    global _json_handler
    handler = logging.StreamHandler(sys.stdout)
    if wants_text(fmt, sys.stdout):
        colour = bool(getattr(sys.stdout, "isatty", None) and sys.stdout.isatty())
        handler.setFormatter(TextFormatter(service, colour))
        _json_handler = None
    else:
        handler.setFormatter(JsonFormatter(service))
        _json_handler = handler
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own handlers would print a second, unstructured copy.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
