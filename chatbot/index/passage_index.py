"""The passage index: field-weighted TF-IDF over stems, served from postings.

Relevance of passage p to query q (TF-IDF vectors, L2-normalised per field):

    similarity(q, u) = sum_f w_f * cos(q, u_f) / sum_{f present in u} w_f
    coverage(q, p)   = idf mass of the query's words found in p / idf mass of all its words
    relevance(q, p)  = (1 - c) * [(1 - s) * similarity(q, p) + s * max_{sentence u of p} similarity(q, u)]
                       + c * coverage(q, p)
    score(q, p)      = relevance(q, p) for a document passage;
                       (1 - e) * relevance(q, p) + e * question_match(q, p) for a document
                       passage with written or taught questions (questions.txt, the inbox);
                       a * question_match(q, p) + b * answer_match(q, p)
                       + (1 - a - b) * relevance(q, p) for an FAQ entry,
                       times (1 - t) when p cannot give the kind of answer asked for
                       (a number, a definition)

question_match is BM25 of the question against the entry's closest wording
(question or alternate; a document passage's written questions) over intent
terms, question words kept;
answer_match BM25 of its content words against the answer; each field is
length-normalised on its own (field_match.py): for an FAQ entry the question is the main signal
and the answer supporting evidence (Sakata et al., SIGIR 2019).

The best sentence keeps a long passage from being diluted by its other
sentences, and tells the answer stage which sentence to highlight.

Fields f: text; aside (sentences of the text that point to other pages);
section (the heading above the passage); question (an FAQ entry's question
and alternates). Every part lies in [0, 1], so the score does (search may add
the passage classifier's lift, passage_classifier.py), and it means the same
across queries: words the index has never seen still count in the
query's norm and coverage, so a question about something else scores low.
Both sums are linear in the query, so they are folded into term-major
matrices at fit time and a query reads only the rows of its own terms.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.preprocessing import normalize
from wordfreq import zipf_frequency

from ..corpus.cleaning import is_cross_reference
from ..passages.model import Passage
from ..text import LIGHT_WORD_WEIGHT, LIGHT_WORDS, STOP_WORDS, content_stems, stem, without_letter_framing, words
from .answer_types import (
    CLOCK_TIME,
    DEFINITION,
    MONEY,
    NUMERIC_KINDS,
    defined_terms,
    question_type,
    states_clock_time,
    states_money,
    states_quantity,
)
from .confidence import FEATURES, load_model
from .field_match import FieldMatcher, fit_field_matchers, intent_terms, matcher_of_texts
from .matrices import (
    group_rows,
    sentence_spans,
    term_major,
    term_major_of_chunks,
    weighted_sum,
    weighted_sum_in_chunks,
)
from .memo import LastCall
from .passage_classifier import CANDIDATES as CLASSIFIER_CANDIDATES
from .passage_classifier import WEIGHT as CLASSIFIER_WEIGHT
from .passage_classifier import fit_passage_classifier
from .ranking import RowMaxima, accumulate, find_columns, sorted_unique, top_k
from .spelling import SpellingMatcher
from .synonyms import SynonymExpander
from .tables import RECENT_TERMS, TermRows, TermTable
from .terms import TermCounter, ngrams
from .unanswered_like import fit_unanswered_like

_LIGHT_STEMS = frozenset(stem(w) for w in LIGHT_WORDS)
# A query word the documents never use weighs like 1.5 of their rarest word: the
# visitor asked about something the knowledge base does not cover, and the
# score should say so (calibrated with the out-of-scope questions, README).
UNKNOWN_WORD_WEIGHT = 1.5
# Passages of the rarest query terms scored first for a floor under the k-th
# score (PassageIndex._candidate_plan): enough that it is rarely zero.
SEED_PASSAGES = 64
# Up to this many passages one dense pass over every passage is cheaper than the
# pruned top k (PassageIndex._top), whose per-term binary searches and bounds cost
# a fixed 0.1-0.3 ms: CPU per query at k = 10 on MedQuAD-derived corpora, pruned
# against dense, 0.15 against 0.05 ms at 100 passages (the clinic's), 0.81 against
# 0.45 at 16k, 0.93 against 0.87 at 32k (p50 0.77 against 0.84): 24k stays under
# both crossings (bench/README.md, "A chat's retrieval, fourth pass").
DENSE_PASS_MAX_PASSAGES = 24_000
# Likewise for the highlights: summing every sentence beats a binary search per term
# up to about 100k sentences (CPU for 3 highlights, searched against dense: 96 against
# 23 us at the clinic's 296 sentences, 119 against 62 at 46k, 152 against 225 at 182k).
DENSE_PASS_MAX_SENTENCES = 60_000
BUILD_CHUNK = 100_000  # rows (passages, sentences) weighted at a time in a build (1/25 of the sentences at 250k)
# A list of questions no passage answers this long tells as much when it is not matched as the
# shipped one (229 questions) the confidence model was fitted with; shorter ones count less there.
UNANSWERED_LIST_FULL = 200
COMMON_WORD_ZIPF = 5.0  # "open", "time", "pay" are above; "needle", "sciatica" below
_UNSEEN = object()


@dataclass(frozen=True)
class Hit:
    """One ranked passage; `score` is comparable across queries: the match in [0, 1], plus up to
    CLASSIFIER_WEIGHT when the passage classifier lifts it (search).

    `highlight` is the (start, end) span of the passage text that best matches
    the query, when asked for.
    """
    passage: Passage
    score: float
    highlight: tuple[int, int] | None = None


@dataclass(frozen=True)
class Query:
    """A query as index terms: ids and weights (normalised), and its concepts."""
    ids: np.ndarray
    weights: np.ndarray
    norm: float
    concepts: tuple[tuple[float, tuple[int, ...]], ...]  # (weight, term ids that meet it)
    kind: str | None = None
    subject: tuple[str, ...] = ()
    intent: tuple[str, ...] = ()  # intent terms, typos corrected, for the question match
    content: tuple[str, ...] = ()  # content stems, typos corrected, for the answer match


class PassageIndex(BaseEstimator):
    """Fit on passages, then `search(query, k)`.

    Parameters are stored unchanged; all learned state ends in `_`.
    """

    def __init__(self, *, text_weight: float = 1.0, aside_weight: float = 0.6,
                 section_weight: float = 0.3, question_weight: float = 1.0,
                 bigram_weight: float = 0.7, coverage_weight: float = 0.25,
                 sentence_weight: float = 0.0, answer_type_penalty: float = 0.35,
                 question_match_weight: float = 0.8, answer_match_weight: float = 0.15,
                 relative_weight: float = 0.8, written_question_weight: float = 0.4,
                 sublinear_tf: bool = True, synonyms: tuple = (), unanswered: tuple = (),
                 prune_bigrams_from: int = 50_000):
        self.text_weight = text_weight
        self.aside_weight = aside_weight
        self.section_weight = section_weight
        self.question_weight = question_weight
        self.bigram_weight = bigram_weight
        self.coverage_weight = coverage_weight
        self.sentence_weight = sentence_weight
        self.answer_type_penalty = answer_type_penalty
        self.question_match_weight = question_match_weight
        self.answer_match_weight = answer_match_weight
        self.relative_weight = relative_weight
        self.written_question_weight = written_question_weight
        self.sublinear_tf = sublinear_tf
        self.synonyms = synonyms
        self.unanswered = unanswered
        self.prune_bigrams_from = prune_bigrams_from

    # -- building -----------------------------------------------------------
    def fit(self, passages: list[Passage]) -> "PassageIndex":
        """Learn vocabulary, idf, postings and answer-type features; returns self."""
        if not passages:
            raise ValueError("cannot build an index from zero passages")
        n = len(passages)
        self.passages_ = list(passages)
        self.passage_ids_ = TermTable.of(p.id for p in passages)
        self.confidence_ = load_model()
        # The FAQ fields first: their working memory is given back before the
        # large matrices below exist (the peak of a large build).
        self.question_match_, self.answer_match_ = _fit_faq_fields(passages, tuple(self.unanswered))
        self.unanswered_like_ = fit_unanswered_like(
            [w for p in passages for w in (p.question, *p.alternates) if w], tuple(self.unanswered))
        self.passage_classifier_ = fit_passage_classifier(
            [(row, w) for row, p in enumerate(passages) for w in p.alternates])
        # Every text is tokenized once, sentence by sentence: a passage's text
        # field is the sum of its sentences, and a sentence that points to other
        # pages ("see our article on ...") goes to the weaker aside field.
        # Sentences are held as (start, end) arrays, their strings made when read.
        self.sentence_spans_, self.sentence_starts_ = _spans_of(passages)
        owner = np.repeat(np.arange(n), np.diff(np.append(self.sentence_starts_, len(self.sentence_spans_))))
        aside = np.zeros(len(self.sentence_spans_), dtype=bool)
        definitions: dict[str, list[int]] = {}
        for i, sentences in enumerate(self._sentences_of(passages)):
            first = int(self.sentence_starts_[i])
            joined = "\n".join(sentences)
            # A sentence that matches matches in the joined text too (a line break is an
            # edge for \b as the text's ends are), so most passages take one scan.
            if len(sentences) == 1 or is_cross_reference(joined):
                aside[first:first + len(sentences)] = [is_cross_reference(t) for t in sentences]
            for term in sorted(defined_terms(sentences)):  # the same files whatever the hash seed
                definitions.setdefault(term, []).append(i)
        self.definitions_ = TermRows.of(definitions)
        del definitions
        self.states_quantity_ = np.array([states_quantity(p.text) for p in passages], dtype=bool)
        sections = (p.section or "" for p in passages)
        questions = (" ".join((p.question or "", *p.alternates)) for p in passages)
        # Most stem bigrams of a large corpus occur once: they cannot match two
        # passages, yet they were most of its vocabulary (3.5 M terms at 250k).
        counter = TermCounter(STOP_WORDS, bigrams=True, min_bigram_rows=2 if n >= self.prune_bigrams_from else 1)
        counts = counter.fit_transform(chain(chain.from_iterable(self._sentences_of(passages)), sections, questions))
        terms = counter.terms_
        self.spelling_ = SpellingMatcher().fit(_known_words(counter.seen_, {t for t in terms if " " not in t}))
        del counter
        # The index holds tables, as a loaded one does (artifact.py): the same
        # lookups, whether built in this process or memory-mapped.
        self.vocabulary_ = TermTable.of(terms)
        is_bigram = np.fromiter((" " in t for t in terms), dtype=bool, count=len(terms))
        del terms
        m = len(self.sentence_spans_)
        per_sentence = counts[:m]
        per_field = {
            "text": group_rows(per_sentence, owner, ~aside, n),
            "aside": group_rows(per_sentence, owner, aside, n),
            "section": counts[m:m + n],
            "question": counts[m + n:],
        }
        del counts  # peak memory: every intermediate matrix goes as soon as it is used
        # idf counts a passage once, whichever of its fields holds the term.
        transformer = TfidfTransformer(sublinear_tf=self.sublinear_tf, norm=None)
        transformer.fit(sum(per_field.values()))
        # A shared word pair is good evidence, but it should not outweigh a rare
        # word on its own: bigrams count at `bigram_weight` of their idf.
        transformer.idf_ = np.where(is_bigram, transformer.idf_ * self.bigram_weight, transformer.idf_)
        weights = {"text": self.text_weight, "aside": self.aside_weight,
                   "section": self.section_weight, "question": self.question_weight}
        vectors = {f: normalize(transformer.transform(m)) for f, m in per_field.items()}
        del per_field
        self.idf_ = transformer.idf_.astype(np.float32)
        self.postings_ = term_major(weighted_sum_in_chunks(vectors, weights, BUILD_CHUNK))
        del vectors["text"], vectors["aside"]  # a sentence's text and aside are its own
        # Sentences: the same fields, with each sentence as the text.
        self.sentence_postings_ = term_major_of_chunks(
            _sentence_rows(vectors, per_sentence, owner, aside, transformer, weights),
            n_terms=len(self.idf_), n_columns=len(self.sentence_spans_))
        del vectors, per_sentence
        self._prepare()
        return self

    def _sentences_of(self, passages: list[Passage]):
        """The sentences of each passage (a list of strings per passage), cut at the fitted spans."""
        spans, starts = self.sentence_spans_, self.sentence_starts_
        ends = np.append(starts[1:], len(spans))
        for passage, first, last in zip(passages, starts.tolist(), ends.tolist(), strict=True):
            text = passage.text
            yield [text[a:b] for a, b in spans[first:last].tolist()]

    def _prepare(self) -> None:
        """Derived, unsaved state: synonym rules and the weight of unknown words."""
        self._expander = SynonymExpander(tuple(tuple(r) for r in self.synonyms))
        rarest = float(self.idf_.max()) if len(self.idf_) else 1.0
        self._unknown_idf = UNKNOWN_WORD_WEIGHT * rarest
        self._last_parse = LastCall(self.parse_query)
        self._known_terms: dict[str, tuple[int, float] | None] = {}
        self._last_match = None
        # FAQ entries (the passages with an answer field) rank by their question and answer
        # matches first (the blend of _combine). A document passage with written or taught
        # questions (_written) keeps its own relevance, those wordings a field of it, and
        # leans on how closely the visitor asked one of them at written_question_weight.
        self._has_question = np.zeros(len(self.passages_), dtype=bool)
        self._has_question[self.answer_match_.owners_] = True
        self._has_wordings = np.zeros(len(self.passages_), dtype=bool)
        self._has_wordings[self.question_match_.owners_] = True
        self.unanswered_match_ = matcher_of_texts(self.question_match_, tuple(self.unanswered))
        self._written = self._has_wordings & ~self._has_question
        if not self.written_question_weight or not self._written.any():
            self._written = None
        self._every_passage_has_question = bool(self._has_question.all())
        self._row_maxima = RowMaxima(self.postings_)

    # -- querying -----------------------------------------------------------
    def parse_query(self, query: str) -> Query:
        """The query as weighted index terms, synonyms and typos applied.

        Each query word is a concept for coverage, met by its own stem, by a
        spelling match, or by the document words of a synonym rule it is part
        of. Words met by none count in the norm and the coverage as if rare,
        so that a question mostly about other things scores low.
        """
        query = without_letter_framing(query)
        qtype = question_type(query)
        stems = [s for s in content_stems(query) if s not in qtype.dropped]
        synonym_matches = self._expander.matches(stems)
        weights: dict[int, float] = {}
        variants = [stems] + [stems[:i] + list(t) + stems[j:] for i, j, t in synonym_matches]
        for variant in variants:
            for term in ngrams(variant):
                known = self._known_term(term)
                if known is not None:
                    tid, weight = known
                    weights[tid] = max(weights.get(tid, 0.0), weight)
        concepts: list[tuple[float, tuple[int, ...]]] = []
        corrected: dict[str, str] = {}
        unknown = 0.0
        query_words = None  # tokenized again only for a word the index lacks
        for position, word_stem in enumerate(stems):
            known = self._known_term(word_stem)
            alternatives = [] if known is None else [(known[0], 1.0)]
            for i, j, target in synonym_matches:
                if i <= position < j:
                    alternatives += [(hit[0], 1.0) for t in target if (hit := self._known_term(t)) is not None]
            if not alternatives and word_stem.isalpha() and len(word_stem) >= 4:
                query_words = words(query) if query_words is None else query_words
                word = next((w for w in query_words if stem(w) == word_stem), word_stem)
                # Of equally close words, the most common one is the likeliest meant
                # ("pian" is "pain" rather than "plan"): lowest idf first.
                candidates = [(similarity, self.vocabulary_[stem(known)], stem(known)) for known, similarity in
                              self.spelling_.match(word)]
                found = []
                for similarity, known_id, known_stem in sorted(candidates, key=lambda c: (-c[0], self.idf_[c[1]]))[:1]:
                    corrected[word_stem] = known_stem
                    found.append((known_id, similarity))
                if not candidates and self.relative_weight > 0:
                    # A real word the stemmer keeps apart from its family ("pregnant" and
                    # "pregnancy"): met by its relatives, a little less than by itself.
                    found = [(known_id, self.relative_weight) for known_stem in self.spelling_.relatives(word)
                             if (known_id := self.vocabulary_.get(known_stem)) is not None]
                for known_id, similarity in found:
                    alternatives.append((known_id, similarity))
                    weights[known_id] = max(weights.get(known_id, 0.0), similarity * float(self.idf_[known_id]))
            if alternatives:
                weight = max(similarity * float(self.idf_[a]) for a, similarity in alternatives)
                weight *= _lightness(word_stem)
                concepts.append((weight, tuple(a for a, _ in alternatives)))
            else:
                # An unknown light word ("basically", "stuff") says as little as a known one;
                # a number nobody wrote ("the square root of 144") is what the question is about.
                unknown += self._unknown_idf * (1.0 if word_stem.isdigit() else _lightness(word_stem))
        ids = np.fromiter(weights, dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        norm = float(np.sqrt(np.sum(values ** 2) + unknown ** 2)) or 1.0
        total = sum(w for w, _ in concepts) + unknown or 1.0
        concepts = [(w / total, alternatives) for w, alternatives in concepts]
        intent = tuple(corrected.get(t, t) for t in intent_terms(query))
        content = tuple(corrected.get(t, t) for t in stems)
        # "what is electroaccupuncture": the defined term is looked up as corrected.
        subject = tuple(corrected.get(t, t) for t in qtype.subject)
        return Query(ids, values / norm, norm, tuple(concepts), qtype.kind, subject, intent, content)

    def _known_term(self, term: str) -> tuple[int, float] | None:
        """(id, idf times lightness) of an index term, None for a term the index lacks.

        Remembered per term, as TermTable.get remembers ids: a parse looks up each
        term of each synonym variant, 40-odd lookups, mostly of the same few
        thousand words, and numpy's scalar indexing of the idf costs as much as
        the lookup itself.
        """
        known = self._known_terms.get(term, _UNSEEN)
        if known is _UNSEEN:
            tid = self.vocabulary_.get(term)
            known = None if tid is None else (tid, float(self.idf_[tid]) * _lightness(term))
            if len(self._known_terms) >= RECENT_TERMS:
                self._known_terms.clear()
            self._known_terms[term] = known
        return known

    def scores(self, query: str) -> np.ndarray:
        """Score in [0, 1] of every passage for `query` (dense, one per passage)."""
        return self._scores(self._parsed(query))

    def _parsed(self, query: str) -> Query:
        """The parsed query; the last one is kept, since a reply searches and then weighs the same query."""
        self._check_fitted()
        return self._last_parse(query)

    def _question_match(self, parsed: Query) -> np.ndarray:
        """question_match_.scores of a parsed query, kept for the last one like the parse."""
        last = self._last_match
        if last is not None and last[0] is parsed:
            return last[1]
        matched = self.question_match_.scores(list(parsed.intent))
        self._last_match = (parsed, matched)
        return matched

    def _scores(self, parsed: Query) -> np.ndarray:
        n = len(self.passages_)
        if len(parsed.ids) == 0:
            return np.zeros(n)
        similarity = accumulate(self.postings_, parsed.ids, parsed.weights, n)
        if self.sentence_weight:
            best = np.maximum.reduceat(self._sentence_scores(parsed), self.sentence_starts_)
            similarity = (1.0 - self.sentence_weight) * similarity + self.sentence_weight * best
        coverage = self._coverage(parsed.concepts, n)
        question = answer = None
        if len(self.question_match_.owners_):
            question = self._question_match(parsed)
            if self.answer_match_weight:
                answer = self.answer_match_.scores(list(parsed.content))
        able = self._able_to_answer(parsed)
        return self._combine(similarity, coverage, question, answer, self._has_question,
                             None if able is None else ~able, every_has_question=self._every_passage_has_question,
                             written=self._written)

    def _combine(self, similarity: np.ndarray, coverage: np.ndarray, question: np.ndarray | None,
                 answer: np.ndarray | None, has_question: np.ndarray, unable: np.ndarray | None,
                 every_has_question: bool, written: np.ndarray | None = None) -> np.ndarray:
        """The score formula of the module docstring over aligned arrays of parts (all passages,
        or some); `similarity` and `coverage` are overwritten.

        In place where it can be: at 250k passages each dense array costs a few
        tenths of a millisecond. The same products and sums as the formula in
        the module docstring (IEEE sums and products commute), so the same scores,
        and elementwise, so a passage scores the same in a dense and a partial pass.
        """
        scores = similarity
        scores *= 1.0 - self.coverage_weight
        coverage *= self.coverage_weight
        scores += coverage
        if question is not None:
            if written is not None:
                # A document passage keeps its own relevance and adds the match with its
                # written questions; an FAQ entry is ranked by its question first (below).
                c = self.written_question_weight
                leaning = scores * (1.0 - c)
                leaning += question * c
                np.copyto(scores, leaning, where=written)
            a, b = self.question_match_weight, self.answer_match_weight
            blended = scores * (1.0 - a - b)
            blended += question * a
            if answer is not None:
                # Question words say nothing in an answer: only content words are evidence there.
                answer *= b
                blended += answer
            if every_has_question:
                scores = blended
            else:
                np.copyto(scores, blended, where=has_question)
        if unable is not None:
            np.multiply(scores, 1.0 - self.answer_type_penalty, out=scores, where=unable)
        # np.clip's own overhead was 8 us a query; the same two comparisons as ufuncs.
        np.maximum(scores, 0.0, out=scores)
        return np.minimum(scores, 1.0, out=scores)

    def _top(self, parsed: Query, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the `k` best passages, exactly as top_k(self._scores(parsed), k).

        MaxScore-style (Turtle and Flood, 1995): common terms (MedQuAD's "what"
        and "is" are in nearly every question) can only add to a passage that
        rarer terms already bring in. Candidates are the passages holding a
        rarer query term; they are scored exactly, with every term. A passage
        holding common terms only scores at most those terms' row maxima through
        the formula (every part is a non-negative sum, the penalty and the clip
        only lower it); when the k-th candidate scores above that bound, no other
        passage can enter the top k, and the dense pass over every passage is
        skipped. Otherwise (a query of common words only) it runs. An index of
        at most DENSE_PASS_MAX_PASSAGES passages takes the dense pass at once.
        """
        if (self.sentence_weight or len(parsed.ids) == 0 or k <= 0
                or len(self.passages_) <= DENSE_PASS_MAX_PASSAGES):
            return self._dense_top(parsed, k)
        terms = self._query_terms(parsed)
        terms.sort(key=lambda term: term.length)
        # The passages of the rarest terms first: their k-th score is a floor under the final k-th.
        size = seeded = 0
        while seeded < len(terms) and size < SEED_PASSAGES:
            size += terms[seeded].length
            seeded += 1
        seed = sorted_unique(np.concatenate([term.passages() for term in terms[:seeded]]))
        scores = self._scores_at(parsed, terms, seed)
        best = top_k(scores, k)
        floor = float(scores[best[-1]]) if len(best) == k else 0.0
        bounds = self._suffix_bounds(parsed, terms)
        if _above(floor, bounds[seeded]):
            return seed[best], scores[best]
        # Leave out of the candidates the longest rows, for as long as the most
        # they alone can give a passage stays under the floor.
        kept = len(terms)
        while kept > seeded and _above(floor, bounds[kept - 1]):
            kept -= 1
        if sum(term.length for term in terms[:kept]) > len(self.passages_) // 4:  # as dear as the dense pass
            return self._dense_top(parsed, k)
        candidates = sorted_unique(np.concatenate([seed, *(term.passages() for term in terms[seeded:kept])]))
        scores = self._scores_at(parsed, terms, candidates)
        best = top_k(scores, k)
        if len(best) == k and _above(float(scores[best[-1]]), bounds[kept]):
            return candidates[best], scores[best]
        return self._dense_top(parsed, k)

    def _dense_top(self, parsed: Query, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self._scores(parsed)
        rows = top_k(scores, k)
        return rows, scores[rows]

    def _query_terms(self, parsed: Query) -> list["_PartTerm"]:
        """Every (part, term) a query's score reads: its index terms (similarity and coverage),
        then its FAQ question and answer terms."""
        postings = self.postings_
        weight_of = dict(zip(parsed.ids.tolist(), parsed.weights.tolist(), strict=True))
        concept_ids = {t for _, term_ids in parsed.concepts for t in term_ids}
        terms = [_PartTerm("text", t, weight_of.get(t, 0.0), postings, None, self._row_maxima)
                 for t in sorted(set(weight_of) | concept_ids)]
        if len(self.question_match_.owners_):
            fields = [("question", self.question_match_, list(parsed.intent))]
            if self.answer_match_weight:
                fields.append(("answer", self.answer_match_, list(parsed.content)))
            for part, matcher, words_of_part in fields:
                ids, weights = matcher.query_terms(words_of_part)
                terms += [_PartTerm(part, int(t), float(w), matcher.postings_, matcher.owners_, matcher.row_maxima)
                          for t, w in zip(ids, weights, strict=True)]
        return terms

    def _suffix_bounds(self, parsed: Query, terms: list["_PartTerm"]) -> list[float]:
        """bounds[i]: the most a passage holding no query term but terms[i:] can score
        (bounds[len(terms)] is 0), in one pass from the end."""
        parts = {"text": 0.0, "question": 0.0, "answer": 0.0}
        text_ids: set[int] = set()
        bounds = [0.0]
        for term in reversed(terms):
            if term.weight:
                parts[term.part] += term.weight * term.row_max()
            if term.part == "text":
                text_ids.add(term.term)
            coverage = sum(weight for weight, term_ids in parsed.concepts if text_ids.intersection(term_ids))
            bound = (1.0 - self.coverage_weight) * parts["text"] + self.coverage_weight * coverage
            if len(self.question_match_.owners_):
                a, b = self.question_match_weight, self.answer_match_weight
                blended = (1.0 - a - b) * bound + a * parts["question"] + b * parts["answer"]
                if self._every_passage_has_question:
                    bound = blended
                else:
                    c = self.written_question_weight if self._written is not None else 0.0
                    bound = max(bound, blended, (1.0 - c) * bound + c * parts["question"])
            bounds.append(bound)
        return bounds[::-1]

    def _scores_at(self, parsed: Query, terms: list["_PartTerm"], rows: np.ndarray) -> np.ndarray:
        """self._scores(parsed)[rows], bit for bit, reading only those passages' entries.

        `terms` are the query's (_query_terms); each part sums its terms in the
        order the dense pass does (ascending ids), from 0.0.
        """
        found = {term.term: term.find(rows) for term in terms if term.part == "text"}
        similarity = np.zeros(len(rows))
        for term, weight in zip(parsed.ids.tolist(), parsed.weights, strict=True):
            inside, position = found[term]
            values = np.zeros(len(rows), dtype=np.float32)
            values[inside] = self.postings_.data[position]
            similarity += values * weight
        coverage = np.zeros(len(rows))
        for weight, term_ids in parsed.concepts:
            met = found[term_ids[0]][0]
            for t in term_ids[1:]:
                met = met | found[t][0]
            coverage += weight * met
        question = answer = None
        if len(self.question_match_.owners_):
            question = self.question_match_.scores_at(list(parsed.intent), rows)
            if self.answer_match_weight:
                answer = self.answer_match_.scores_at(list(parsed.content), rows)
        able = self._able_to_answer(parsed)
        return self._combine(similarity, coverage, question, answer, self._has_question[rows],
                             None if able is None else ~able[rows],
                             every_has_question=self._every_passage_has_question,
                             written=None if self._written is None else self._written[rows])

    def _sentence_scores(self, parsed: Query) -> np.ndarray:
        return accumulate(self.sentence_postings_, parsed.ids, parsed.weights, len(self.sentence_spans_))

    def _best_sentences(self, parsed: Query, rows: np.ndarray) -> list[int]:
        """For each passage row, its sentence that scores highest for the query (the first on a tie).

        Reads only those passages' columns of each query term's row (one binary
        search per term for all of them, in its sorted sentence ids), not every
        sentence of the corpus; each sentence's sum is added in the same order as
        `_sentence_scores`, so the values are equal. Up to DENSE_PASS_MAX_SENTENCES
        sentences `_sentence_scores` itself is read instead.
        """
        starts = self.sentence_starts_
        rows = np.asarray(rows, dtype=np.int64)
        firsts = starts[rows]
        lasts = np.where(rows + 1 < len(starts), starts[np.minimum(rows + 1, len(starts) - 1)],
                         len(self.sentence_spans_))
        if len(parsed.ids) and len(self.sentence_spans_) <= DENSE_PASS_MAX_SENTENCES:
            every = self._sentence_scores(parsed)
            return [first + int(np.argmax(every[first:last]))
                    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True)]
        local = [np.zeros(int(last - first)) for first, last in zip(firsts, lasts, strict=True)]
        bounds = np.column_stack([firsts, lasts]).ravel()
        postings = self.sentence_postings_
        for term, weight in zip(parsed.ids, parsed.weights, strict=True):
            start, end = postings.indptr[term], postings.indptr[term + 1]
            columns = postings.indices[start:end]
            found = np.searchsorted(columns, bounds).reshape(-1, 2)
            for i in np.flatnonzero(found[:, 1] > found[:, 0]):
                low, high = found[i]
                local[i][columns[low:high] - firsts[i]] += postings.data[start + low:start + high] * weight
        return [int(first) + int(np.argmax(scores)) for first, scores in zip(firsts, local, strict=True)]

    def _able_to_answer(self, parsed: Query) -> np.ndarray | None:
        """Mask of passages that can give the kind of answer asked for, if any can."""
        if parsed.kind in NUMERIC_KINDS:
            return self.states_quantity_
        if parsed.kind == DEFINITION:
            rows = [r for r in map(self.definitions_.get, parsed.subject) if r is not None]
            if rows:
                mask = np.zeros(len(self.passages_), dtype=bool)
                mask[np.concatenate(rows)] = True
                return mask
        return None

    def _gives_answer_type(self, parsed: Query, row: int, text: str) -> bool:
        """Whether passage `row` (its `text`) can give the kind of answer the query asks for (True if none)."""
        if parsed.kind == MONEY:
            return states_money(text)
        if parsed.kind == CLOCK_TIME:
            return states_clock_time(text)
        able = self._able_to_answer(parsed)
        return able is None or bool(able[row])

    def _coverage(self, concepts, n: int) -> np.ndarray:
        """Share of the query's concepts (by weight) that each passage meets."""
        coverage = np.zeros(n)
        postings = self.postings_
        for weight, term_ids in concepts:
            if len(term_ids) == 1:
                t = term_ids[0]
                coverage[postings.indices[postings.indptr[t]:postings.indptr[t + 1]]] += weight
                continue
            met = np.zeros(n, dtype=bool)
            for t in term_ids:
                met[postings.indices[postings.indptr[t]:postings.indptr[t + 1]]] = True
            coverage += weight * met
        return coverage

    def search(self, query: str, k: int = 3, highlight: int = 0) -> list[Hit]:
        """The `k` best passages for `query`, best first; empty when nothing matches.

        The first `highlight` hits carry the span of their best-matching sentence.
        """
        parsed = self._parsed(query)
        if self.passage_classifier_ is None or k <= 0:
            rows, scores = self._top(parsed, k)
        else:
            rows, scores = self._lifted_by_classifier(query, *self._top(parsed, max(k, CLASSIFIER_CANDIDATES)), k)
        spans: list[tuple[int, int] | None] = [None] * len(rows)
        if highlight > 0 and len(rows):
            for i, best in enumerate(self._best_sentences(parsed, rows[:highlight])):
                spans[i] = (int(self.sentence_spans_[best][0]), int(self.sentence_spans_[best][1]))
        return [Hit(self.passages_[row], round(float(score), 6), span)
                for row, score, span in zip(rows, scores, spans, strict=True)]

    def _lifted_by_classifier(self, query: str, rows: np.ndarray, scores: np.ndarray,
                              k: int) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best of the candidates (`rows`, `scores`) once each has CLASSIFIER_WEIGHT times
        the probability the passage classifier gives it (passage_classifier.py) added."""
        if not len(rows):
            return rows, scores
        model = self.passage_classifier_
        lift = np.zeros(len(self.passages_))
        lift[model.rows] = model.probabilities(without_letter_framing(query))   # as the parse reads it
        scores = np.asarray(scores, dtype=np.float64) + CLASSIFIER_WEIGHT * lift[rows]
        order = np.argsort(-scores, kind="stable")[:k]
        return rows[order], scores[order]

    def answer_features(self, query: str, hits: list[Hit]) -> dict[str, float]:
        """The confidence signals of `hits` (the ranking of `query`), named as in confidence.FEATURES."""
        parsed = self._parsed(query)
        unanswered = {"unanswered_match": self._unanswered_match(parsed),
                      "unanswered_like": self._unanswered_like(query)}
        if not hits:
            return dict.fromkeys(FEATURES, 0.0) | {"unknown_share": 1.0, "common_share": _common_share(query),
                                                   "asked_concepts": float(len(parsed.concepts)), **unanswered}
        row = self.passage_ids_[hits[0].passage.id]
        met = [(weight, any(self._meets(t, row) for t in term_ids)) for weight, term_ids in parsed.concepts]
        rarest = max(met, key=lambda m: m[0], default=(0.0, False))
        matched = 0.0
        if self._has_wordings[row]:
            last = self._last_match
            if last is not None and last[0] is parsed:  # the dense pass that ranked `hits` scored every passage
                matched = float(last[1][row])
            else:
                matched = float(self.question_match_.scores_at(list(parsed.intent), np.array([row]))[0])
        return {"top_score": hits[0].score,
                "margin": hits[0].score - (hits[1].score if len(hits) > 1 else 0.0),
                "top_coverage": sum(w for w, m in met if m),
                "rarest_met": float(rarest[1]),
                "unknown_share": max(0.0, 1.0 - sum(w for w, _ in parsed.concepts)),
                "question_match": matched,
                "common_share": _common_share(query),
                "asked_concepts": float(len(parsed.concepts)),
                "answer_type_met": float(self._gives_answer_type(parsed, row, hits[0].passage.text)),
                **unanswered}

    def _unanswered_match(self, parsed: Query) -> float:
        """How closely the question asks one of the questions no passage answers (`unanswered`).

        Without a list there is nothing to be close to: NaN, which the model counts
        at its mean (unknown, not far; confidence.py). A list shorter than
        UNANSWERED_LIST_FULL tells less when it is *not* matched: a visitor's question
        is far from three questions staff marked "not ours" whether or not the pages
        answer it. So below the model's mean, a short list's match is drawn towards
        the mean in proportion to its length; a close match counts in full.
        """
        if not self.unanswered:
            return math.nan
        match = float(self.unanswered_match_.scores(list(parsed.intent))[0])
        share = len(self.unanswered) / UNANSWERED_LIST_FULL
        mean = self.confidence_.mean_of("unanswered_match")
        if share >= 1.0 or mean is None or match >= mean:
            return match
        return mean + (match - mean) * share

    def _unanswered_like(self, query: str) -> float:
        """The learned probability that `query` is like the questions no passage answers
        (unanswered_like.py); NaN without a model. As for `_unanswered_match`, a list shorter
        than UNANSWERED_LIST_FULL tells less: the value is drawn towards the model's mean in
        proportion to its length."""
        model = self.unanswered_like_
        if model is None:
            return math.nan
        likeness = model.probability(without_letter_framing(query))
        share = len(self.unanswered) / UNANSWERED_LIST_FULL
        mean = self.confidence_.mean_of("unanswered_like")
        if share >= 1.0 or mean is None:
            return likeness
        return mean + (likeness - mean) * share

    def answer_probability(self, query: str, hits: list[Hit]) -> float:
        """Calibrated probability that the passages shown for `hits` answer `query` (confidence.py).

        0 for a price or clock-time question whose best passage states no price
        or time: such a passage cannot answer it, however well its words match
        ("how much is a session?" against a page about sessions).
        """
        features = self.answer_features(query, hits)
        if self._parsed(query).kind in (MONEY, CLOCK_TIME) and not features["answer_type_met"]:
            return 0.0
        return self.confidence_.probability(features)

    def _meets(self, term_id: int, row: int) -> bool:
        postings = self.postings_
        start, end = int(postings.indptr[term_id]), int(postings.indptr[term_id + 1])
        # The array method, not np.searchsorted: its dispatch costs as much as the search.
        position = start + int(postings.indices[start:end].searchsorted(row))
        return position < end and postings.indices[position] == row

    def _check_fitted(self) -> None:
        if not hasattr(self, "postings_"):
            raise NotFittedError("PassageIndex is not fitted: call fit(passages) or load an index first")

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary_)


def _sentence_rows(vectors: dict, per_sentence: sparse.csr_matrix, owner: np.ndarray, aside: np.ndarray,
                   transformer: TfidfTransformer, weights: dict):
    """Sentences x terms, float32, in chunks of BUILD_CHUNK consecutive rows: the fields
    weighted as for passages, each sentence as the text.

    Every step works row by row, so the rows are those of one pass over all
    sentences, but a build holds one chunk's four fields at a time instead of
    four sentence-level matrices (the peak of a large build).
    """
    for start in range(0, per_sentence.shape[0], BUILD_CHUNK):
        rows = slice(start, start + BUILD_CHUNK)
        fields = {f: vectors[f][owner[rows]] for f in ("section", "question")}
        tfidf = normalize(transformer.transform(per_sentence[rows]))
        fields["text"] = sparse.diags((~aside[rows]).astype(np.float32)) @ tfidf
        fields["aside"] = sparse.diags(aside[rows].astype(np.float32)) @ tfidf
        chunk = weighted_sum(fields, weights)
        del fields, tfidf
        chunk.data = chunk.data.astype(np.float32)
        yield chunk


def _spans_of(passages: list[Passage]) -> tuple[np.ndarray, np.ndarray]:
    """(every sentence's (start, end) in its passage's text, int32 n x 2; each passage's first sentence, int64)."""
    spans = [sentence_spans(p.text) for p in passages]
    sizes = np.fromiter(map(len, spans), dtype=np.int64, count=len(spans))
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(spans)), dtype=np.int32, count=2 * int(sizes.sum()))
    return flat.reshape(-1, 2), np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def _fit_faq_fields(passages: list[Passage], unanswered: tuple[str, ...] = ()) -> list[FieldMatcher]:
    """(question match, answer match) of `passages` (field_match.py): the question match over
    every wording of a question (an FAQ entry's question and alternates, the questions staff
    wrote or taught a document passage), the answer match over the FAQ entries' answers.

    The `unanswered` questions (no passage answers them) are fitted with them, so that their
    words are in the shared vocabulary and idf; their own matcher is made from those
    (`_prepare`), the same whether the index was built or loaded."""
    wordings = [(i, w) for i, p in enumerate(passages) for w in ((p.question,) if p.question else ()) + p.alternates]
    answers = [i for i, p in enumerate(passages) if p.question]
    return fit_field_matchers(
        [([w for _, w in wordings], np.array([i for i, _ in wordings], dtype=np.int64)),
         ([passages[i].text for i in answers], np.array(answers, dtype=np.int64)),
         (list(unanswered), np.zeros(len(unanswered), dtype=np.int64))],
        background=[p.text for p in passages] if wordings or unanswered else [], n_passages=len(passages))[:2]


def _known_words(seen: set[str], unigrams: set[str]) -> list[str]:
    """The words of `seen` (the words of the indexed texts) whose stem is one of the indexed `unigrams`."""
    return sorted(w for w in seen if w.isalpha() and w not in STOP_WORDS and stem(w) in unigrams)


def _common_share(query: str) -> float:
    """Share of the query's content words that are everyday English (Zipf frequency >= 5)."""
    content = [w for w in words(query) if w.isalpha() and w not in STOP_WORDS]
    return sum(map(_is_common_word, content)) / len(content) if content else 1.0


@functools.lru_cache(maxsize=RECENT_TERMS)
def _is_common_word(word: str) -> bool:
    """Zipf frequency >= COMMON_WORD_ZIPF; remembered, since wordfreq's lookup costs a few us a word."""
    return zipf_frequency(word, "en") >= COMMON_WORD_ZIPF


@functools.lru_cache(maxsize=RECENT_TERMS)
def _lightness(term: str) -> float:
    """Query weight factor of a term: LIGHT_WORD_WEIGHT if any of its stems is light or a
    number: in a visitor's question a number is mostly context ("20 weeks pregnant",
    "my mum is 78"), and it would match any passage citing a study's figures."""
    return LIGHT_WORD_WEIGHT if any(part in _LIGHT_STEMS or part.isdigit() for part in term.split(" ")) else 1.0


@dataclass(frozen=True)
class _PartTerm:
    """One query term of one part of the score: its postings row, weight and passages."""
    part: str  # "text" (similarity and coverage), "question" or "answer"
    term: int
    weight: float
    postings: sparse.csr_matrix
    owners: np.ndarray | None  # passage of each column, for an FAQ field's texts
    maxima: object  # RowMaxima of `postings`

    @property
    def length(self) -> int:
        return int(self.postings.indptr[self.term + 1] - self.postings.indptr[self.term])

    def passages(self) -> np.ndarray:
        row = self.postings.indices[self.postings.indptr[self.term]:self.postings.indptr[self.term + 1]]
        return row if self.owners is None else self.owners[row]

    def row_max(self) -> float:
        return self.maxima(self.term)

    def find(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of `rows` (passage rows, ascending) this term's row holds, their positions in it)."""
        return find_columns(self.postings, self.term, rows)


def _above(score: float, bound: float) -> bool:
    """Whether `score` is surely above a passage that scores at most `bound` (after the clip),
    whatever the rounding of the bound's sums."""
    return score > min(bound, 1.0) * (1.0 + 1e-9) + 1e-12
