"""The one place that decides what the bot replies (used by the API and staff tools).

Order: the urgent screen first (warning signs never wait for retrieval), then
smalltalk, then retrieval. A retrieval answer needs the index's calibrated
probability that the passages shown answer the question (index/confidence.py)
to be at least `threshold`, for the whole message or, when both rank the same
passage first, for its asking sentence alone (a question wrapped in a story).
Below it, or below UNSURE_ANSWER, the smalltalk learned from the staff's
files (smalltalk_model.py) has its say: a message the documents do not answer
may be chat in words the smalltalk file lacks. Otherwise the bot says it does
not know, how to reach the clinic, and offers the candidates it found as
"these may help".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..index import Hit, PassageIndex
from ..passages.model import Source
from ..settings import BY_NAME
from ..text import asking_sentence, squash_spaces, word_count
from .kinds import ReplyKind
from .smalltalk import Smalltalk, SmalltalkMatch
from .smalltalk_model import SmalltalkModel
from .urgent import UrgentReplies, UrgentScreen, urgent_reply

CANDIDATE_POOL = 10       # passages looked at to choose suggestions
# An answer less sure than this gives way to the learned smalltalk model when that model is
# sure the message is chat ("ok thats all from me, take care" met "carefully take out
# needles"). Over the 2,300-odd labelled messages of the read suites it changed that one
# reply and no answerable question's (README, "Quality").
UNSURE_ANSWER = 0.8
MAX_SUGGESTIONS = 3
SHORT_HIGHLIGHT_WORDS = 12  # a highlight shorter than this is shown with its passage


@dataclass(frozen=True)
class AnswerPassage:
    """A passage as the visitor sees it, with the sentence that best matches."""
    id: str
    text: str
    highlight: str
    score: float
    question: str | None
    source: Source


@dataclass(frozen=True)
class Answer:
    """What the bot replies to one message; `confidence` is the probability that the passages
    answer it, for a retrieval reply (None for urgent and smalltalk, and when nothing was found)."""
    kind: ReplyKind
    reply: str
    passages: tuple[AnswerPassage, ...] = ()
    suggestions: tuple[str, ...] = ()
    confidence: float | None = None


def _default(name: str):
    return BY_NAME[name].default


@dataclass(frozen=True)
class PolicySettings:
    """The clinic's choices the policy follows; defaults are the declared settings' (chatbot/settings.py)."""
    threshold: float = _default("CHATBOT_ANSWER_THRESHOLD")  # a probability: answer when at least this sure
    suggestion_margin: float = _default("CHATBOT_SUGGESTION_MARGIN")
    contact_text: str = _default("CHATBOT_CONTACT_TEXT")
    notice: str = _default("CHATBOT_NOTICE")
    clinic_name: str = _default("CHATBOT_CLINIC_NAME")
    no_answer_text: str = _default("CHATBOT_NO_ANSWER_TEXT")
    urgent_replies: UrgentReplies = UrgentReplies()


def policy_from_settings(settings: Mapping[str, Any]) -> PolicySettings:
    """The reply policy of resolved settings (`chatbot.settings.Settings` or app.config:
    any mapping holding the CHATBOT_* names), so every door answers with the clinic's values."""
    return PolicySettings(threshold=settings["CHATBOT_ANSWER_THRESHOLD"],
                          suggestion_margin=settings["CHATBOT_SUGGESTION_MARGIN"],
                          contact_text=settings["CHATBOT_CONTACT_TEXT"],
                          notice=settings["CHATBOT_NOTICE"],
                          clinic_name=settings["CHATBOT_CLINIC_NAME"],
                          no_answer_text=settings["CHATBOT_NO_ANSWER_TEXT"],
                          urgent_replies=UrgentReplies(
                              medical=settings["CHATBOT_URGENT_MEDICAL_REPLY"],
                              self_harm=settings["CHATBOT_URGENT_SELF_HARM_REPLY"],
                              emergency_number=settings["CHATBOT_EMERGENCY_NUMBER"],
                              crisis_number=settings["CHATBOT_CRISIS_NUMBER"]))


class Responder:
    """Decides the kind of reply and writes it.

    Without `smalltalk` no message is smalltalk: the replies belong to a clinic's
    smalltalk.txt, so none is assumed here. `smalltalk_model` (fitted with that
    file) is asked only about messages retrieval would not answer.
    """

    def __init__(self, urgent_screen: UrgentScreen, settings: PolicySettings = PolicySettings(),
                 smalltalk: Smalltalk | None = None, smalltalk_model: SmalltalkModel | None = None):
        self.urgent_screen = urgent_screen
        self.settings = settings
        self.smalltalk = smalltalk if smalltalk is not None else Smalltalk()
        self.smalltalk_model = smalltalk_model

    def respond(self, message: str, index: PassageIndex, top_k: int = 3) -> Answer:
        """The reply to `message`, retrieving from `index` when needed."""
        urgent = self.urgent_screen.check(message)
        if urgent is not None:
            return Answer(ReplyKind.URGENT, urgent_reply(urgent, self.settings.urgent_replies))
        smalltalk = self.smalltalk.classify(message)
        if smalltalk is not None:
            return self._smalltalk_answer(smalltalk)
        hits = index.search(message, max(top_k, CANDIDATE_POOL), highlight=top_k)
        passages = tuple(_answer_passage(h) for h in hits[:top_k])
        confidence = float(index.answer_probability(message, hits)) if hits else None
        if confidence is not None and confidence < self.settings.threshold:
            confidence = max(confidence, _asking_sentence_confidence(message, hits, index, top_k))
        answering = confidence is not None and confidence >= self.settings.threshold
        if self.smalltalk_model is not None and (not answering or confidence < UNSURE_ANSWER):
            learned = self.smalltalk_model.classify(self.smalltalk, message)
            if learned is not None:
                return self._smalltalk_answer(learned)
        if not answering:
            return Answer(ReplyKind.NO_ANSWER, self._no_answer_reply(bool(passages)), passages,
                          self._suggestions(hits, skip_first=False), confidence)
        return Answer(ReplyKind.ANSWER, self._answer_reply(passages[0]), passages, self._suggestions(hits),
                      confidence)

    def _smalltalk_answer(self, match: SmalltalkMatch) -> Answer:
        return Answer(ReplyKind.SMALLTALK, self.smalltalk.reply(match, self.settings.clinic_name or None,
                                                                self.settings.contact_text))

    def _answer_reply(self, best: AnswerPassage) -> str:
        text = best.text if word_count(best.highlight) < SHORT_HIGHLIGHT_WORDS else best.highlight
        return f"{text}\n\n{source_line(best.source)}\n\n{self.settings.notice}"

    def _no_answer_reply(self, has_candidates: bool) -> str:
        parts = [self.settings.no_answer_text, self.settings.contact_text]
        if has_candidates:
            parts.append("Some passages that may be related are listed below.")
        return " ".join(part for part in parts if part)

    def _suggestions(self, hits: list[Hit], skip_first: bool = True) -> tuple[str, ...]:
        """Other topics close in score to the best one: "Did you mean ...?" chips."""
        if not hits:
            return ()
        best = hits[0]
        floor = best.score * self.settings.suggestion_margin
        seen = {_topic(best.passage)} if skip_first else set()
        suggestions: list[str] = []
        for hit in hits[1:] if skip_first else hits:
            if hit.score < floor or len(suggestions) == MAX_SUGGESTIONS:
                break
            topic = _topic(hit.passage)
            if topic and topic not in seen:
                seen.add(topic)
                suggestions.append(topic)
        return tuple(suggestions)


def source_line(source: Source) -> str:
    """'Source: Title (Publisher)', the attribution under every answer."""
    by = f" ({source.publisher})" if source.publisher else ""
    return f"Source: {source.title}{by}"


def _answer_passage(hit: Hit) -> AnswerPassage:
    passage = hit.passage
    start, end = hit.highlight or (0, len(passage.text))
    return AnswerPassage(passage.id, passage.text, squash_spaces(passage.text[start:end]), hit.score,
                         passage.question, passage.source)


def _asking_sentence_confidence(message: str, hits: list[Hit], index: PassageIndex, top_k: int) -> float:
    """The confidence of the message's asking sentence alone, when it finds the same best passage;
    0 otherwise.

    Visitors wrap a question in context ("Hello dear, my grandson set this up
    for me. How long do they leave the pins in? I have a bus to catch."), and
    the words no document uses count against the whole message's confidence.
    When the question read alone leads to the passage the whole message ranks
    first, the two readings agree on the answer and the surer one counts. The
    passages shown stay the whole message's: its context often decides the
    ranking ("20 weeks pregnant. Is it safe?"). Measured on the fresh sets in
    README "Quality".
    """
    sentence = asking_sentence(message)
    if sentence is None:
        return 0.0
    own = index.search(sentence, max(top_k, CANDIDATE_POOL))
    if not own or own[0].passage.id != hits[0].passage.id:
        return 0.0
    return float(index.answer_probability(sentence, own))


def _topic(passage) -> str | None:
    """What a passage is about, worded as something a visitor can click and ask."""
    return passage.question or passage.section
