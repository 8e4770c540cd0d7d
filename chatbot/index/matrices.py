"""Sparse-matrix building blocks of the index: sentence spans, field sums, postings."""
from __future__ import annotations

import ctypes

import numpy as np
from scipy import sparse

from ..text import split_sentences

FIELDS = ("text", "aside", "section", "question")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of a passage's text; lines of a list or
    table are sentences of their own. Every passage has at least one span."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        cursor = 0
        for sentence in split_sentences(line) or [line]:
            start = line.find(sentence, cursor)
            start = cursor if start < 0 else start
            cursor = start + len(sentence)
            if sentence.strip():
                spans.append((offset + start, offset + cursor))
        offset += len(line) + 1
    return spans or [(0, len(text))]


def group_rows(rows: sparse.csr_matrix, owner: np.ndarray, keep: np.ndarray, n: int) -> sparse.csr_matrix:
    """Sum the kept rows into `n` groups: row j goes to group owner[j]."""
    grouping = sparse.csr_matrix((keep.astype(np.float32), (owner, np.arange(len(owner)))),
                                 shape=(n, len(owner)))
    return (grouping @ rows).tocsr()


def weighted_sum(vectors: dict, weights: dict) -> sparse.csr_matrix:
    """sum_f w_f * v_f / (text weight + weights of the optional fields present), row-wise.

    Optional fields count in the denominator only where a row has them; the
    text always counts, so a row of cross-references alone stays weak.
    """
    present = sum(weights[f] * (np.diff(vectors[f].indptr) > 0) for f in FIELDS if f != "text")
    present = present + weights["text"]
    present = np.where(present > 0, present, 1.0)
    total = None
    for f in FIELDS:  # one term at a time: a large build holds two matrices, not five
        term = sparse.diags(weights[f] / present) @ vectors[f]
        total = term if total is None else total + term
        del term
    return total.tocsr()


def term_major(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    """Passages x terms -> terms x passages CSR with sorted indices (the postings), float32.

    A CSR `matrix` is consumed: its values are made float32 in place first, so
    the transposed copy is made of float32 values (the same values as casting
    after; 4 bytes an entry less at the peak of a large build).
    """
    if sparse.issparse(matrix) and matrix.format == "csr" and matrix.dtype != np.float32:
        matrix.data = matrix.data.astype(np.float32)
    postings = sparse.csr_matrix(matrix.T, dtype=np.float32)
    postings.sort_indices()
    return postings


def weighted_sum_in_chunks(vectors: dict, weights: dict, chunk: int) -> sparse.csr_matrix:
    """weighted_sum(vectors, weights) as float32, `chunk` rows at a time.

    The same values as one pass (every step works row by row), but a build
    holds one chunk's float64 sums at a time instead of the whole matrix's.
    """
    n = vectors["text"].shape[0]
    parts = []
    for start in range(0, n, chunk):
        part = weighted_sum({f: v[start:start + chunk] for f, v in vectors.items()}, weights)
        part.data = part.data.astype(np.float32)
        parts.append(part)
    return sparse.vstack(parts, format="csr") if len(parts) > 1 else parts[0]


def term_major_of_chunks(chunks, n_terms: int, n_columns: int, blocks: int = 16) -> sparse.csr_matrix:
    """term_major(vstack(chunks)), the same arrays, for an iterable of consecutive row chunks.

    Transposing a stacked matrix holds it twice (stacked and transposed), the
    peak of a large build. Here each chunk is transposed when it comes and cut
    into `blocks` ranges of terms; the result is then filled one term range at
    a time while that range's pieces are freed, so the pieces and the result
    together stay about one copy of the matrix.
    """
    edges = np.linspace(0, n_terms, blocks + 1).astype(np.int64)
    column_dtype = np.int32 if max(n_columns, n_terms) < 2 ** 31 else np.int64
    pieces: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(blocks)]
    lengths = np.zeros(n_terms, dtype=np.int64)
    first_column = 0
    for chunk in chunks:
        transposed = term_major(chunk)  # terms x the chunk's rows, columns ascending
        row_lengths = np.diff(transposed.indptr).astype(np.int64)
        lengths += row_lengths
        for block, (start, end) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
            low, high = transposed.indptr[start], transposed.indptr[end]
            pieces[block].append((np.add(transposed.indices[low:high], first_column, dtype=column_dtype),
                                  transposed.data[low:high].copy(), row_lengths[start:end]))
        first_column += chunk.shape[0]
        del transposed, chunk
    nnz = int(lengths.sum())
    index_dtype = np.int32 if max(nnz, n_columns, n_terms) < 2 ** 31 else np.int64  # as scipy picks
    indptr = np.zeros(n_terms + 1, dtype=index_dtype)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.empty(nnz, dtype=index_dtype)
    data = np.empty(nnz, dtype=np.float32)
    for block, (start, end) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        filled = indptr[start:end].astype(np.int64)  # next free position of each term's row
        while pieces[block]:
            columns, values, row_lengths = pieces[block].pop(0)
            within = np.arange(len(columns)) - np.repeat(np.cumsum(row_lengths) - row_lengths, row_lengths)
            target = np.repeat(filled, row_lengths) + within
            indices[target] = columns
            data[target] = values
            filled += row_lengths
            del columns, values, row_lengths
        release_freed_memory()  # this range's pieces, before the next range's part of the result is touched
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(n_terms, n_columns))
    matrix.sort_indices()
    return matrix


def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give the memory freed so far back to the system, where the C library allows it (glibc).

    Arrays of a few megabytes come from the heap once glibc has raised its mmap
    threshold, and freeing them does not lower the process's RSS: the pieces a
    large build frees while it fills a result would still count at its peak.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
