"""PassageIndex: the estimator contract, ranking properties, typos, synonyms and stable ids."""
from __future__ import annotations

import dataclasses
import gc
import weakref

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from chatbot.build import build_index
from chatbot.corpus import load_corpus
from chatbot.index import Hit, PassageIndex
from chatbot.index.spelling import SpellingMatcher, allowed_edits, are_relatives
from chatbot.passages import make_passages

QUERIES = ["Does acupuncture help lower back pain?", "Is acupuncture safe?",
           "How long does a session last", "Can acupuncture cause bruising?", "needles", "sciatica",
           "acupunture for chronic back pain"]


def top_doc(index: PassageIndex, query: str) -> str | None:
    hits = index.search(query, 3)
    return hits[0].passage.source.doc_id if hits else None


# -- estimator contract ------------------------------------------------------

def test_search_before_fit_raises_not_fitted_error():
    index = PassageIndex()
    with pytest.raises(NotFittedError, match="fit"):
        index.search("acupuncture")
    with pytest.raises(NotFittedError):
        index.scores("acupuncture")


def test_fit_on_no_passages_is_refused():
    with pytest.raises(ValueError, match="zero passages"):
        PassageIndex().fit([])


def test_parameters_are_stored_unchanged_and_fit_returns_self(topic_passages):
    index = PassageIndex(section_weight=0.5, sublinear_tf=False, synonyms=(("pins", "needles"),))
    assert index.get_params()["section_weight"] == 0.5
    assert index.get_params()["sublinear_tf"] is False
    assert index.get_params()["synonyms"] == (("pins", "needles"),)
    assert index.fit(topic_passages) is index
    assert len(index.passages_) == len(topic_passages)


def test_hits_are_frozen_values(topic_index):
    hit = topic_index.search("cupping")[0]
    assert isinstance(hit, Hit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.score = 1.0


# -- ranking properties (default corpus: no exact scores or boundaries) ------

@pytest.mark.parametrize("query", QUERIES)
def test_scores_are_between_zero_and_one_and_sorted(default_index, query):
    hits = default_index.search(query, 10)
    assert hits
    scores = [h.score for h in hits]
    assert all(0.0 < s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len({h.passage.id for h in hits}) == len(hits)


def test_dense_scores_cover_every_passage_within_zero_and_one(default_index):
    scores = default_index.scores("acupuncture needles for back pain")
    assert scores.shape == (len(default_index.passages_),)
    assert scores.min() >= 0.0 and scores.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("k", [1, 3, 7])
def test_k_is_respected(default_index, k):
    assert len(default_index.search("acupuncture back pain", k)) == k


@pytest.mark.parametrize("k", [0, -2])
def test_k_below_one_returns_nothing(default_index, k):
    assert default_index.search("acupuncture back pain", k) == []


def test_fewer_hits_than_k_when_few_passages_match(topic_index):
    hits = topic_index.search("cupping suction", 10)
    assert [h.passage.source.doc_id for h in hits] == ["cupping"]


@pytest.mark.parametrize("query", QUERIES)
def test_top_three_are_the_start_of_the_top_ten(default_index, query):
    assert default_index.search(query, 3) == default_index.search(query, 10)[:3]


def test_a_smaller_k_gives_the_start_of_the_larger_ranking(topic_index):
    full = topic_index.search("acupuncture needles for back pain and soreness", 10)
    assert len(full) >= 3
    for k in range(1, len(full)):
        assert topic_index.search("acupuncture needles for back pain and soreness", k) == full[:k]


def test_a_smaller_k_gives_the_start_of_the_larger_ranking_when_scores_tie(make_passage):
    # The first four passages match "side effects" only through their shared heading, so they
    # tie; a tie at the cut must be broken the same way whatever k is.
    texts = ["Bruises may appear where the needles went in.",
             "Some people feel tired for the rest of the day.",
             "A little bleeding can happen at a point.",
             "Soreness fades within a day or two.",
             "Side effects of acupuncture are usually mild and short-lived."]
    index = PassageIndex().fit([make_passage("risks", t, section="Side effects") for t in texts])
    full = index.search("side effects", 10)
    assert len(full) == len(texts)
    for k in range(1, len(full)):
        assert index.search("side effects", k) == full[:k]


@pytest.mark.parametrize("query", ["", "   ", "?!", "what is the", "Can you tell me what it is?",
                                   "and or but if"])
def test_empty_or_stop_word_query_returns_nothing(default_index, query):
    assert default_index.search(query, 5) == []


def test_unknown_words_lower_the_score_of_a_mixed_question(topic_index):
    plain = topic_index.search("cupping", 1)[0]
    mixed = topic_index.search("cupping xylophonic zebrafinches", 1)[0]
    assert mixed.passage.id == plain.passage.id
    assert mixed.score < plain.score


# -- typos -------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("acupunture", "acupuncture"),
    ("accupuncture", "acupuncture"),
    ("side efects", "effects"),
    ("cuping", "cupping"),
    ("needels", "needles"),
])
def test_misspelt_word_still_finds_its_passage_first(topic_index, query, expected):
    assert top_doc(topic_index, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("acupunture for back pain", "acupuncture"),
    ("side efects", "side-effects"),
    ("cuping", "cupping"),
])
def test_misspelt_word_finds_its_document_in_a_built_corpus(make_corpus, topic_files, query,
                                                            expected):
    index = build_index(make_corpus(topic_files)).index
    assert top_doc(index, query) == expected


@pytest.mark.parametrize("query", ["recipe", "zebra", "acquaintance", "cat", "pins"])
def test_word_beyond_the_allowed_edits_stays_unmatched(topic_index, query):
    assert topic_index.search(query, 5) == []


def test_spelling_matcher_accepts_one_edit_for_short_words_and_two_for_long_ones():
    assert [allowed_edits(w) for w in ("cups", "needles", "massages", "acupuncture")] == [1, 1, 2, 2]
    matcher = SpellingMatcher().fit(["receive", "needles", "acupuncture"])
    assert [w for w, _ in matcher.match("recieve")] == ["receive"]  # a transposition is one edit
    assert [w for w, _ in matcher.match("acupuntre")] == ["acupuncture"]  # two edits, long word
    assert matcher.match("recipe") == []
    assert matcher.match("nedls") == []  # two edits in a short word
    similarity = matcher.match("needels")[0][1]
    assert 0.0 < similarity < 1.0


# -- synonyms ----------------------------------------------------------------

def test_synonym_rule_lets_a_visitor_word_find_the_document_word(make_corpus, topic_files):
    without_rule = build_index(make_corpus(topic_files)).index
    assert top_doc(without_rule, "how sharp are the pins") != "needles"
    corpus = make_corpus({**topic_files, "synonyms.txt": "# visitor words => ours\npins => needles\n"})
    result = build_index(corpus)
    assert result.report["synonym_rules"] == 1
    assert result.errors == []
    assert top_doc(result.index, "how sharp are the pins") == "needles"
    assert top_doc(result.index, "pins") == "needles"


def test_bad_synonym_rule_is_reported_with_its_line(make_corpus, topic_files):
    corpus = make_corpus({**topic_files, "synonyms.txt": "pins => needles\npins needles\n"})
    result = build_index(corpus)
    assert result.report["synonym_rules"] == 1
    assert [(e.path, e.line) for e in result.errors] == [("synonyms.txt", 2)]


def test_synonym_scores_like_the_word_it_stands_for(topic_passages):
    index = PassageIndex(synonyms=(("pins", "needles"),)).fit(topic_passages)
    by_synonym = index.search("pins", 1)[0]
    by_word = index.search("needles", 1)[0]
    assert by_synonym.passage.id == by_word.passage.id
    assert by_synonym.score == pytest.approx(by_word.score)


@pytest.mark.parametrize("a, b, related", [
    ("pregnant", "pregnanc", True), ("inflamm", "inflammatori", True), ("realis", "realiz", True),
    ("cheap", "cheaper", True), ("after", "afternoon", False), ("stand", "standard", False),
    ("medic", "medicar", False), ("physic", "physician", False), ("pain", "paint", False),
])
def test_word_families_the_stemmer_keeps_apart_are_recognised_and_no_others(a, b, related):
    assert are_relatives(a, b) is related and are_relatives(b, a) is related


def test_a_real_word_without_postings_is_met_by_its_relative(make_passage):
    passages = [make_passage("avoid", "Reasons to avoid treatment include bleeding disorders and pregnancy."),
                make_passage("weeks", "Most people feel better within six weeks of weekly sessions."),
                make_passage("needles", "The needles are single-use and very fine.")]
    assert top_doc(PassageIndex().fit(passages), "I am pregnant, is it ok?") == "avoid"
    assert PassageIndex(relative_weight=0.0).fit(passages).search("I am pregnant, is it ok?", 1) == []


def test_a_number_in_a_question_weighs_less_than_its_topic(make_passage):
    passages = [make_passage("study", "A study followed 20 patients for a year."),
                make_passage("avoid", "Pregnancy is a reason to avoid some points."),
                make_passage("cupping", "Cupping places cups on the skin of the back.")]
    assert top_doc(PassageIndex().fit(passages), "20 weeks pregnant") == "avoid"


def test_an_index_that_answered_is_freed_when_dropped_without_the_garbage_collector(topic_passages):
    # A replaced index must not wait for a full collection (which stalls the worker that runs it).
    index = PassageIndex().fit(topic_passages)
    hits = index.search("does it hurt", 3)
    index.answer_probability("does it hurt", hits)
    gone = weakref.ref(index)
    gc.disable()
    try:
        del index, hits
        assert gone() is None
    finally:
        gc.enable()


# -- stable passage ids ------------------------------------------------------

def passage_ids(corpus) -> dict[str, set[str]]:
    passages, _ = make_passages(load_corpus(corpus).documents)
    ids: dict[str, set[str]] = {}
    for p in passages:
        ids.setdefault(p.source.doc_id, set()).add(p.id)
    return ids


def test_building_the_same_corpus_twice_gives_the_same_ids(make_corpus, topic_files):
    first = build_index(make_corpus(topic_files)).index
    second = build_index(make_corpus(topic_files)).index
    assert [p.id for p in first.passages_] == [p.id for p in second.passages_]
    assert len({p.id for p in first.passages_}) == len(first.passages_)


def test_editing_one_document_leaves_the_ids_of_the_others_unchanged(make_corpus, topic_files):
    before = passage_ids(make_corpus(topic_files))
    edited = dict(topic_files)
    edited["cupping.md"] = edited["cupping.md"].replace("glass or silicone",
                                                        "glass, bamboo or silicone")
    after = passage_ids(make_corpus(edited))
    assert after["cupping"] != before["cupping"]
    assert {d: ids for d, ids in after.items() if d != "cupping"} == \
           {d: ids for d, ids in before.items() if d != "cupping"}


def test_adding_a_document_leaves_existing_ids_unchanged(make_corpus, topic_files):
    before = passage_ids(make_corpus(topic_files))
    after = passage_ids(make_corpus({**topic_files, "heat.md": (
        "# Heat\n\nA warm compress before a session helps stiff muscles relax, and many patients "
        "like to rest for a few minutes afterwards before driving home.\n")}))
    assert {d: after[d] for d in before} == before
    assert "heat" in after


# -- vocabulary size ------------------------------------------------------------

def test_a_large_corpus_drops_the_bigrams_only_one_text_uses(topic_passages):
    full = PassageIndex().fit(topic_passages)
    pruned = PassageIndex(prune_bigrams_from=1).fit(topic_passages)
    full_terms, pruned_terms = set(full.vocabulary_), set(pruned.vocabulary_)
    assert {t for t in full_terms if " " not in t} == {t for t in pruned_terms if " " not in t}
    assert any(" " in t for t in full_terms)
    dropped = full_terms - pruned_terms
    assert dropped and all(" " in t for t in dropped)
    assert pruned.postings_.shape[0] == len(pruned.vocabulary_) == len(pruned.idf_)
    for query in QUERIES:
        assert top_doc(pruned, query) == top_doc(full, query), query


def test_a_bigram_two_texts_share_is_kept_when_pruning(make_passage):
    passages = [make_passage("a", "Lower back pain eases with rest."),
                make_passage("b", "Needles can relieve lower back pain."),
                make_passage("c", "Cupping loosens tight shoulders.")]
    index = PassageIndex(prune_bigrams_from=1).fit(passages)
    assert "back pain" in index.vocabulary_
    assert "tight shoulder" not in index.vocabulary_
    assert "tight" in index.vocabulary_


def test_the_clinic_sized_corpus_keeps_every_bigram(default_index):
    assert default_index.prune_bigrams_from > len(default_index.passages_)


def test_highlighted_sentence_is_the_best_scoring_sentence_of_its_passage(default_index, dev_questions):
    checked = 0
    for query in dev_questions:
        parsed = default_index._parsed(query)
        if not len(parsed.ids):
            continue
        every_sentence = default_index._sentence_scores(parsed)
        starts = default_index.sentence_starts_
        for hit in default_index.search(query, 5, highlight=5):
            row = default_index.passage_ids_[hit.passage.id]
            first = int(starts[row])
            last = int(starts[row + 1]) if row + 1 < len(starts) else len(default_index.sentence_spans_)
            best = first + int(np.argmax(every_sentence[first:last]))
            assert hit.highlight == tuple(int(x) for x in default_index.sentence_spans_[best]), query
            checked += 1
    assert checked > 50


# -- the top k without a dense pass (PassageIndex._top) -------------------------

_TOPICS = ("glaucoma asthma gout shingles anemia vertigo eczema psoriasis tinnitus sciatica bursitis "
           "tendinitis migraine lupus scoliosis rosacea cataract bronchitis arthritis insomnia").split()
# 120 made-up condition names beside the real ones: a corpus large enough that a common
# word's row is much longer than a rare one's, as at scale.
_TOPICS += ["".join(__import__("random").Random(i).choices("bcdfgklmnprstvz", k=3)) + suffix
            for i in range(120) for suffix in ["itis"]]
_ASPECTS = ("symptoms", "causes", "treatments", "risks", "outlook", "tests")


@pytest.fixture(scope="module")
def faq_index(make_passage) -> PassageIndex:
    """FAQ entries whose question words ("what", "are", "the", "of") are in nearly every
    question, some with alternate wordings, beside document passages, half of them with a
    written question (questions.txt: their score leans on its match, not blended as an FAQ's)."""
    import random
    rng = random.Random(7)
    passages = []
    for topic in _TOPICS:
        for aspect in _ASPECTS:
            other = rng.choice(_TOPICS)
            alternates = (f"How do doctors look at the {aspect} of {topic}?",) if rng.random() < 0.3 else ()
            passages.append(make_passage(
                f"faq-{topic}-{aspect}", f"The {aspect} of {topic} differ from those of {other}; "
                f"{rng.choice(_ASPECTS)} are discussed with a doctor.",
                question=f"What are the {aspect} of {topic}?", alternates=alternates))
        written = (f"Does {topic} differ between people?",) if rng.random() < 0.5 else ()
        passages.append(make_passage(f"doc-{topic}", f"{topic.title()} is a condition. Its {rng.choice(_ASPECTS)} "
                                     f"vary from person to person.", alternates=written))
    return PassageIndex().fit(passages)


def _faq_queries() -> list[str]:
    return ([f"What are the {aspect} of {topic}?" for topic in _TOPICS[:8] for aspect in _ASPECTS[:3]]
            + ["What is glaucoma", "what are the", "symptoms", "What is it?", "How do doctors look at gout",
               "What causes asthma or eczema?", "Is gout a condition?", "what are the tests",
               "does gout differ between people", "Does it differ between people?"])


@pytest.mark.parametrize("k", [1, 3, 10, 200])
def test_the_pruned_top_k_is_the_dense_top_k_bit_for_bit(faq_index, k, monkeypatch):
    import chatbot.index.passage_index as passage_index
    from chatbot.index.ranking import top_k
    monkeypatch.setattr(passage_index, "DENSE_PASS_MAX_PASSAGES", 0)  # this index is small: prune anyway
    monkeypatch.setattr("chatbot.index.field_match.DENSE_FIELD_MAX_TEXTS", 0)  # and search its FAQ fields
    dense_runs = []
    dense_top = faq_index._dense_top
    monkeypatch.setattr(faq_index, "_dense_top", lambda parsed, k: dense_runs.append(1) or dense_top(parsed, k))
    queries = _faq_queries()
    for query in queries:
        parsed = faq_index._parsed(query)
        if not len(parsed.ids):
            continue
        scores = faq_index._scores(parsed)
        expected = top_k(scores, k)
        rows, found = faq_index._top(parsed, k)
        assert rows.tolist() == expected.tolist(), query
        assert found.tolist() == scores[expected].tolist(), query
    if k <= 3:  # a topic has 7 passages here: its rare name settles the top 3 of most queries;
        # only "what are the"-like ones, or a k beyond the topic, need every passage
        assert len(dense_runs) < len(queries) / 2


def test_a_small_index_scores_every_passage_and_finds_the_pruned_hits(faq_index, monkeypatch):
    import chatbot.index.passage_index as passage_index
    partial_runs = []
    scores_at = faq_index._scores_at
    monkeypatch.setattr(faq_index, "_scores_at", lambda *args: partial_runs.append(1) or scores_at(*args))
    dense = {query: faq_index.search(query, 10, highlight=3) for query in _faq_queries()}
    assert not partial_runs  # 980 passages: the dense pass, no candidates
    monkeypatch.setattr(passage_index, "DENSE_PASS_MAX_PASSAGES", 0)
    for query, hits in dense.items():
        assert faq_index.search(query, 10, highlight=3) == hits, query
    assert partial_runs


def test_highlights_from_every_sentence_are_those_of_the_searched_sentences(faq_index, monkeypatch):
    import chatbot.index.passage_index as passage_index
    dense_runs = []
    sentence_scores = faq_index._sentence_scores
    monkeypatch.setattr(faq_index, "_sentence_scores", lambda parsed: dense_runs.append(1) or sentence_scores(parsed))
    queries = _faq_queries() + ["doctors discuss the causes", "person to person"]
    rows = np.arange(0, len(faq_index.passages_), 5)
    dense = {query: faq_index._best_sentences(faq_index._parsed(query), rows) for query in queries}
    with_terms = sum(len(faq_index._parsed(query).ids) > 0 for query in queries)
    assert len(dense_runs) == with_terms > 20  # a query of no index term has no sentence scores to sum
    monkeypatch.setattr(passage_index, "DENSE_PASS_MAX_SENTENCES", 0)
    for query, best in dense.items():
        assert faq_index._best_sentences(faq_index._parsed(query), rows) == best, query
    assert len(dense_runs) == with_terms
    # not always a passage's first sentence: the sums decide
    within = {b - int(faq_index.sentence_starts_[r]) for best in dense.values()
              for b, r in zip(best, rows, strict=True)}
    assert within != {0}


def test_confidence_features_read_the_rankings_question_match_as_if_scored_alone(faq_index):
    used = 0
    for query in _faq_queries():
        hits = faq_index.search(query, 10)
        if not hits:
            continue
        last = faq_index._last_match
        used += last is not None and last[0] is faq_index._parsed(query)
        from_ranking = faq_index.answer_features(query, hits)
        faq_index._last_match = None  # forgotten: the best passage's match is scored on its own
        assert faq_index.answer_features(query, hits) == from_ranking, query
    assert used > 20


@pytest.mark.parametrize("field_texts_scored_whole", [0, 5_000], ids=["searched", "dense"])
def test_partial_scores_equal_the_dense_scores_at_those_passages(faq_index, field_texts_scored_whole, monkeypatch):
    import chatbot.index.field_match as field_match
    monkeypatch.setattr(field_match, "DENSE_FIELD_MAX_TEXTS", field_texts_scored_whole)
    rows = np.arange(0, len(faq_index.passages_), 3)
    for query in _faq_queries():
        parsed = faq_index._parsed(query)
        if not len(parsed.ids):
            continue
        terms = faq_index._query_terms(parsed)
        assert faq_index._scores_at(parsed, terms, rows).tolist() == faq_index._scores(parsed)[rows].tolist()
        for matcher, words_of in ((faq_index.question_match_, parsed.intent),
                                  (faq_index.answer_match_, parsed.content)):
            assert matcher.scores_at(list(words_of), rows).tolist() == matcher.scores(list(words_of))[rows].tolist()


def test_the_pruned_top_k_survives_saving_and_loading(faq_index, tmp_path):
    from chatbot.index.artifact import load_index, save_index
    save_index(faq_index, tmp_path / "index")
    loaded, _ = load_index(tmp_path / "index")
    for query in _faq_queries():
        assert loaded.search(query, 5) == faq_index.search(query, 5), query


def test_postings_built_in_chunks_are_those_of_one_pass(faq_index, monkeypatch):
    import chatbot.index.passage_index as passage_index
    monkeypatch.setattr(passage_index, "BUILD_CHUNK", 7)  # many chunks, one cut inside a passage
    chunked = PassageIndex().fit(faq_index.passages_)
    for matrix in ("postings_", "sentence_postings_"):
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(getattr(chunked, matrix), name),
                                  getattr(getattr(faq_index, matrix), name)), (matrix, name)
        assert getattr(chunked, matrix).dtype == np.float32


@pytest.mark.parametrize("values", [[], [7], [3, 1, 3, 2, 1], list(range(50, 0, -1)) * 3])
def test_sorted_unique_gives_what_np_unique_gives(values):
    from chatbot.index.ranking import sorted_unique
    array = np.array(values, dtype=np.int64)
    assert np.array_equal(sorted_unique(array), np.unique(array)) and sorted_unique(array).dtype == np.int64
