"""Hybrid search: the vector and the full-text (BM25) lists fused into one.

Two ways, both with first-in-every-list scoring 1:
- "convex" (the default): each list's scores divided by that list's best (BM25 has no fixed
  scale; cosine is bounded by 1, which a best hit rarely nears), then a weighted sum, a chunk
  missing from a list getting 0 there. Unlike ranks, scores keep how sure each side is: a
  vector hit far ahead of the rest is not overtaken by a BM25 list of near-equal, weak matches,
  and a rare identifier that BM25 finds with a score far above the others is not diluted.
- "rrf": reciprocal rank fusion (Cormack et al.), weighted, with constant RRF_K.

Tuned with bench/search_quality.py --sweep (66 questions over real package READMEs; chosen on
one half, checked on the other) on all four stores: equal weights and 4k hits from each side.
On the tune half this gave MRR@10 0.69-0.71 against 0.59-0.62 for the RRF (k 60) used before
and 0.59 for vector search alone; heavier text weights won on some stores and lost on others
(LanceDB 0.66 at 0.4, Milvus 0.65 at 0.6), RRF at any weight or constant stayed below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from owui.retrieval.vectors.base import Hit

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Fusion:
    method: str = "convex"  # convex | rrf
    text_weight: float = 0.5  # the full-text list's share; the vector list has the rest
    depth: int = 4  # each list gives depth * k hits (at least MIN_DEPTH) to the fusion
    rrf_k: int = RRF_K


MIN_DEPTH = 20
DEFAULT = Fusion()


def depth_for(k: int, fusion: Fusion = DEFAULT) -> int:
    """How many of each list go into the fusion of k hits."""
    return max(k * fusion.depth, MIN_DEPTH)


def rrf_scale(lists: int) -> float:
    return lists / (RRF_K + 1)


def fuse(ranked: Sequence[Sequence[Hit]], k: int, fusion: Fusion | None = None) -> list[Hit]:
    """`ranked` is [vector hits, text hits] (or any lists, equally weighted, for "rrf")."""
    fusion = fusion or DEFAULT
    weights = _weights(len(ranked), fusion)
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for hits, weight in zip(ranked, weights, strict=True):
        if not hits:
            continue
        top = max(hits[0].score, 1e-12)
        for rank, hit in enumerate(hits, start=1):
            if fusion.method == "rrf":
                part = weight * (fusion.rrf_k + 1) / (fusion.rrf_k + rank)
            else:
                part = weight * max(hit.score, 0.0) / top
            scores[hit.id] = scores.get(hit.id, 0.0) + part
            first.setdefault(hit.id, hit)
    order = sorted(scores, key=scores.__getitem__, reverse=True)[:k]
    return [replace(first[key], score=scores[key]) for key in order]


def _weights(lists: int, fusion: Fusion) -> list[float]:
    if lists == 2:
        return [1.0 - fusion.text_weight, fusion.text_weight]
    return [1.0 / lists] * lists if lists else []
