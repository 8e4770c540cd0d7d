"""Read-only tables of strings that live in flat arrays, so that a memory-mapped
index shares them between processes instead of holding one Python dict each.

    StringTable   the i-th string of a UTF-8 blob cut by an offsets array
    TermTable     a StringTable that also finds a string's position: a sorted
                  array of 64-bit hashes, binary search (np.searchsorted), then
                  the stored bytes are compared, so a hash collision never
                  returns a wrong id
    PassageTable  passages stored as JSON lines, decoded when asked for

Every table is built from plain numpy arrays (`arrays()` gives them back for
saving), and works the same on arrays in memory or memory-mapped from disk.
"""
from __future__ import annotations

import functools
import hashlib
import json
from array import array
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..passages.model import Passage

PASSAGE_CACHE_SIZE = 4096  # decoded passages kept per process: the ones hits show again and again
RECENT_TERMS = 50_000  # term lookups remembered per table (a few MB), forgotten all at once when full
_NOT_SEEN = object()


def term_hash(term: str) -> int:
    """Stable 64-bit hash of a term (the same in every process and Python version)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little")


def _blob(strings: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes of the strings one after another, offsets with a final end).

    Appended to one buffer as they come: a list of every encoded string and
    its join were two more copies of the passages when a large index is saved.
    """
    blob = bytearray()
    lengths = array("q")
    for s in strings:
        encoded = s.encode("utf-8")
        blob += encoded
        lengths.append(len(encoded))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.frombuffer(lengths, dtype=np.int64), out=offsets[1:])
    return np.frombuffer(blob, dtype=np.uint8), offsets


class _Table(Sequence):
    """A read-only sequence whose `_item(i)` makes the i-th value; indexes and compares like a list."""

    def _item(self, i: int):
        raise NotImplementedError

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._item(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._item(int(i))

    def __eq__(self, other) -> bool:
        if isinstance(other, (_Table, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None


class StringTable(_Table):
    """An immutable sequence of strings over (blob, offsets) arrays."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        if offsets.ndim != 1 or len(offsets) < 1 or int(offsets[-1]) != len(blob):
            raise ValueError("string table offsets do not match its data")
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def of(cls, strings: Iterable[str]) -> "StringTable":
        return cls(*_blob(strings))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"blob": self._blob, "offsets": self._offsets}

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _bytes(self, i: int) -> bytes:
        return self._blob[self._offsets[i]:self._offsets[i + 1]].tobytes()

    def _item(self, i: int) -> str:
        return self._bytes(i).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self)):
            yield self._bytes(i).decode("utf-8")


class TermTable(StringTable):
    """Strings with their position: `get(term)` is the id (row) of `term`, or None.

    Supports `in`, `table[term]` (KeyError when absent), `len`, iteration over
    the terms in id order and `items()`, like the dict it replaces.
    """

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, hashes: np.ndarray, ids: np.ndarray):
        super().__init__(blob, offsets)
        if not len(hashes) == len(ids) == len(self):
            raise ValueError("term table hashes do not match its terms")
        self._hashes = hashes  # sorted
        self._ids = ids  # ids[i] is the term whose hash is hashes[i]
        self._recent: dict[str, int | None] = {}

    @classmethod
    def of(cls, terms: Iterable[str]) -> "TermTable":
        """The table of `terms` (distinct), each getting its position as id."""
        terms = list(terms)
        hashes = np.fromiter((term_hash(t) for t in terms), dtype=np.uint64, count=len(terms))
        ids = np.argsort(hashes, kind="stable")
        return cls(*_blob(terms), hashes[ids], ids.astype(np.int64))

    @classmethod
    def of_vocabulary(cls, vocabulary: dict[str, int]) -> "TermTable":
        """The table of a {term: id} dict whose ids are 0..n-1."""
        terms = [""] * len(vocabulary)
        for term, column in vocabulary.items():
            terms[column] = term
        return cls.of(terms)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "hashes": self._hashes, "ids": self._ids}

    def get(self, term: str, default=None):
        # A parsed query makes dozens of these calls, mostly for the same few
        # thousand words: a small dict of recent answers (a tenth of the time)
        # in front of the search.
        row = self._recent.get(term, _NOT_SEEN)
        if row is _NOT_SEEN:
            row = self._search(term)
            if len(self._recent) >= RECENT_TERMS:
                self._recent.clear()
            self._recent[term] = row
        return default if row is None else row

    def _search(self, term: str) -> int | None:
        # The array method, not np.searchsorted, whose dispatch costs ten times the search itself.
        hashes = self._hashes
        wanted = np.uint64(term_hash(term))
        position = int(hashes.searchsorted(wanted))
        encoded = term.encode("utf-8")
        while position < len(hashes) and hashes[position] == wanted:
            row = int(self._ids[position])
            if self._bytes(row) == encoded:
                return row
            position += 1
        return None

    def __contains__(self, term) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __getitem__(self, key):
        if isinstance(key, str):
            row = self.get(key)
            if row is None:
                raise KeyError(key)
            return row
        return super().__getitem__(key)

    def items(self) -> Iterator[tuple[str, int]]:
        return ((term, i) for i, term in enumerate(self))


class PassageTable(_Table):
    """Passages stored as JSON lines (a StringTable), each decoded when first asked for."""

    def __init__(self, lines: StringTable):
        self.lines = lines
        self._decode = functools.lru_cache(maxsize=PASSAGE_CACHE_SIZE)(self._decode_uncached)

    @classmethod
    def of(cls, passages: Iterable[Passage]) -> "PassageTable":
        return cls(StringTable.of(json.dumps(p.to_dict(), ensure_ascii=False) for p in passages))

    def _decode_uncached(self, i: int) -> Passage:
        return Passage.from_dict(json.loads(self.lines[i]))

    def __len__(self) -> int:
        return len(self.lines)

    def _item(self, i: int) -> Passage:
        return self._decode(i)

    def __iter__(self) -> Iterator[Passage]:
        for line in self.lines:  # a whole pass does not go through the cache
            yield Passage.from_dict(json.loads(line))


class TermRows:
    """For each term of a TermTable, a sorted array of rows (CSR-like: indptr into `rows`)."""

    def __init__(self, terms: TermTable, indptr: np.ndarray, rows: np.ndarray):
        if len(indptr) != len(terms) + 1 or int(indptr[-1]) != len(rows):
            raise ValueError("term rows do not match their terms")
        self.terms = terms
        self.indptr = indptr
        self.rows = rows

    @classmethod
    def of(cls, mapping: dict[str, list[int]]) -> "TermRows":
        terms = list(mapping)
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(mapping[t]) for t in terms], out=indptr[1:])
        rows = np.fromiter((r for t in terms for r in mapping[t]), dtype=np.int64, count=int(indptr[-1]))
        return cls(TermTable.of(terms), indptr, rows)

    def get(self, term: str) -> np.ndarray | None:
        """The rows of `term`, or None when it has none."""
        i = self.terms.get(term)
        return None if i is None else self.rows[self.indptr[i]:self.indptr[i + 1]]

    def to_dict(self) -> dict[str, list[int]]:
        return {term: self.rows[self.indptr[i]:self.indptr[i + 1]].tolist() for i, term in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)
