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
from sklearn.feature_extraction.text import CountVectorizer

from ..text import stem, words
from .matrices import term_major
from .ranking import accumulate
from .tables import TermTable

# Words that never tell two FAQ intents apart. Question words, modal verbs and
# negations are deliberately absent.
FILLER_WORDS = frozenset("a an the of to and or in on at by for it its this that these those".split())
K1 = 1.2   # textbook BM25 constants, not tuned
B = 0.75


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

    def scores(self, terms: list[str]) -> np.ndarray:
        """Per passage: max over its texts of BM25(query, text) / the query's best possible score.

        Query words the field never uses count in that bound at the highest
        idf, so a question mostly about other things matches weakly.
        """
        result = np.zeros(self.n_passages_)
        if not len(self.owners_) or not terms:
            return result
        distinct = set(terms)
        found = (self.vocabulary_.get(t) for t in distinct)
        ids = np.array(sorted(i for i in found if i is not None), dtype=np.int64)
        if not len(ids):
            return result
        unknown = len(distinct) - len(ids)
        bound = (float(self.idf_[ids].sum()) + unknown * float(self.idf_.max())) * (K1 + 1)
        per_text = accumulate(self.postings_, ids, np.full(len(ids), 1.0 / bound), len(self.owners_))
        if self._one_text_each:
            return per_text
        if len(self._starts) == len(per_text):  # one text a passage: nothing to take the max of
            result[self._rows] = per_text
        else:
            result[self._rows] = np.maximum.reduceat(per_text, self._starts)
        return result


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
    counter = CountVectorizer(analyzer=intent_terms, dtype=np.float64)
    try:
        counts = counter.fit_transform(list(distinct)).tocsr()[rows]
    except ValueError:  # nothing but filler words
        return [FieldMatcher(n_passages=n_passages) for _ in fields]
    del distinct
    vocabulary = TermTable.of_vocabulary(counter.vocabulary_)
    n_docs = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    matchers, start = [], 0
    for field, owners in fields:
        block = counts[start:start + len(field)].tocsr()
        start += len(field)
        if not len(field):
            matchers.append(FieldMatcher(vocabulary, idf, None, None, n_passages))
            continue
        lengths = np.asarray(block.sum(axis=1)).ravel()
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        tf = block.data
        block.data = idf[block.indices] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[rows] / lengths.mean()))
        matchers.append(FieldMatcher(vocabulary, idf, term_major(block), owners, n_passages))
    return matchers
