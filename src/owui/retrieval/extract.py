"""Text out of documents, in sections that remember their page or heading."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_CSV_ROWS = 200_000


class ExtractionError(ValueError):
    """The document is corrupt or has no text; the message says which."""


@dataclass
class Section:
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


def extract_file(path: Path, kind: str) -> list[Section]:
    """Sections of non-empty text; raises ExtractionError when there is none."""
    extractor = _EXTRACTORS.get(kind, _plain)
    sections = [s for s in extractor(path) if s.text.strip()]
    if not sections:
        if kind == "pdf":
            raise ExtractionError("The PDF has no extractable text (a scan without OCR?).")
        raise ExtractionError("The document has no text to index.")
    return sections


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"The file is not UTF-8 text (byte {exc.start}).") from None


def _plain(path: Path) -> list[Section]:
    return [Section(_read_text(path))]


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def markdown_sections(text: str) -> list[Section]:
    """Split at headings; each section carries its heading path (e.g. 'Setup > Install')."""
    sections: list[Section] = []
    trail: list[str] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        if lines:
            meta = {"section": " > ".join(trail)} if trail else {}
            sections.append(Section("\n".join(lines).strip(), meta))
            lines.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            flush()
            level = len(match[1])
            trail[:] = [*trail[:level - 1], match[2]]
        lines.append(line)
    flush()
    return sections


def _markdown(path: Path) -> list[Section]:
    return markdown_sections(_read_text(path))


def html_to_text(html: str | bytes) -> tuple[str, str]:
    """(title, visible text) of an HTML page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        if tag.name != "head":
            tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.head:
        soup.head.decompose()
    text = soup.get_text("\n", strip=True)
    return title, re.sub(r"\n{3,}", "\n\n", text)


def _html(path: Path) -> list[Section]:
    title, text = html_to_text(path.read_bytes())
    return [Section(text, {"title": title} if title else {})]


def _pdf(path: Path) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("The PDF is encrypted with a password.")
        return [Section(page.extract_text() or "", {"page": number})
                for number, page in enumerate(reader.pages, start=1)]
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"The PDF is corrupt or unreadable: {exc}") from None


def _docx(path: Path) -> list[Section]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractionError(f"The Word document is corrupt or unreadable: {exc}") from None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        if style.startswith("Heading") and paragraph.text.strip():
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            lines.append(f"{'#' * min(level, 6)} {paragraph.text.strip()}")
        else:
            lines.append(paragraph.text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return markdown_sections("\n".join(lines))


def _csv(path: Path) -> list[Section]:
    text = _read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096]) if text.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows = [row for _, row in zip(range(MAX_CSV_ROWS), reader, strict=False)]
    except csv.Error as exc:
        raise ExtractionError(f"The CSV file is malformed: {exc}") from None
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return [Section(", ".join(header))]
    lines = ["; ".join(f"{h}: {v}" for h, v in zip(header, row, strict=False) if v)
             for row in body]
    return [Section("\n".join(lines), {"rows": len(body)})]


def _json(path: Path) -> list[Section]:
    try:
        value = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise ExtractionError(f"The JSON file is malformed: {exc}") from None
    return [Section(json.dumps(value, indent=1, ensure_ascii=False))]


_EXTRACTORS: dict[str, Callable[[Path], list[Section]]] = {
    "text": _plain, "source": _plain, "markdown": _markdown, "html": _html, "pdf": _pdf,
    "docx": _docx, "csv": _csv, "json": _json,
}
