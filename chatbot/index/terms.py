"""The terms the word index is built from: stems and stem bigrams."""
from __future__ import annotations

from array import array
from collections.abc import Iterable
from itertools import pairwise

import numpy as np
from scipy import sparse

from ..text import STOP_WORDS, content_stems, stem, words


def ngrams(stems: list[str]) -> list[str]:
    """Unigrams then bigrams of a stem sequence ("lower back pain" -> ..., "back pain")."""
    return stems + [f"{a} {b}" for a, b in pairwise(stems)]


def word_terms(text: str) -> list[str]:
    """Analyzer of the word index: content stems of `text` and their bigrams.

    Module-level so the vectorizer that holds it stays a plain object.
    """
    return ngrams(content_stems(text))


KEY_BLOCK = 250_000  # texts whose (row, term) keys are sorted at a time


class _StemIds(dict):
    """Surface word -> id of its stem (-1 for a word that makes no term); each new word stemmed once."""

    def __init__(self, dropped: frozenset[str]):
        super().__init__()
        self.dropped = dropped
        self.stems: list[str] = []  # stem of each id
        self._ids: dict[str, int] = {}

    def __missing__(self, word: str) -> int:
        if word in self.dropped or len(word) >= 40:
            self[word] = -1
            return -1
        word_stem = stem(word)
        found = self._ids.get(word_stem)
        if found is None:
            found = self._ids[word_stem] = len(self.stems)
            self.stems.append(word_stem)
        self[word] = found
        return found


class TermCounter:
    """Term counts per text, as scikit-learn's CountVectorizer gives them, for less time and memory.

    The terms of a text are the stems of its words (`words`), except the
    `dropped` words and words of 40 characters or more, and with `bigrams`
    the stem bigrams of that sequence (`ngrams`): with dropped=STOP_WORDS and
    bigrams, exactly `word_terms`. Columns are the terms in sorted order, as
    CountVectorizer's. Why not CountVectorizer: it looks every term up in a
    Python dict as a string, and most bigrams of a large corpus occur once
    (3.5 M terms at 250k passages, most of a build's memory). Here each
    distinct word is stemmed once, a text becomes an array of stem ids, and
    bigrams are counted as pairs of ids with numpy; a bigram's string is made
    only when it is kept, and with `min_bigram_rows=2` the bigrams that one
    text alone uses are dropped before any matrix holds them.

    After `fit_transform`: `terms_` (column -> term), `seen_` (every word read).
    """

    def __init__(self, dropped: frozenset[str] = STOP_WORDS, bigrams: bool = True, min_bigram_rows: int = 1,
                 dtype=np.float32):
        self.dropped = dropped
        self.bigrams = bigrams
        self.min_bigram_rows = min_bigram_rows
        self.dtype = dtype

    def fit_transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """Texts x terms counts (CSR, sorted indices); ValueError when no text has a term."""
        stem_ids = _StemIds(self.dropped)
        flat, lengths = array("i"), array("q")
        seen: set[str] = set()
        for text in texts:
            tokens = words(text)
            seen.update(tokens)
            flat.extend([stem_ids[w] for w in tokens])
            lengths.append(len(tokens))
        self.seen_ = seen
        stems = stem_ids.stems
        del stem_ids
        n_texts = len(lengths)
        ids = np.frombuffer(flat, dtype=np.int32)
        rows = np.repeat(np.arange(n_texts, dtype=np.int32), np.frombuffer(lengths, dtype=np.int64))
        kept = ids >= 0
        ids, rows = ids[kept], rows[kept]  # int32: one per word of every text, the largest arrays here
        del flat, kept
        if not len(ids):
            raise ValueError("empty vocabulary; the texts hold only dropped words")
        entries = [(rows, ids)]  # (row, term number) of every occurrence; bigram numbers follow the stems
        terms = stems
        if self.bigrams:
            bigram_rows, bigram_numbers, bigram_terms = self._kept_bigrams(rows, ids, stems)
            entries.append((bigram_rows, bigram_numbers))
            terms = stems + bigram_terms
            del bigram_rows, bigram_numbers, bigram_terms
        order = sorted(range(len(terms)), key=terms.__getitem__)
        self.terms_ = [terms[i] for i in order]
        column = np.empty(len(terms), dtype=np.int64)
        column[order] = np.arange(len(terms))
        del terms, order, rows, ids
        n_terms = len(self.terms_)
        index_dtype = np.int32 if n_terms < 2 ** 31 and sum(len(row) for row, _ in entries) < 2 ** 31 else np.int64
        # Rows are counted KEY_BLOCK at a time: one (row, column) key per occurrence of
        # the block's terms, sorted; the keys of every text at once were the peak of a build.
        columns, values, sizes = [], [], []
        for first in range(0, n_texts, KEY_BLOCK):
            last = min(first + KEY_BLOCK, n_texts)
            parts = []
            for row, term in entries:  # each sorted by row
                start, end = np.searchsorted(row, (first, last))
                part = np.multiply(row[start:end], n_terms, dtype=np.int64)
                part += column[term[start:end]]
                parts.append(part)
            keys, counts = _distinct(np.concatenate(parts))
            del parts
            sizes.append(np.bincount(keys // n_terms - first, minlength=last - first))
            columns.append((keys % n_terms).astype(index_dtype))
            values.append(counts.astype(self.dtype))
            del keys, counts
        del entries
        indptr = np.zeros(n_texts + 1, dtype=index_dtype)
        np.cumsum(np.concatenate(sizes), out=indptr[1:])
        return sparse.csr_matrix((np.concatenate(values), np.concatenate(columns), indptr), shape=(n_texts, n_terms))

    def _kept_bigrams(self, rows: np.ndarray, ids: np.ndarray,
                      stems: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(row, term number) of every kept bigram occurrence, numbered from len(stems) on,
        and the kept bigrams' strings in number order.

        Written for memory: pairs of stem ids are int64 codes, at most two arrays
        of one entry per word alive at once besides `rows` and `ids`.
        """
        n_stems = len(stems)
        follows = np.flatnonzero(rows[1:] == rows[:-1])  # a word and the next one of the same text
        codes = ids[follows].astype(np.int64)
        codes *= n_stems
        follows += 1
        codes += ids[follows]
        pair_rows = rows[follows]
        del follows
        pairs = _distinct(codes.copy())[0]
        pair_ids = np.searchsorted(pairs, codes).astype(np.int32)
        del codes
        # Texts using each pair: its distinct (row, pair) entries.
        used = pair_rows.astype(np.int64)
        used *= len(pairs)
        used += pair_ids
        used = _distinct(used)[0] % len(pairs)
        keep = np.bincount(used, minlength=len(pairs)) >= self.min_bigram_rows
        del used
        number = np.full(len(pairs), -1, dtype=np.int32)
        number[keep] = n_stems + np.arange(int(keep.sum()), dtype=np.int32)
        pair_ids = number[pair_ids]
        kept = pair_ids >= 0
        first, second = np.divmod(pairs[keep], n_stems)
        terms = [f"{stems[a]} {stems[b]}" for a, b in zip(first.tolist(), second.tolist(), strict=True)]
        return pair_rows[kept], pair_ids[kept], terms


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values of `keys`, how often each occurs); sorts `keys` in place.

    np.unique's hash table path is three times slower on tens of millions of keys.
    """
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64)
    keys.sort()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.diff(np.r_[starts, len(keys)])
