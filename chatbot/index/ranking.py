"""Scoring over term-major postings: a query touches only its own terms' rows."""
from __future__ import annotations

import numpy as np
from scipy import sparse

_TINY = np.finfo(float).tiny  # looked up once: np.finfo costs a few us a call


def accumulate(postings: sparse.csr_matrix, term_ids: np.ndarray, weights: np.ndarray,
               n_columns: int) -> np.ndarray:
    """Dense scores: sum over query terms t of weights[t] * postings[t, :].

    Only the rows of `term_ids` are read; `np.bincount` adds their entries.
    """
    # Python ints slice faster than numpy scalars; the weights stay float64 scalars,
    # so each product is float64 as before.
    starts = postings.indptr[term_ids].tolist()
    ends = postings.indptr[term_ids + 1].tolist()
    if len(term_ids) == 1:
        s, e = starts[0], ends[0]
        scores = np.zeros(n_columns, dtype=np.float64)
        scores[postings.indices[s:e]] = postings.data[s:e] * weights[0]
        return scores
    cols = np.concatenate([postings.indices[s:e] for s, e in zip(starts, ends, strict=True)])
    vals = np.concatenate([postings.data[s:e] * w for s, e, w in zip(starts, ends, weights, strict=True)])
    # float64 even when every row is empty (bincount of nothing is int64).
    return np.bincount(cols, weights=vals, minlength=n_columns).astype(np.float64, copy=False)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: np.unique's result, by a sort.

    numpy 2's np.unique goes through a hash table, 4-25 times slower than
    sorting on the few hundred to few thousand passage ids of a query.
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest positive scores, best first; ties go to the lower index.

    Only positive scores are partitioned: numpy's partition slows down tenfold
    on arrays that are mostly equal values, and most passages score zero. Every
    index scoring at least the k-th score is then ordered, so a tie at the cut
    is broken the same way whatever k is.
    """
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    positive = np.flatnonzero(scores >= _TINY)
    if len(positive) > k:
        values = scores[positive]
        positive = positive[values >= np.partition(values, len(values) - k)[len(values) - k]]
    return positive[np.lexsort((positive, -scores[positive]))][:k]


def row_values(postings: sparse.csr_matrix, term_id: int, columns: np.ndarray) -> np.ndarray:
    """postings[term_id, columns] as a dense float32 vector; `columns` sorted ascending.

    A binary search of the columns in the term's sorted row: the cost grows with
    len(columns) * log(row length), not with the row.
    """
    inside, position = find_columns(postings, term_id, columns)
    values = np.zeros(len(columns), dtype=np.float32)
    values[inside] = postings.data[position]
    return values


def find_columns(postings: sparse.csr_matrix, term_id: int, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the columns found in row term_id, their positions in postings.indices/data)."""
    start, end = int(postings.indptr[term_id]), int(postings.indptr[term_id + 1])
    inside = np.zeros(len(columns), dtype=bool)
    if start == end or not len(columns):
        return inside, np.zeros(0, dtype=np.int64)
    found = postings.indices[start:end]
    # The array method, not np.searchsorted: its dispatch costs as much as a short search.
    if len(found) < len(columns):  # search the shorter of the two sorted lists in the longer
        position = columns.searchsorted(found)
        hit = position < len(columns)
        hit[hit] = columns[position[hit]] == found[hit]
        inside[position[hit]] = True
        return inside, start + np.flatnonzero(hit)
    position = found.searchsorted(columns)
    inside = position < len(found)
    inside[inside] = found[position[inside]] == columns[inside]
    return inside, start + position[inside]


def accumulate_at(postings: sparse.csr_matrix, term_ids: np.ndarray, weights: np.ndarray,
                  columns: np.ndarray) -> np.ndarray:
    """accumulate(postings, term_ids, weights, n)[columns], bit for bit, without the dense pass.

    Each column sums its terms' products in the order of `term_ids` from 0.0, as
    `np.bincount` does in `accumulate`; a term a column lacks adds 0.0, which
    changes no sum of non-negative values.
    """
    scores = np.zeros(len(columns), dtype=np.float64)
    for term, weight in zip(term_ids, weights, strict=True):
        scores += row_values(postings, int(term), columns) * weight
    return scores


class RowMaxima:
    """The largest value of each row of a postings matrix, read once per row and kept.

    Only the long rows of common terms are asked for, so the cache stays small.
    """

    def __init__(self, postings: sparse.csr_matrix):
        self._postings = postings
        self._maxima: dict[int, float] = {}

    def __call__(self, term_id: int) -> float:
        term_id = int(term_id)
        found = self._maxima.get(term_id)
        if found is None:
            start, end = self._postings.indptr[term_id], self._postings.indptr[term_id + 1]
            found = float(self._postings.data[start:end].max()) if end > start else 0.0
            self._maxima[term_id] = found
        return found
