"""Scoring over term-major postings: a query touches only its own terms' rows."""
from __future__ import annotations

import numpy as np
from scipy import sparse


def accumulate(postings: sparse.csr_matrix, term_ids: np.ndarray, weights: np.ndarray,
               n_columns: int) -> np.ndarray:
    """Dense scores: sum over query terms t of weights[t] * postings[t, :].

    Only the rows of `term_ids` are read; `np.bincount` adds their entries.
    """
    starts = postings.indptr[term_ids]
    ends = postings.indptr[term_ids + 1]
    if len(term_ids) == 1:
        s, e = starts[0], ends[0]
        scores = np.zeros(n_columns, dtype=np.float64)
        scores[postings.indices[s:e]] = postings.data[s:e] * weights[0]
        return scores
    cols = np.concatenate([postings.indices[s:e] for s, e in zip(starts, ends)])
    vals = np.concatenate([postings.data[s:e] * w for s, e, w in zip(starts, ends, weights)])
    # float64 even when every row is empty (bincount of nothing is int64).
    return np.bincount(cols, weights=vals, minlength=n_columns).astype(np.float64, copy=False)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest positive scores, best first; ties go to the lower index.

    Only positive scores are partitioned: numpy's partition slows down tenfold
    on arrays that are mostly equal values, and most passages score zero. Every
    index scoring at least the k-th score is then ordered, so a tie at the cut
    is broken the same way whatever k is.
    """
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    positive = np.flatnonzero(scores >= np.finfo(float).tiny)
    if len(positive) > k:
        values = scores[positive]
        positive = positive[values >= np.partition(values, len(values) - k)[len(values) - k]]
    return positive[np.lexsort((positive, -scores[positive]))][:k]
