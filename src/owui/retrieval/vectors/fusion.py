"""Reciprocal rank fusion (Cormack et al.), with scores scaled so first-in-every-list is 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from owui.retrieval.vectors.base import Hit

RRF_K = 60


def rrf_scale(lists: int) -> float:
    return lists / (RRF_K + 1)


def fuse(ranked: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    from dataclasses import replace

    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for hits in ranked:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(hit.id, hit)
    scale = rrf_scale(len(ranked))
    order = sorted(scores, key=scores.__getitem__, reverse=True)[:k]
    return [replace(first[key], score=scores[key] / scale) for key in order]
