"""BM25 as sparse vectors, for a store that ranks sparse vectors but does not tokenise (Qdrant).

A document's vector holds, per term, BM25's saturated term frequency; the store multiplies it
by the term's inverse document frequency at query time (Qdrant's `Modifier.IDF`), which it
keeps up to date as points come and go. So text search is real BM25 inside the store, with no
index of ours beside it. Terms (the same for Chroma's index, fts.py): unicode words, lower case,
accents dropped, Porter stems, hashed to 32-bit indices.

The length normalisation uses a fixed average length: a true running average would change
every stored vector whenever a document is added.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from functools import lru_cache

K1 = 1.2
B = 0.75
AVERAGE_TERMS = 100.0  # about a 200-token chunk of English, the default CHUNK_SIZE
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("porter")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    # The stemmer is pure Python (~15 us a word); a text's words are mostly common ones.
    return _stemmer().stemWord(word)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def terms(text: str) -> list[str]:
    return [_stem(word) for word in _WORD.findall(_fold(text))]


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """Indices and BM25 term weights (without IDF) of a document."""
    counts = Counter(term_index(term) for term in terms(text))
    norm = K1 * (1 - B + B * sum(counts.values()) / AVERAGE_TERMS)
    indices = sorted(counts)
    return indices, [counts[i] * (K1 + 1) / (counts[i] + norm) for i in indices]


def query_vector(text: str) -> tuple[list[int], list[float]]:
    """Each distinct query term once: the score is then the sum of BM25 over the terms."""
    indices = sorted({term_index(term) for term in terms(text)})
    return indices, [1.0] * len(indices)
