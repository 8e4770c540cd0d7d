"""Match a visitor's question against the fields of FAQ entries, BM25 style.

For an FAQ entry the best FAQ retrievers rank by query-question similarity
first and use the answer as supporting evidence (Sakata et al., SIGIR 2019).
Both fields are matched here on intent terms: the words that separate FAQ
intents ("why", "how", "when", "should", "can") stay, and only articles,
prepositions and pronouns of no intent are dropped.

Each text of a field (one wording of an entry's question or alternates; an
entry's answer) is scored with BM25, its length normalised within its own
field, so a long answer never dilutes the question match (BM25F's per-field
normalisation). A score is divided by the most the query could score (every
query term found at saturation), so it lies in [0, 1] and means the same
across queries; an entry scores its closest text. Measured against a TF-IDF
cosine of the same terms, BM25 ranked better on both FAQ benchmarks.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from ..text import stem, words
from .matrices import term_major
from .memo import LastCall
from .ranking import RowMaxima, accumulate, accumulate_at
from .tables import TermTable
from .terms import TermCounter

# Words that never tell two FAQ intents apart. Question words, modal verbs and
# negations are deliberately absent.
FILLER_WORDS = frozenset("a an the of to and or in on at by for it its this that these those".split())
K1 = 1.2   # textbook BM25 constants, not tuned
B = 0.75
# Up to this many texts in a field, scoring all of them and picking `rows` is cheaper
# than a binary search per query term (FieldMatcher.scores_at): for the best passage's
# question match over the clinic's 462 written questions, 32 against 84 us a query.
DENSE_FIELD_MAX_TEXTS = 5_000


def intent_terms(text: str) -> list[str]:
    """Stems of the words of `text` that may carry intent (analyzer of the FAQ fields)."""
    return [stem(w) for w in words(text) if w not in FILLER_WORDS and len(w) < 40]


class FieldMatcher:
    """BM25 of a query against the closest text of each passage in one field.

    Built by `fit_field_matchers`; `scores(terms)` gives one value in [0, 1]
    per passage, 0 for passages with no text in the field.
    """

    def __init__(self, vocabulary: TermTable | None = None, idf: np.ndarray | None = None,
                 postings=None, owners: np.ndarray | None = None, n_passages: int = 0):
        self.vocabulary_ = TermTable.of([]) if vocabulary is None else vocabulary
        self.idf_ = np.zeros(0) if idf is None else idf
        self.postings_ = term_major(np.zeros((0, 0))) if postings is None else postings
        self.owners_ = np.zeros(0, dtype=np.int64) if owners is None else np.asarray(owners, dtype=np.int64)
        self.n_passages_ = n_passages
        starts = np.flatnonzero(np.r_[True, self.owners_[1:] != self.owners_[:-1]]) if len(self.owners_) else []
        self._rows = self.owners_[starts] if len(self.owners_) else self.owners_
        self._starts = np.asarray(starts, dtype=np.int64)
        # Every passage has exactly one text here (an FAQ bank): a text's score is its passage's.
        self._one_text_each = len(self.owners_) == n_passages > 0 and bool(
            np.array_equal(self.owners_, np.arange(n_passages)))
        self.row_maxima = RowMaxima(self.postings_)
        self._highest_idf: float | None = None
        self._last_query = LastCall(self._query_terms)

    def scores(self, terms: list[str]) -> np.ndarray:
        """Per passage: max over its texts of BM25(query, text) / the query's best possible score.

        Query words the field never uses count in that bound at the highest
        idf, so a question mostly about other things matches weakly.
        """
        result = np.zeros(self.n_passages_)
        ids, weights = self.query_terms(terms)
        if not len(ids):
            return result
        per_text = accumulate(self.postings_, ids, weights, len(self.owners_))
        if self._one_text_each:
            return per_text
        if len(self._starts) == len(per_text):  # one text a passage: nothing to take the max of
            result[self._rows] = per_text
        else:
            result[self._rows] = np.maximum.reduceat(per_text, self._starts)
        return result

    def query_terms(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(term ids, weights) that `scores` sums: the query's known terms in id order,
        each weighted by 1 / the query's best possible score; empty when none is known."""
        return self._last_query(tuple(terms))

    def _query_terms(self, terms: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        nothing = np.zeros(0, dtype=np.int64), np.zeros(0)
        if not len(self.owners_) or not terms:
            return nothing
        distinct = set(terms)
        found = (self.vocabulary_.get(t) for t in distinct)
        ids = np.array(sorted(i for i in found if i is not None), dtype=np.int64)
        if not len(ids):
            return nothing
        unknown = len(distinct) - len(ids)
        if self._highest_idf is None:  # a pass over the whole vocabulary: once
            self._highest_idf = float(self.idf_.max())
        bound = (float(self.idf_[ids].sum()) + unknown * self._highest_idf) * (K1 + 1)
        return ids, np.full(len(ids), 1.0 / bound)

    def scores_at(self, terms: list[str], rows: np.ndarray) -> np.ndarray:
        """scores(terms)[rows], bit for bit, reading only the texts of `rows` (sorted ascending)."""
        result = np.zeros(len(rows))
        ids, weights = self.query_terms(terms)
        if not len(ids) or not len(rows):
            return result
        if len(self.owners_) <= DENSE_FIELD_MAX_TEXTS:
            return self.scores(terms)[np.asarray(rows, dtype=np.int64)]
        if self._one_text_each:
            return accumulate_at(self.postings_, ids, weights, np.asarray(rows, dtype=np.int64))
        # The texts of each row: a run of owners_ starting at _starts[position of the row in _rows].
        position = np.searchsorted(self._rows, rows)
        has_text = position < len(self._rows)
        has_text[has_text] = self._rows[position[has_text]] == rows[has_text]
        position = position[has_text]
        if not len(position):
            return result
        firsts = self._starts[position]
        ends = np.append(self._starts, len(self.owners_))[position + 1]
        counts = ends - firsts
        texts = np.repeat(firsts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        per_text = accumulate_at(self.postings_, ids, weights, texts)
        result[has_text] = np.maximum.reduceat(per_text, np.cumsum(counts) - counts)
        return result


def matcher_of_texts(like: FieldMatcher, texts) -> FieldMatcher:
    """A matcher of `texts` as the one field of a single row, in `like`'s vocabulary and idf:
    `scores(terms)[0]` is how closely a query matches the closest of them (0 when there are none).

    For the questions no passage answers (questions.txt): they are fitted with the other
    fields, so their words are in the vocabulary and count in its idf, and the matcher is
    made from the saved vocabulary and the texts whenever an index is built or loaded.
    """
    rows = [[i for i in map(like.vocabulary_.get, intent_terms(t)) if i is not None] for t in texts]
    rows = [r for r in rows if r]
    if not rows:
        return FieldMatcher(n_passages=1)
    counts = sparse.csr_matrix((np.ones(sum(map(len, rows))), np.concatenate(rows),
                                np.cumsum([0, *map(len, rows)])), shape=(len(rows), len(like.vocabulary_)))
    counts.sum_duplicates()
    return FieldMatcher(like.vocabulary_, like.idf_, term_major(_bm25_weighted(counts, like.idf_)),
                        np.zeros(len(rows), dtype=np.int64), 1)


def fit_field_matchers(fields: list[tuple[list[str], np.ndarray]], background: list[str],
                       n_passages: int) -> list[FieldMatcher]:
    """One FieldMatcher per (texts, owners) field, sharing one vocabulary and idf.

    owners[j] is the passage row of text j, in ascending order. Document
    frequency counts the `background` texts (every passage) too: a word every
    answer uses ("covid" in a COVID FAQ) says little about which entry is
    meant, even when few questions use it.
    """
    texts = [t for field, _ in fields for t in field]
    if not texts:
        return [FieldMatcher(n_passages=n_passages) for _ in fields]
    # An FAQ entry's answer is also its passage's text in the background:
    # each distinct text is tokenized once, its row then used wherever it stands.
    distinct: dict[str, int] = {}
    rows = np.fromiter((distinct.setdefault(t, len(distinct)) for t in [*texts, *background]), dtype=np.int64)
    counter = TermCounter(FILLER_WORDS, bigrams=False, dtype=np.float64)  # the terms of intent_terms
    try:
        counts = counter.fit_transform(distinct)  # a row per distinct text
    except ValueError:  # nothing but filler words
        return [FieldMatcher(n_passages=n_passages) for _ in fields]
    del distinct
    vocabulary = TermTable.of(counter.terms_)
    n_docs = len(rows)
    # Document frequency over every text, a distinct text counting as often as it stands.
    uses = np.bincount(rows, minlength=counts.shape[0])
    df = np.bincount(counts.indices, weights=np.repeat(uses, np.diff(counts.indptr)), minlength=counts.shape[1])
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    matchers, start = [], 0
    for field, owners in fields:
        block = counts[rows[start:start + len(field)]]
        start += len(field)
        if not len(field):
            matchers.append(FieldMatcher(vocabulary, idf, None, None, n_passages))
            continue
        matchers.append(FieldMatcher(vocabulary, idf, term_major(_bm25_weighted(block, idf)), owners, n_passages))
    return matchers


def _bm25_weighted(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """`counts` (texts x terms) with each entry replaced by its BM25 weight, each text's
    length normalised against the mean length of these texts (in place)."""
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    row_of_entry = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    tf = counts.data
    counts.data = idf[counts.indices] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[row_of_entry]
                                                                  / lengths.mean()))
    return counts
