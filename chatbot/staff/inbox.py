"""The inbox of questions to review: what visitors asked that the bot could not answer, grouped
by meaning, and the staff actions that teach the bot (issue 11).

What goes in: retrieval exchanges (never urgent or smalltalk ones) that got
"I don't know", an answer less sure than CHATBOT_INBOX_LOW_CONFIDENCE, or
"not helpful" as the visitor's last word, and that staff have not handled yet.
Their redacted wordings are grouped by grouping.py.

An action takes the message ids staff saw, so it applies to exactly that
group even if new questions arrived since; ids that are unknown or handled
already are ignored. Each action records one decision per message
(inbox_decisions, no text: purging the chat log takes them along), is
audited, and the teaching ones add the wordings as check questions, so the
safety gate keeps what staff taught:

- answer_with_entry: the wordings become a staff FAQ entry's alternates;
- answer_with_passage: they become "questions this passage answers", the
  passage's question field in the next build (knowledge.py, build_job.py);
- not_ours: they become questions no passage answers (the `[no passage]` list of
  questions.txt, passages/questions_file.py) and check questions expecting "I don't know";
- dismiss: the questions simply leave the inbox.

To write a new answer, staff get `draft_answer`'s wordings in the FAQ form;
once the entry is saved, answer_with_entry with its id closes the group.

Retention: decisions hold no text and go with their exchanges. The wordings
staff teach become knowledge, like any FAQ alternate or check question staff
write: they stay until staff remove them (knowledge.forget_taught_questions).
"""
from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from ..answer.kinds import ReplyKind
from ..index import Hit
from ..passages.model import Passage
from ..passages.questions_file import NO_PASSAGE
from ..storage import Storage
from ..storage.tables import ExchangeRow, FeedbackRow
from ..text import squash_spaces
from .audit import AuditLog
from .checks import VersionBot
from .grouping import group_questions
from .knowledge import KnowledgeStore
from .model import checked_id, checked_name, transaction, utc_now
from .pages import FAQ_DOC_ID
from .tables import InboxDecisionRow

NO_ANSWER, LOW_CONFIDENCE, NOT_HELPFUL = "no_answer", "low_confidence", "not_helpful"
ANSWERED, NOT_OURS, DISMISSED = "answered", "not_ours", "dismissed"
MAX_EXAMPLES = 5
MAX_CLOSEST = 5
MAX_COMMENTS = 10
MAX_WORDINGS_TAUGHT = 20   # wordings one action adds to an entry or passage (the most frequent)
MAX_CHECKS_ADDED = 10      # check questions one action adds: enough to guard it, not to swamp the gate
MAX_GROUPED = 1500         # the newest open questions grouped at once: about a second of clustering
RECENCY_HALF_LIFE_DAYS = 7.0  # a group last seen a week ago weighs half as much as one seen now
PHRASE_WORDS = 12          # the opening words of a passage that a check question expects to see
_RETRIEVAL_KINDS = (ReplyKind.ANSWER.value, ReplyKind.NO_ANSWER.value)


@dataclass(frozen=True)
class Candidate:
    """A passage or FAQ entry that may answer a group."""
    passage_id: str
    title: str                # source title (FAQ: the entry's question)
    text: str
    faq_id: int | None        # the staff FAQ entry id when the passage comes from one, else None
    score: float


@dataclass(frozen=True)
class ReviewGroup:
    """Visitor questions that ask the same thing, as staff review them."""
    key: str                          # stable: a hash of its sorted message ids
    message_ids: tuple[str, ...]
    size: int
    first_seen: datetime
    last_seen: datetime
    examples: tuple[str, ...]         # up to 5 redacted wordings, most frequent first
    comments: tuple[str, ...]         # visitors' "not helpful" comments (redacted)
    reasons: tuple[str, ...]          # why its questions are here: "no_answer", "low_confidence", "not_helpful"
    reply_kind: str | None            # what the published version replies to the first example (None if no bot given)
    closest: tuple[Candidate, ...]    # up to 5, from the published version (empty if no bot given)


@dataclass(frozen=True)
class _Question:
    """One open visitor question of the inbox."""
    message_id: str
    text: str
    created_at: datetime
    reasons: tuple[str, ...]
    comments: tuple[str, ...]


class Inbox:
    """The questions to review in `storage`'s chat log, and the actions on them.

    `published` returns the version visitors get (or None), for the actions
    that need a passage of it when the caller gives no bot. Methods raise
    ValueError for bad input, StorageError when the database fails.
    """

    def __init__(self, storage: Storage, knowledge: KnowledgeStore, audit: AuditLog, settings,
                 published: Callable[[], VersionBot | None] | None = None):
        self.storage = storage
        self.knowledge = knowledge
        self.audit = audit
        self.low_confidence = float(settings["CHATBOT_INBOX_LOW_CONFIDENCE"])
        self._published = published or (lambda: None)

    # -- reading -------------------------------------------------------------------------
    def groups(self, bot: VersionBot | None = None, limit: int = 50,
               since: datetime | None = None) -> list[ReviewGroup]:
        """The open groups, most important first (size x recency), at most `limit`.

        Only the newest MAX_GROUPED open questions (since `since`, if given) are grouped.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be an integer of at least 0, not {limit!r}")
        if since is not None and (not isinstance(since, datetime) or since.tzinfo is None):
            raise ValueError("since must be a timezone-aware datetime")
        questions = self._open_questions(since=since)
        clusters = group_questions([q.text for q in questions])
        now = utc_now()
        groups = [_review_group([questions[i] for i in cluster]) for cluster in clusters]
        groups.sort(key=lambda g: (-_weight(g, now), g.key))
        return [self._with_bot(group, bot) for group in groups[:limit]]

    def group(self, message_ids: Sequence[str], bot: VersionBot | None = None) -> ReviewGroup | None:
        """The group of the open questions among `message_ids` (as one group), or None when none is open."""
        questions = self._open_questions(ids=_checked_ids(message_ids))
        return self._with_bot(_review_group(questions), bot) if questions else None

    def search(self, query: str, bot: VersionBot, limit: int = 10) -> list[Candidate]:
        """Passages and FAQ entries of `bot`'s version that match `query`, best first (for
        "This is answered by...")."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("type some words to search for")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ValueError(f"limit must be an integer from 1 to 100, not {limit!r}")
        return self._candidates(bot.index.search(query, limit))

    # -- actions -------------------------------------------------------------------------
    def answer_with_entry(self, message_ids: Sequence[str], faq_id: int, actor: str) -> int:
        """The wordings become alternates of staff FAQ entry `faq_id`; how many were added.

        ValueError for an unknown entry. The wordings also become check questions
        expecting an answer that shows this entry (up to MAX_CHECKS_ADDED).
        """
        ids, actor = _checked_ids(message_ids), checked_name(actor, "actor")
        entry = self.knowledge.get_faq(checked_id(faq_id, "an FAQ entry id"))
        if entry is None:
            raise ValueError(f"there is no FAQ entry {faq_id}")
        questions = self._open_questions(ids=ids)
        if not questions:
            return 0
        new = _new_wordings(questions, (entry.question, *entry.alternates))
        if new:
            self.knowledge.update_faq(entry.id, question=entry.question, answer=entry.answer,
                                      alternates=(*entry.alternates, *new), source_title=entry.source_title,
                                      source_url=entry.source_url, editor=actor)
        # Every wording, not only the new ones: an entry just written from draft_answer holds them already.
        checks = self._add_checks(_wordings(questions), ReplyKind.ANSWER.value, (entry.question,), actor)
        self._decide(questions, ANSWERED, f"faq:{entry.id}", actor)
        self.audit.record(actor, "inbox.answer_with_entry",
                          {"faq_id": entry.id, "questions": len(questions), "wordings_added": len(new),
                           "check_questions_added": checks})
        return len(new)

    def answer_with_passage(self, message_ids: Sequence[str], passage_id: str, actor: str,
                            bot: VersionBot | None = None) -> int:
        """The wordings become "questions this passage answers" of `passage_id` (a passage of
        `bot`'s version, by default the published one); how many were added.

        The next build uses them as the passage's question field. ValueError for a
        passage the version does not have. The wordings also become check questions
        expecting an answer that shows this passage (up to MAX_CHECKS_ADDED).
        """
        ids, actor = _checked_ids(message_ids), checked_name(actor, "actor")
        passage = self._passage(passage_id, bot)
        questions = self._open_questions(ids=ids)
        if not questions:
            return 0
        known = self.knowledge.taught_questions().get(passage.id, ())
        new = _new_wordings(questions, (passage.question or "", *passage.alternates, *known))
        self.knowledge.add_taught_questions(passage.id, new, actor)
        checks = self._add_checks(_wordings(questions), ReplyKind.ANSWER.value, (_opening(passage),), actor)
        self._decide(questions, ANSWERED, passage.id, actor)
        self.audit.record(actor, "inbox.answer_with_passage",
                          {"passage_id": passage.id, "questions": len(questions), "wordings_added": len(new),
                           "check_questions_added": checks})
        return len(new)

    def draft_answer(self, message_ids: Sequence[str]) -> dict:
        """{"question": the most frequent wording, "alternates": the others} for the FAQ form
        ("" and [] when no question is open)."""
        wordings = _wordings(self._open_questions(ids=_checked_ids(message_ids)))[:MAX_WORDINGS_TAUGHT + 1]
        return {"question": wordings[0] if wordings else "", "alternates": wordings[1:]}

    def not_ours(self, message_ids: Sequence[str], actor: str) -> int:
        """The wordings become questions no passage answers, and check questions expecting
        "I don't know"; how many check questions were added.

        The next build counts them with the `[no passage]` questions of questions.txt:
        the closer a visitor asks one of them, the readier the bot is to say it does
        not know (the confidence model's `unanswered_match`), for wordings nobody taught too.
        """
        ids, actor = _checked_ids(message_ids), checked_name(actor, "actor")
        questions = self._open_questions(ids=ids)
        if not questions:
            return 0
        new = _new_wordings(questions, self.knowledge.taught_questions().get(NO_PASSAGE, ()))
        self.knowledge.add_taught_questions(NO_PASSAGE, new, actor)
        checks = self._add_checks(_wordings(questions), ReplyKind.NO_ANSWER.value, (), actor)
        self._decide(questions, NOT_OURS, None, actor)
        self.audit.record(actor, "inbox.not_ours", {"questions": len(questions), "wordings_added": len(new),
                                                    "check_questions_added": checks})
        return checks

    def dismiss(self, message_ids: Sequence[str], actor: str) -> int:
        """Take the questions out of the inbox without teaching anything; how many."""
        ids, actor = _checked_ids(message_ids), checked_name(actor, "actor")
        questions = self._open_questions(ids=ids)
        if questions:
            self._decide(questions, DISMISSED, None, actor)
            self.audit.record(actor, "inbox.dismiss", {"questions": len(questions)})
        return len(questions)

    # -- the parts -----------------------------------------------------------------------
    def _open_questions(self, ids: Sequence[str] | None = None, since: datetime | None = None) -> list[_Question]:
        """Open questions, newest first: all of them (the newest MAX_GROUPED), or those among `ids`."""
        not_helpful = select(FeedbackRow.message_id).where(FeedbackRow.helpful.is_(False))
        query = (select(ExchangeRow.message_id, ExchangeRow.message, ExchangeRow.kind, ExchangeRow.confidence,
                        ExchangeRow.created_at)
                 .outerjoin(InboxDecisionRow, InboxDecisionRow.message_id == ExchangeRow.message_id)
                 .where(InboxDecisionRow.message_id.is_(None), ExchangeRow.kind.in_(_RETRIEVAL_KINDS)))
        if ids is not None:
            if not ids:
                return []
            query = query.where(ExchangeRow.message_id.in_(ids))
        else:
            query = query.where(or_(ExchangeRow.kind == ReplyKind.NO_ANSWER.value,
                                    and_(ExchangeRow.confidence.is_not(None),
                                         ExchangeRow.confidence < self.low_confidence),
                                    ExchangeRow.message_id.in_(not_helpful)))
        if since is not None:
            query = query.where(ExchangeRow.created_at >= since)
        query = query.order_by(ExchangeRow.created_at.desc(), ExchangeRow.id.desc()).limit(MAX_GROUPED)
        with transaction(self.storage, "reading the inbox") as session:
            rows = session.execute(query).all()
            feedback = _feedback(session, [row.message_id for row in rows])
        questions = []
        for row in rows:
            verdicts = feedback.get(row.message_id, [])
            reasons = []
            if row.kind == ReplyKind.NO_ANSWER.value:
                reasons.append(NO_ANSWER)
            elif row.confidence is not None and row.confidence < self.low_confidence:
                reasons.append(LOW_CONFIDENCE)
            if verdicts and not verdicts[-1][0]:  # the newest verdict is the visitor's last word
                reasons.append(NOT_HELPFUL)
            if reasons:
                comments = tuple(comment for helpful, comment in verdicts if not helpful and comment)
                questions.append(_Question(row.message_id, row.message, row.created_at, tuple(reasons), comments))
        return questions

    def _decide(self, questions: list[_Question], decision: str, target: str | None, actor: str) -> None:
        now = utc_now()
        with transaction(self.storage, "recording inbox decisions", write=True) as session:
            decided = set(session.scalars(select(InboxDecisionRow.message_id).where(
                InboxDecisionRow.message_id.in_([q.message_id for q in questions]))))
            session.add_all(InboxDecisionRow(message_id=q.message_id, decision=decision, target=target,
                                             actor=actor, decided_at=now)
                            for q in questions if q.message_id not in decided)

    def _add_checks(self, wordings: Sequence[str], expect: str, phrases: tuple[str, ...], actor: str) -> int:
        """Add up to MAX_CHECKS_ADDED of `wordings` as check questions (not those there already)."""
        present = {_fold(c.question) for c in self.knowledge.list_checks()}
        added = 0
        for wording in wordings:
            if added == MAX_CHECKS_ADDED:
                break
            if _fold(wording) not in present:
                self.knowledge.add_check(wording, expect, phrases, actor)
                present.add(_fold(wording))
                added += 1
        return added

    def _passage(self, passage_id: str, bot: VersionBot | None) -> Passage:
        if not isinstance(passage_id, str) or not passage_id.strip():
            raise ValueError("choose a passage")
        bot = bot if bot is not None else self._published()
        if bot is None:
            raise ValueError("no version is published yet: there is no passage to choose")
        passage = next((p for p in bot.index.passages_ if p.id == passage_id.strip()), None)
        if passage is None:
            raise ValueError(f"the published version has no passage {passage_id}")
        return passage

    def _candidates(self, hits: list[Hit]) -> list[Candidate]:
        staff_faq = {record.question: record.id for record in self.knowledge.list_faq()} if any(
            h.passage.source.doc_id == FAQ_DOC_ID for h in hits) else {}
        return [Candidate(h.passage.id, h.passage.question or h.passage.source.title, h.passage.text,
                          staff_faq.get(h.passage.question) if h.passage.source.doc_id == FAQ_DOC_ID else None,
                          round(float(h.score), 4))
                for h in hits]

    def _with_bot(self, group: ReviewGroup, bot: VersionBot | None) -> ReviewGroup:
        """The group with the published version's reply kind and closest passages."""
        if bot is None or not group.examples:
            return group
        answer = bot.responder.respond(group.examples[0], bot.index)
        closest = self._candidates(bot.index.search(group.examples[0], MAX_CLOSEST))
        return ReviewGroup(**{**group.__dict__, "reply_kind": str(answer.kind), "closest": tuple(closest)})


def _feedback(session, message_ids: list[str]) -> dict[str, list[tuple[bool, str | None]]]:
    """Each message's verdicts, oldest first: [(helpful, comment), ...]."""
    verdicts: dict[str, list[tuple[bool, str | None]]] = {}
    for start in range(0, len(message_ids), 500):  # bounded IN lists
        query = (select(FeedbackRow.message_id, FeedbackRow.helpful, FeedbackRow.comment)
                 .where(FeedbackRow.message_id.in_(message_ids[start:start + 500]))
                 .order_by(FeedbackRow.created_at, FeedbackRow.id))
        for message_id, helpful, comment in session.execute(query):
            verdicts.setdefault(message_id, []).append((helpful, comment))
    return verdicts


def _review_group(questions: list[_Question]) -> ReviewGroup:
    ids = tuple(sorted(q.message_id for q in questions))
    times = [q.created_at for q in questions]
    reasons = {reason for q in questions for reason in q.reasons}
    comments = tuple(dict.fromkeys(c for q in questions for c in q.comments))[:MAX_COMMENTS]
    return ReviewGroup(key=hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16], message_ids=ids,
                       size=len(ids), first_seen=min(times), last_seen=max(times),
                       examples=tuple(_wordings(questions)[:MAX_EXAMPLES]), comments=comments,
                       reasons=tuple(r for r in (NO_ANSWER, LOW_CONFIDENCE, NOT_HELPFUL) if r in reasons),
                       reply_kind=None, closest=())


def _weight(group: ReviewGroup, now: datetime) -> float:
    """Size x recency: each question counts half as much per RECENCY_HALF_LIFE_DAYS since the group was last seen."""
    age_days = max((now - group.last_seen).total_seconds(), 0.0) / 86400
    return group.size * math.pow(0.5, age_days / RECENCY_HALF_LIFE_DAYS)


def _fold(text: str) -> str:
    return squash_spaces(text).casefold()


def _wordings(questions: list[_Question]) -> list[str]:
    """The distinct wordings (case and spacing aside), most frequent first, then newest first."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for question in questions:  # newest first
        wording = squash_spaces(question.text)
        if wording:
            counts[_fold(wording)] += 1
            first.setdefault(_fold(wording), wording)
    order = {folded: position for position, folded in enumerate(first)}
    return [first[folded] for folded in sorted(counts, key=lambda f: (-counts[f], order[f]))]


def _new_wordings(questions: list[_Question], known: Sequence[str]) -> list[str]:
    """The group's wordings not among `known`, the most frequent MAX_WORDINGS_TAUGHT."""
    present = {_fold(k) for k in known if k}
    return [w for w in _wordings(questions) if _fold(w) not in present][:MAX_WORDINGS_TAUGHT]


def _opening(passage: Passage) -> str:
    """The passage's first words: a phrase the check questions expect in the passage shown."""
    return " ".join(passage.text.split()[:PHRASE_WORDS])


def _checked_ids(message_ids) -> list[str]:
    """The message ids, deduplicated; ValueError when they are not a list of texts."""
    if isinstance(message_ids, str) or not isinstance(message_ids, Sequence | set | frozenset | tuple):
        raise ValueError("message_ids must be a list of message ids")
    if not all(isinstance(m, str) for m in message_ids):
        raise ValueError("message_ids must be a list of message ids")
    return list(dict.fromkeys(m.strip() for m in message_ids if m.strip()))[:MAX_GROUPED]
