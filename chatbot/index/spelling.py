"""Typo tolerance: character n-grams of the index vocabulary.

A misspelt word ("acupunture", "efects", "cuping") has no postings of its own.
Rather than index character n-grams of every passage (ten times the postings
and the query time), the index keeps a char_wb TF-IDF matrix over its own
distinct words. An unknown query word is looked up there to find candidates,
and a candidate is accepted only within a small edit distance (one edit for
words up to seven letters, two for longer ones) and with the same first letter,
so "needels" becomes "needles" but "joke" does not become "woke".

A word that is common English in its own right ("scarf", "president") is a
different word, not a typo: it is never corrected. How common a word is comes
from wordfreq, which ships its frequency tables inside the package.

Such a real word can still be a relative of a known one that the stemmer keeps
apart: "pregnant" and "pregnancy" stem to "pregnant" and "pregnanc",
"inflammatory" and "inflammation" to "inflammatori" and "inflamm". The same
n-gram lookup finds those relatives (`relatives`): a known word whose stem is
the other's plus a derivational ending, or differs from it only in a last
letter that spelling or derivation changes (t/c, s/z, f/v).
"""
from __future__ import annotations

import functools

import numpy as np
from nltk.metrics.distance import edit_distance
from sklearn.feature_extraction.text import TfidfVectorizer
from wordfreq import zipf_frequency

from ..text import stem
from .ranking import accumulate, top_k
from .tables import TermTable

CHAR_NGRAMS = (2, 4)
# Zipf frequency (log10 of uses per billion words) from which a word counts as
# real English: "scarf" is 3.7, "acupunture" 0, "pian" 2.0.
REAL_WORD_ZIPF = 3.0
MATCH_CACHE_SIZE = 10_000
# Relatives share a stem prefix of at least this many letters, and then differ
# only by an ending the Snowball stemmer leaves on: one stem is the other plus a
# derivational ending ("inflamm-atori", "cheap-er", "diagnos-i"), or their last
# letters are a spelling or derivation pair ("pregnan-t"/"pregnan-c",
# "realis"/"realiz", "relie-f"/"relie-v"). Looser rules (any shared prefix)
# matched "afternoon" to "after" and "standing" to "standard".
RELATIVE_MIN_PREFIX = 5
DERIVATIONAL_ENDINGS = frozenset({"i", "e", "er", "al", "ic", "ur", "ure", "ist", "ori", "atori", "ous", "iv"})
LAST_LETTER_PAIRS = frozenset({("c", "t"), ("s", "z"), ("f", "v"), ("i", "y")})


class SpellingMatcher:
    """Find known words that look like an unknown one (cosine of char n-grams)."""

    def __init__(self, max_matches: int = 3, candidates: int = 32):
        self.max_matches = max_matches
        self.candidates = candidates

    def fit(self, words: list[str]) -> "SpellingMatcher":
        """Learn the n-gram postings of `words` (distinct surface words)."""
        self.words_ = list(words)
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS,
                                     sublinear_tf=True, dtype=np.float32)
        matrix = vectorizer.fit_transform(self.words_ or [""])
        self._set_learned(TermTable.of(vectorizer.get_feature_names_out().tolist()), vectorizer.idf_,
                          matrix.T.tocsr())
        return self

    def _set_learned(self, grams: TermTable, idf: np.ndarray, postings) -> None:
        self.grams_ = grams  # n-gram -> row of the postings
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.postings_ = postings  # n-gram x word, rows L2-normalised by word
        self._analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS).build_analyzer()
        self._cache: dict[str, list[tuple[str, float]]] = {}

    def match(self, word: str) -> list[tuple[str, float]]:
        """Known words `word` may be a misspelling of, with similarity in [0, 1], best first."""
        if is_real_word(word):
            return []
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        matches = self._match(word)
        if len(self._cache) < MATCH_CACHE_SIZE:  # typos repeat; the vocabulary does not change
            self._cache[word] = matches
        return matches

    def relatives(self, word: str) -> list[str]:
        """Known words of `word`'s family under another stem ("pregnancy" for "pregnant"), closest first."""
        key = ("relatives", word)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        own = stem(word)
        found = []
        for i, _ in self._candidates(word):
            known = self.words_[i]
            known_stem = stem(known)
            if known_stem != own and known_stem not in found and are_relatives(own, known_stem):
                found.append(known_stem)
        if len(self._cache) < MATCH_CACHE_SIZE:
            self._cache[key] = found
        return found

    def _match(self, word: str) -> list[tuple[str, float]]:
        matches = []
        for i, _ in self._candidates(word):
            known = self.words_[i]
            distance = edit_distance(word, known, transpositions=True)
            same_start = word[0] == known[0] or word[:2] == known[1::-1]
            if distance <= allowed_edits(word) and same_start:
                matches.append((known, 1.0 - distance / max(len(word), len(known))))
        matches.sort(key=lambda m: -m[1])
        return matches[: self.max_matches]

    def _candidates(self, word: str) -> list[tuple[int, float]]:
        """Rows of the known words closest to `word` by n-gram cosine, best first, with the cosine."""
        grams: dict[int, int] = {}
        for g in self._analyzer(word):
            gid = self.grams_.get(g)
            if gid is not None:
                grams[gid] = grams.get(gid, 0) + 1
        if not grams:
            return []
        ids = np.fromiter(grams, dtype=np.int64)
        tf = 1.0 + np.log(np.fromiter(grams.values(), dtype=np.float32))
        # Unknown n-grams still count in the norm: they are part of the word.
        all_grams = self._analyzer(word)
        unknown = len(all_grams) - sum(grams.values())
        weights = tf * self.idf_[ids]
        norm = np.sqrt(np.sum(weights ** 2) + unknown * float(self.idf_.max()) ** 2)
        scores = accumulate(self.postings_, ids, weights, len(self.words_)) / norm
        return [(int(i), float(scores[i])) for i in top_k(scores, self.candidates)]


def are_relatives(a: str, b: str) -> bool:
    """True when stems `a` and `b` are one word family (see RELATIVE_MIN_PREFIX)."""
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) < RELATIVE_MIN_PREFIX:
        return False
    if longer.startswith(shorter):
        return longer[len(shorter):] in DERIVATIONAL_ENDINGS
    return (len(shorter) == len(longer) and shorter[:-1] == longer[:-1]
            and tuple(sorted((shorter[-1], longer[-1]))) in LAST_LETTER_PAIRS)


def allowed_edits(word: str) -> int:
    """Edits tolerated between a typo and a known word: 1 up to 7 letters, else 2."""
    return 1 if len(word) <= 7 else 2


@functools.lru_cache(maxsize=50_000)
def is_real_word(word: str) -> bool:
    """True when `word` is common enough in English to be meant as written."""
    return zipf_frequency(word, "en") >= REAL_WORD_ZIPF
