"""The learned signal of questions like those staff listed as answered by no passage."""
from __future__ import annotations

from chatbot.index.unanswered_like import MIN_EACH, fit_unanswered_like
from chatbot.passages.questions_file import NO_PASSAGE, parse_questions
from conftest import DEFAULT_CORPUS

ANSWERED = ["does acupuncture hurt", "how long does a session take", "are the needles clean",
            "can acupuncture help my sciatica", "what does the needle feel like", "is it safe when pregnant"]
UNANSWERED = ["how much does a session cost", "do you take my insurance", "are you open on sundays",
              "is there parking near the clinic", "do you offer gift vouchers", "what are your prices"]


def test_questions_of_each_kind_lean_their_own_way():
    model = fit_unanswered_like(ANSWERED, UNANSWERED)
    assert model.probability("how much are the sessions") > 0.5 > model.probability("do the needles hurt")


def test_nothing_is_learned_from_a_list_too_short():
    assert fit_unanswered_like(ANSWERED, UNANSWERED[:MIN_EACH - 1]) is None
    assert fit_unanswered_like(ANSWERED[:MIN_EACH - 1], UNANSWERED) is None
    assert fit_unanswered_like(["a", "b"], ["c", "d"]) is None   # single letters: no word n-grams


def test_the_default_corpus_tells_its_own_lists_apart_left_out():
    """Fitted on four fifths of questions.txt, the model ranks most of the other fifth's questions
    on the right side of one half (a check that it learns the kinds, not the wordings)."""
    sections, _ = parse_questions((DEFAULT_CORPUS / "questions.txt").read_text("utf-8"))
    answered = [w for s in sections if s.quote != NO_PASSAGE for w in s.wordings]
    unanswered = [w for s in sections if s.quote == NO_PASSAGE for w in s.wordings]
    model = fit_unanswered_like([w for i, w in enumerate(answered) if i % 5],
                                [w for i, w in enumerate(unanswered) if i % 5])
    held_answered = [w for i, w in enumerate(answered) if not i % 5]
    held_unanswered = [w for i, w in enumerate(unanswered) if not i % 5]
    right = (sum(model.probability(w) < 0.5 for w in held_answered)
             + sum(model.probability(w) >= 0.5 for w in held_unanswered))
    assert right >= 0.8 * (len(held_answered) + len(held_unanswered))
