"""The passage classifier learned from the passages' wordings: scikit-learn's probabilities as plain
arrays, a lift for the passage a question asks for, saved with the index and optional."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import hstack

from chatbot.index import PassageIndex
from chatbot.index.artifact import load_index, save_index
from chatbot.index.passage_classifier import ARRAY_NAMES, MAX_CLASSES, C, PassageClassifier, fit_passage_classifier
from chatbot.ngrams import fit_tfidf_logistic

WORDINGS = [(0, "does acupuncture hurt"), (0, "will the needles sting"), (0, "is it painful"),
            (1, "how long is a session"), (1, "how many minutes does it take"), (1, "length of an appointment"),
            (2, "what should i wear"), (2, "do i need to undress"), (2, "clothes for my visit")]
SAMPLES = ["does it sting much?", "how many minutes", "what clothes", "", "é café", "wear clothes hurt"]


@pytest.mark.parametrize("classes", [3, 2])
def test_the_plain_arrays_give_scikit_learns_probabilities(classes):
    wordings = [(row, text) for row, text in WORDINGS if row < classes]
    model = fit_passage_classifier(wordings)
    vectorizers, regression = fit_tfidf_logistic([t for _, t in wordings], [r for r, _ in wordings], C,
                                                 balanced=False)
    expected = regression.predict_proba(hstack([v.transform(SAMPLES) for v in vectorizers]).tocsr())
    got = np.array([model.probabilities(text) for text in SAMPLES])
    assert list(model.rows) == list(regression.classes_)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_nothing_to_learn_from_one_passage_or_too_many():
    assert fit_passage_classifier([(0, "does it hurt"), (0, "is it painful")]) is None
    assert fit_passage_classifier([]) is None
    assert fit_passage_classifier([(0, "a"), (1, "b?")]) is None   # no word n-gram to learn from
    one_each = [(0, "does acupuncture hurt"), (1, "how long is a session"), (2, "what should i wear")]
    assert fit_passage_classifier(one_each) is None   # one wording a passage: too little to learn from
    assert MAX_CLASSES < 10_000   # a bound exists: the fit grows with classes x terms


def test_a_question_worded_like_no_single_wording_is_lifted_to_its_passage(make_passage):
    """Two passages that share the question's words; the written questions of one say what it
    answers. The classifier lifts that one, although no single wording holds the question."""
    passages = [make_passage("a", "Needles are fine. Most people feel little. Sessions vary.", question=None),
                make_passage("b", "Sessions vary in length. Needles are left in for a while.", question=None)]
    passages = [p.__class__(**{**p.__dict__, "alternates": alternates}) for p, alternates in zip(passages, [
        ("does acupuncture hurt", "will the needles sting", "is it painful"),
        ("how long is a session", "how many minutes does it take", "how long are needles left in")],
        strict=True)]
    plain = PassageIndex().fit(passages)
    assert plain.passage_classifier_ is not None
    probabilities = dict(zip(plain.passage_classifier_.rows, plain.passage_classifier_.probabilities(
        "will it sting, is it painful with needles"), strict=True))
    assert probabilities[0] > probabilities[1]
    assert plain.search("will it sting, is it painful with needles", 2)[0].passage.id == passages[0].id


def test_the_classifier_is_saved_mapped_and_optional(tmp_path, default_index, topic_index):
    folder = tmp_path / "default"
    manifest = save_index(default_index, folder)
    assert all(f"passage_classifier.{name}.npy" in manifest["files"] for name in ARRAY_NAMES)
    loaded, _ = load_index(folder)
    assert isinstance(loaded.passage_classifier_, PassageClassifier)
    assert isinstance(loaded.passage_classifier_.weights, np.ndarray)
    assert not loaded.passage_classifier_.weights.flags.owndata   # mapped from the file, not copied
    for query in ("does the needle thing hurt much", "wat to wear", "how long does it last"):
        assert ([(h.passage.id, h.score) for h in loaded.search(query, 5)]
                == [(h.passage.id, h.score) for h in default_index.search(query, 5)])
    # An index whose passages have no wordings has no classifier, and no such files.
    bare = tmp_path / "bare"
    manifest = save_index(topic_index, bare)
    assert topic_index.passage_classifier_ is None
    assert not any(name.startswith("passage_classifier.") for name in manifest["files"])
    assert load_index(bare)[0].passage_classifier_ is None
