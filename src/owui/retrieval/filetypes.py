"""Which files we take, how we name them, and a check that the bytes are what the name says."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from owui.core.filetypes import KINDS, extension

CONTENT_TYPES = {"pdf": "application/pdf", "markdown": "text/markdown", "html": "text/html",
                 "csv": "text/csv", "json": "application/json",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
BINARY_KINDS = frozenset({"pdf", "docx"})
SNIFF_BYTES = 8192


class UnsupportedFile(ValueError):
    """The file's type is not one we extract text from, or its bytes contradict its name."""


@dataclass(frozen=True)
class FileKind:
    kind: str
    content_type: str


def safe_filename(name: str | None) -> str:
    """A display name only: the last path segment, no control characters, at most 255 chars."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    return name[-255:] or "upload"


def kind_of(name: str) -> FileKind:
    ext = extension(name)
    kind = KINDS.get(ext)
    if kind is None:
        shown = f".{ext} files" if ext else "files without an extension"
        raise UnsupportedFile(f"Unsupported file type: {shown} are not processed. Supported: "
                              + ", ".join(sorted({"." + e for e in KINDS if len(e) < 5})))
    return FileKind(kind, CONTENT_TYPES.get(kind, "text/plain"))


def check_head(kind: FileKind, head: bytes) -> None:
    """Refuse bytes that cannot be the declared kind (a PDF that is not one, binary 'text')."""
    if kind.kind == "pdf" and not head.startswith(b"%PDF-"):
        raise UnsupportedFile("The file is named .pdf but is not a PDF (no %PDF- header).")
    if kind.kind == "docx" and not head.startswith(b"PK\x03\x04"):
        raise UnsupportedFile("The file is named .docx but is not a Word document (not a zip).")
    if kind.kind not in BINARY_KINDS:
        if b"\x00" in head:
            raise UnsupportedFile("The file looks binary (NUL bytes) but its name says text.")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
                raise UnsupportedFile("The file is not UTF-8 text.") from None
