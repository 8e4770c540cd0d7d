"""TermCounter: the counts scikit-learn's CountVectorizer gives with the index's analyzers, bigram pruning."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from chatbot.index.field_match import FILLER_WORDS, intent_terms
from chatbot.index.terms import TermCounter, word_terms
from chatbot.text import words

TEXTS = [
    "Acupuncture may ease chronic lower back pain; lower back pain is common.",
    "How long does a session last? Sessions last 20 to 40 minutes.",
    "",  # an empty text is an empty row
    "the of and",  # stop words only
    "Caf\u00e9 \u201cquoted\u201d words \u2014 and na\u00efve ones, NFKC: \ufb01ne.",
    "Needles needles NEEDLES: the same stem three times, back pain again.",
    "supercalifragilisticexpialidociousandmuchlongerstillword is too long to index",
]


def _dense(matrix) -> np.ndarray:
    return matrix.toarray()


@pytest.mark.parametrize(("analyzer", "options"), [
    (word_terms, {}),
    (intent_terms, {"dropped": FILLER_WORDS, "bigrams": False}),
], ids=["word_terms", "intent_terms"])
def test_counts_and_columns_are_those_of_count_vectorizer(analyzer, options):
    expected = CountVectorizer(analyzer=analyzer, dtype=np.float32).fit(TEXTS)
    counter = TermCounter(**options)
    counts = counter.fit_transform(TEXTS)
    assert counter.terms_ == expected.get_feature_names_out().tolist()
    assert np.array_equal(_dense(counts), _dense(expected.transform(TEXTS)))
    assert counts.has_sorted_indices
    assert counter.seen_ == {w for text in TEXTS for w in words(text)}


def test_bigrams_one_text_uses_are_dropped_before_counting():
    texts = ["lower back pain eases", "lower back pain returns", "tight shoulders ache", "tight shoulders"]
    counter = TermCounter(min_bigram_rows=2)
    counts = counter.fit_transform(texts)
    bigrams = {t for t in counter.terms_ if " " in t}
    assert bigrams == {"lower back", "back pain", "tight shoulder"}
    everything = TermCounter()
    full = everything.fit_transform(texts)
    assert {t for t in everything.terms_ if " " not in t} == {t for t in counter.terms_ if " " not in t}
    kept = [everything.terms_.index(t) for t in counter.terms_]  # the same counts in the kept columns
    assert np.array_equal(_dense(counts), _dense(full)[:, kept])


def test_a_bigram_used_twice_by_one_text_only_is_dropped():
    counter = TermCounter(min_bigram_rows=2)
    counter.fit_transform(["back pain and back pain", "shoulder ache"])
    assert "back pain" not in counter.terms_
    assert "back" in counter.terms_ and "pain" in counter.terms_


def test_texts_without_a_term_are_refused_like_count_vectorizer():
    with pytest.raises(ValueError, match="empty vocabulary"):
        TermCounter().fit_transform(["the of", ""])


# -- sentence splitting: the direct cut is Punkt's cut ---------------------------

PUNKT_CASES = [
    "Treatments include: - Surgery. - Radiation therapy. - Chemotherapy.",  # a list run into one line
    "Rest for a day. then walk a little. Avoid lifting.",  # a lower-case start after a plain word
    "It helps some patients (about 3.5 in 10). Others feel no change.",  # a mark inside a token
    "Ask Dr. Smith. He knows.",  # an abbreviation
    "Caused by H. pylori. Treated with antibiotics.",  # an initial
    "The risk rises after the condition. \" Next, the cells grow.",  # a quote Punkt moves back
    "Wait for it. . . then breathe.",  # an ellipsis
    "Why does it hurt? Because the muscle is tight! Rest helps.",
]


@pytest.mark.parametrize("line", PUNKT_CASES)
def test_split_sentences_cuts_where_punkt_does(line):
    from chatbot.text import _SENTENCE_SPLITTER, split_sentences
    assert split_sentences(line) == [s.strip() for s in _SENTENCE_SPLITTER.tokenize(line) if s.strip()]


def test_a_list_run_into_one_line_is_cut_without_punkt(monkeypatch):
    from chatbot import text
    monkeypatch.setattr(text, "_SENTENCE_SPLITTER", None)  # any call to Punkt fails
    assert text.split_sentences(PUNKT_CASES[0]) == ["Treatments include: - Surgery.", "- Radiation therapy.",
                                                    "- Chemotherapy."]
    assert text.split_sentences(PUNKT_CASES[1]) == ["Rest for a day.", "then walk a little.", "Avoid lifting."]


@pytest.mark.parametrize("message, expected", [
    ("what is moxibustion? saw it on a leaflet", "what is moxibustion?"),
    ("Hi there. Does it hurt? I hate needles.", "Does it hurt?"),
    ("Does it hurt?", None),                              # one sentence: the message is the question
    ("I have sciatica. My leg is numb.", None),           # no question
    ("Does it hurt? How long is a session?", None),       # two questions: neither is the question
])
def test_asking_sentence_is_the_one_question_among_several_sentences(message, expected):
    from chatbot.text import asking_sentence
    assert asking_sentence(message) == expected


# -- the FAQ fields: each field's texts are its own ----------------------------

def test_each_faq_field_scores_its_own_texts(make_passage):
    from chatbot.index import PassageIndex
    passages = [
        make_passage("a", "Thin sterile needles are used once.", question="Do the needles hurt?",
                     alternates=("Is it painful?", "Will I feel the pins?")),
        make_passage("b", "Most people feel relaxed afterwards.", question="How will I feel after a session?"),
        make_passage("c", "Sessions last about thirty minutes.", question="How long is a session?"),
        make_passage("d", "Cupping uses suction on the skin."),  # no question: in the background only
    ]
    index = PassageIndex().fit(passages)
    for words_of, question_rows, answer_rows in ((["needl"], [0], [0]), (["relax"], [], [1]),
                                                 (["pain"], [0], []), (["minut"], [], [2]),
                                                 (["cup"], [], [])):
        assert np.flatnonzero(index.question_match_.scores(words_of)).tolist() == question_rows, words_of
        assert np.flatnonzero(index.answer_match_.scores(words_of)).tolist() == answer_rows, words_of


@pytest.mark.parametrize("line", [*PUNKT_CASES, "a. b", ". X", "x.!  Y", "Go. A. Next", "3.5mg. Next",
                                  "e.g. this. That", "\u00a0x. y", "a.\u2003b", "word.\"  (Next)", "end."])
def test_breaks_are_the_matches_of_the_break_pattern(line):
    from chatbot.text import _INNER_BREAK, _breaks
    expected = [(m["word"], m["stop"], m["next"], m.start("word"), m.start("next"))
                for m in _INNER_BREAK.finditer(line)]
    assert [(b.word, b.stop, b.next, b.word_start, b.next_start) for b in _breaks(line)] == expected


def test_counts_sorted_a_few_texts_at_a_time_are_those_of_one_pass(monkeypatch):
    import chatbot.index.terms as terms
    whole = TermCounter().fit_transform(TEXTS)
    monkeypatch.setattr(terms, "KEY_BLOCK", 2)
    blocked = TermCounter().fit_transform(TEXTS)
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(blocked, name), getattr(whole, name)), name


# -- postings from chunks of rows -----------------------------------------------

@pytest.mark.parametrize("blocks", [1, 3, 40])
def test_term_major_of_chunks_is_the_transposed_stack(blocks):
    from scipy import sparse

    from chatbot.index.matrices import term_major, term_major_of_chunks
    rng = np.random.default_rng(0)
    dense = rng.random((50, 30)) * (rng.random((50, 30)) < 0.2)
    dense[7] = 0  # an empty row
    whole = sparse.csr_matrix(dense)
    chunks = [whole[a:a + 8].copy() for a in range(0, 50, 8)]
    expected = term_major(whole.copy())
    found = term_major_of_chunks(iter(chunks), n_terms=30, n_columns=50, blocks=blocks)
    assert found.shape == expected.shape and found.dtype == np.float32
    for name in ("indptr", "indices", "data"):
        assert getattr(found, name).dtype == getattr(expected, name).dtype, name
        assert np.array_equal(getattr(found, name), getattr(expected, name)), name
