"""A multipart upload streamed to a temporary file: size cap, SHA-256 and type check on the
way, so an oversized or mislabelled upload is refused before it is stored."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from owui.core.errors import BadRequestError, DomainError
from owui.retrieval.filetypes import SNIFF_BYTES, FileKind, UnsupportedFile, check_head, kind_of
from owui.retrieval.filetypes import safe_filename as clean_name

METADATA_LIMIT = 64 * 1024


class UploadTooLarge(DomainError):
    status = 413


class UnsupportedUpload(DomainError):
    status = 415


@dataclass
class Upload:
    path: Path
    filename: str
    kind: FileKind
    size: int
    sha256: str
    declared_type: str | None
    metadata: dict[str, Any] = field(default_factory=dict)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class _Part:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.field = ""
        self.name = ""
        self.header_field = b""
        self.header_value = b""


class _Receiver:
    """Callbacks of python-multipart's streaming parser: one file part, one metadata part."""

    def __init__(self, tmp_dir: Path, max_size: int) -> None:
        self.tmp_dir = tmp_dir
        self.max_size = max_size
        self.part = _Part()
        self.file_name: str | None = None
        self.file_type: str | None = None
        self.kind: FileKind | None = None
        self.handle: Any = None
        self.path: Path | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = b""
        self.metadata = b""
        self.error: DomainError | None = None

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self.part.header_field.decode("latin-1").lower()
        self.part.headers[name] = self.part.header_value.decode("utf-8", "replace")
        self.part.header_field = self.part.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", ""))
        self.part.field = options.get(b"name", b"").decode("utf-8", "replace")
        self.part.name = options.get(b"filename", b"").decode("utf-8", "replace")
        if self.part.field == "file" and self.handle is None and self.error is None:
            self._open_file()

    def _open_file(self) -> None:
        self.file_name = clean_name(self.part.name)
        self.file_type = self.part.headers.get("content-type")
        try:
            self.kind = kind_of(self.file_name)
        except UnsupportedFile as exc:
            self.error = UnsupportedUpload(str(exc))
            return
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        self.handle, self.path = os.fdopen(fd, "wb"), Path(name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        chunk = data[start:end]
        if self.part.field == "metadata":
            self.metadata += chunk
            if len(self.metadata) > METADATA_LIMIT:
                self.error = UploadTooLarge("The 'metadata' field is over 64 KiB.")
        elif self.part.field == "file" and self.handle is not None:
            self._write(chunk)

    def _write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_size:
            mb = self.max_size / 1024 / 1024
            self.error = UploadTooLarge(f"The file is over the {mb:g} MB limit "
                                        "(RAG_FILE_MAX_SIZE).")
            return
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[:SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self._check_head()
        self.digest.update(chunk)
        self.handle.write(chunk)

    def _check_head(self) -> None:
        assert self.kind is not None
        try:
            check_head(self.kind, self.head)
        except UnsupportedFile as exc:
            self.error = UnsupportedUpload(str(exc))

    def on_part_end(self) -> None:
        if self.part.field == "file" and self.handle is not None and not self.handle.closed:
            self.handle.close()
            if self.error is None and len(self.head) < SNIFF_BYTES:
                self._check_head()

    def cleanup(self) -> None:
        if self.handle is not None and not self.handle.closed:
            self.handle.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise BadRequestError("Send the file as multipart/form-data in the field 'file'.")
    return options[b"boundary"]


async def receive_upload(request: Request, tmp_dir: Path, max_size: int) -> Upload:
    """Parse the body as it arrives; stop reading at the first reason to refuse it."""
    receiver = _Receiver(tmp_dir, max_size)
    callbacks = {name: getattr(receiver, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end",
        "on_headers_finished", "on_part_data", "on_part_end")}
    parser = MultipartParser(_boundary(request), callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.error is not None:
                raise receiver.error
        parser.finalize()
        return _finish(receiver)
    except DomainError:
        receiver.cleanup()
        raise
    except Exception as exc:  # the multipart parser's own errors: malformed body
        receiver.cleanup()
        raise BadRequestError(f"Malformed multipart body: {exc}") from None


def _finish(receiver: _Receiver) -> Upload:
    if receiver.error is not None:
        raise receiver.error
    if receiver.path is None or receiver.kind is None or receiver.file_name is None:
        raise BadRequestError("No file in the upload: send it in the multipart field 'file'.")
    if receiver.size == 0:
        raise BadRequestError(f"The file '{receiver.file_name}' is empty.")
    return Upload(receiver.path, receiver.file_name, receiver.kind, receiver.size,
                  receiver.digest.hexdigest(), receiver.file_type, _metadata(receiver.metadata))


def _metadata(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise BadRequestError("The 'metadata' field is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequestError("The 'metadata' field must be a JSON object.")
    return value
