"""Drop exact and near-duplicate passages, keeping the first in corpus order."""
from __future__ import annotations

import hashlib

import numpy as np
from scipy import sparse

from .model import Passage

SHINGLE_WORDS = 3
NEAR_DUPLICATE_JACCARD = 0.8
# A shingle found in more passages than this is boilerplate, not evidence of
# copying; leaving it out keeps the pair search sparse on large corpora.
MAX_SHINGLE_PASSAGES = 50


def _key(passage: Passage) -> str:
    # Case and white space only: punctuation rarely differs between copies, and
    # a regex tokenizer here would be a third pass over every text of a build.
    return " ".join(f"{passage.question or ''} {passage.text}".lower().split())


def _shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    if len(tokens) < SHINGLE_WORDS:
        return {tuple(tokens)}
    # The shifted copies are shorter by design: zip stops at the last whole shingle.
    return set(zip(*(tokens[i:] for i in range(SHINGLE_WORDS)), strict=False))


def drop_duplicates(passages: list[Passage]) -> tuple[list[Passage], int, int]:
    """Return (kept passages, exact duplicates dropped, near duplicates dropped)."""
    seen: set[str] = set()
    unique: list[Passage] = []
    for passage in passages:
        digest = hashlib.sha1(_key(passage).encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append(passage)
    exact = len(passages) - len(unique)
    near = _near_duplicate_rows(unique)
    kept = [p for i, p in enumerate(unique) if i not in near]
    return kept, exact, len(near)


def _near_duplicate_rows(passages: list[Passage]) -> set[int]:
    """Rows whose shingle Jaccard with an earlier row reaches the threshold."""
    if len(passages) < 2:
        return set()
    rows, cols, vocab = [], [], {}
    sizes = np.zeros(len(passages), dtype=np.int64)
    for i, passage in enumerate(passages):
        shingles = _shingles(_key(passage).split())
        sizes[i] = len(shingles)
        for s in shingles:
            rows.append(i)
            cols.append(vocab.setdefault(s, len(vocab)))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                               shape=(len(passages), len(vocab)))
    common = np.asarray((matrix > 0).sum(axis=0)).ravel() > MAX_SHINGLE_PASSAGES
    matrix = matrix[:, ~common] if common.any() else matrix
    overlap = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    union = sizes[overlap.row] + sizes[overlap.col] - overlap.data
    similar = overlap.data / np.maximum(union, 1) >= NEAR_DUPLICATE_JACCARD
    return set(overlap.col[similar].tolist())  # col > row: the later passage goes
