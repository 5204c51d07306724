"""BM25 search for Qdrant's local mode, from the local collection's own sparse vectors.

qdrant-client's local mode scores a sparse query with a Python loop over every point (a merge
of the query's and the point's indices each), and filters with another loop over every
payload: hybrid search then costs twice vector search. Here the same sparse vectors are kept
as postings (term -> slots and weights), built once per state of the collection and built
again after a write through the store (it bumps `version`), so a query touches only the
postings of its own terms.

The ranking is qdrant-client's, bit for bit: the query's IDF comes from the collection's own
`_rescore_idf`, each slot's score is summed in the same order (ascending term index, in double
precision, then float32), slots without a shared term are left out, and the order is the
same `argsort` over the same float32 scores, so even ties come out alike. It reads
qdrant-client's internals (`QdrantLocal.collections`, `LocalCollection`), which the tests pin
against its own `query_points`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Postings:
    terms: np.ndarray  # sorted distinct term indices
    starts: np.ndarray  # postings of terms[i] are slots[starts[i]:starts[i + 1]]
    slots: np.ndarray
    weights: np.ndarray  # float64, as the stored vectors hold them
    collections: np.ndarray  # the payload's "collection" of each slot
    size: int  # slots when built


def build(local: Any, vector_name: str) -> Postings:
    """Postings of every slot of `local` (a LocalCollection), deleted ones included: deletion
    is read at query time, as qdrant-client does."""
    size = len(local.payload)
    vectors = local.sparse_vectors[vector_name][:size]
    lengths = np.fromiter((len(v.indices) for v in vectors), dtype=np.int64, count=size)
    slots = np.repeat(np.arange(size, dtype=np.int64), lengths)
    terms = np.fromiter((i for v in vectors for i in v.indices), dtype=np.int64,
                        count=int(lengths.sum()))
    weights = np.fromiter((w for v in vectors for w in v.values), dtype=np.float64,
                          count=int(lengths.sum()))
    # By term, then by slot, so that each slot's sum below runs in ascending term order.
    order = np.lexsort((slots, terms))
    terms, slots, weights = terms[order], slots[order], weights[order]
    distinct, starts = np.unique(terms, return_index=True)
    collections = np.array([payload.get("collection") for payload in local.payload],
                           dtype=object)
    return Postings(distinct, np.append(starts, len(terms)), slots, weights, collections, size)


class LocalSparse:
    """Postings per Qdrant collection of a local-mode client, valid for one `version`."""

    def __init__(self) -> None:
        self.version = 0
        self._built: dict[str, tuple[int, Postings]] = {}

    def changed(self) -> None:
        self.version += 1

    def postings(self, local: Any, name: str, vector_name: str) -> Postings:
        built = self._built.get(name)
        if built is None or built[0] != self.version or built[1].size != len(local.payload):
            built = (self.version, build(local, vector_name))
            self._built[name] = built
        return built[1]

    def search(self, client: Any, name: str, vector_name: str, indices: list[int],
               values: list[float], collections: Sequence[str],
               limit: int) -> list[tuple[dict[str, Any], float]]:
        """(payload, score) of the best `limit` points of `collections`, as
        `client.query_points(name, SparseVector(indices, values), using=vector_name,
        query_filter=<collection in collections>, limit=limit)` ranks them. `client` is a
        local-mode QdrantClient; call with its lock held."""
        from qdrant_client import models

        local = client._client.collections[name]
        query = models.SparseVector(indices=indices, values=values)
        if local.config.sparse_vectors[vector_name].modifier == models.Modifier.IDF:
            query = local._rescore_idf(query, vector_name, None)
        postings = self.postings(local, name, vector_name)
        scores, touched = _scores(postings, query)
        # Local mode's deletion flags may be ints (it grows them with np.append): compare.
        allowed = (touched & np.isin(postings.collections, list(collections))
                   & (local.deleted[:postings.size] == 0)
                   & (local.deleted_per_vector[vector_name][:postings.size] == 0))
        order = np.argsort(scores)[::-1]
        best = order[allowed[order]][:limit]
        return [(local.payload[slot], float(scores[slot])) for slot in best]


def _scores(postings: Postings, query: Any) -> tuple[np.ndarray, np.ndarray]:
    sums = np.zeros(postings.size, dtype=np.float64)
    touched = np.zeros(postings.size, dtype=bool)
    pairs = sorted(zip(query.indices, query.values, strict=True))  # ascending term index
    for term, value in pairs:
        at = int(np.searchsorted(postings.terms, term))
        if at == len(postings.terms) or postings.terms[at] != term:
            continue
        lo, hi = postings.starts[at], postings.starts[at + 1]
        slots = postings.slots[lo:hi]
        sums[slots] += value * postings.weights[lo:hi]
        touched[slots] = True
    scores = np.where(touched, sums.astype(np.float32), np.float32("-inf")).astype(np.float32)
    return scores, touched
