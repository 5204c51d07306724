"""Token windows over each section, cut at the original text's character offsets so that a
chunk reads as written (case, spacing and punctuation kept)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from owui.retrieval.extract import Section
from owui.retrieval.model_files import model_dir


@dataclass
class Chunk:
    text: str
    meta: dict[str, Any]


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    from tokenizers import Tokenizer

    loaded = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    # The shipped file pads and truncates to 128 for the model; chunking needs every token.
    loaded.no_truncation()
    loaded.no_padding()
    return loaded


class Chunker:
    def __init__(self, size: int, overlap: int) -> None:
        if overlap >= size:
            raise ValueError(f"CHUNK_OVERLAP ({overlap}) must be below CHUNK_SIZE ({size})")
        self.size = size
        self.step = size - overlap

    def split(self, sections: list[Section]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section in sections:
            for text in self._windows(section.text):
                chunks.append(Chunk(text, {**section.meta, "chunk_index": len(chunks)}))
        return chunks

    def _windows(self, text: str) -> list[str]:
        encoding = tokenizer().encode(text, add_special_tokens=False)
        offsets = encoding.offsets
        if len(offsets) <= self.size:
            return [text.strip()] if text.strip() else []
        windows = []
        for start in range(0, len(offsets), self.step):
            end = min(start + self.size, len(offsets))
            piece = text[offsets[start][0]:offsets[end - 1][1]].strip()
            if piece:
                windows.append(piece)
            if end == len(offsets):
                break
        return windows
