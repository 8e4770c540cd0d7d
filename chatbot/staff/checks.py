"""Check questions: how a candidate version answers them, against the published one, and the
safety gate that judges the difference.

The evaluation a build stores is
`{"candidate": figures, "published": figures or None, "urgent_missed": [question, ...]}`,
where figures are hit@1, hit@3, MRR and, per expected reply kind, how many check
questions got that kind (`kinds`). Records stored before the gate judged more than
hit@3 have the same shape; whatever a record lacks is simply not judged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from ..answer.kinds import ReplyKind
from ..answer.policy import Responder
from ..answer.version_rules import load_responder
from ..evaluate import EvalQuestion, evaluate_kinds, evaluate_retrieval, passage_matches, read_eval_file
from ..index import PassageIndex
from ..index.store import IndexStore
from .versions import VersionRegistry, fetch_version

# Float noise must not turn a drop of exactly the margin into a block.
_TOLERANCE = 1e-9


class VersionBot(NamedTuple):
    """What visitors get from one index version: its responder (with that version's urgent and
    smalltalk rules) and its index."""
    responder: Responder
    index: PassageIndex


def version_bot(registry: VersionRegistry, store: IndexStore, settings: Mapping[str, Any],
                version: str) -> VersionBot:
    """The responder (that version's rules, `settings`) and index of `version`, fetched from
    the database when not on this server; IndexLoadError or OSError when it cannot be had."""
    folder = fetch_version(registry, store, version)
    responder, _ = load_responder(folder, settings, fallback_dir=settings["CHATBOT_CORPUS_DIR"])
    return VersionBot(responder, store.load(version)[0])


@dataclass(frozen=True)
class GateMargins:
    """The largest drop (a share, 0-1) of each check-question figure a candidate may show
    before publishing it needs a written override."""
    hit1: float
    hit3: float
    answered: float
    no_answer: float

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "GateMargins":
        """The margins of resolved settings (or an app's config): CHATBOT_GATE_MAX_*_DROP."""
        return cls(hit1=float(settings["CHATBOT_GATE_MAX_HIT1_DROP"]),
                   hit3=float(settings["CHATBOT_GATE_MAX_HIT3_DROP"]),
                   answered=float(settings["CHATBOT_GATE_MAX_ANSWERED_DROP"]),
                   no_answer=float(settings["CHATBOT_GATE_MAX_NO_ANSWER_DROP"]))


def check_questions(check_file: str | Path | None, extra: list) -> list[EvalQuestion]:
    """The questions of the check file (if any) plus staff's own (CheckQuestion records)."""
    questions = read_eval_file(check_file) if check_file and Path(check_file).is_file() else []
    questions += [EvalQuestion(f"staff-{c.id}", c.question, c.expect, tuple(c.phrases)) for c in extra]
    return questions


# -- measuring -----------------------------------------------------------------------------

def _reply(bot: VersionBot, question: EvalQuestion) -> dict:
    """The kind of reply and the passage shown first, as stored with a build's changes."""
    answer = bot.responder.respond(question.question, bot.index)
    best = answer.passages[0] if answer.passages else None
    return {"kind": str(answer.kind), "passage": best.id if best else None,
            "text": best.text[:200] if best else None, "score": round(best.score, 4) if best else None,
            "correct": bool(best and question.phrases and passage_matches(best, question.phrases))}


def _replies(bot: VersionBot, questions: list[EvalQuestion]) -> dict[str, dict]:
    """Each distinct question's reply from `bot`, asked once."""
    replies: dict[str, dict] = {}
    for question in questions:
        if question.question not in replies:
            replies[question.question] = _reply(bot, question)
    return replies


def figures(bot: VersionBot, questions: list[EvalQuestion], replies: dict[str, dict] | None = None) -> dict:
    """hit@1, hit@3, MRR and, per expected reply kind, how many got it, for one version.

    `kinds["answer"]` is the share of answerable questions answered, `kinds["no_answer"]`
    the share of out-of-scope questions declined, `kinds["urgent"]` urgent recall.
    """
    replies = replies if replies is not None else _replies(bot, questions)
    retrieval = evaluate_retrieval(bot.index, questions)
    kinds = evaluate_kinds(lambda text: replies[text]["kind"], questions)
    return {"questions": len(questions), "hit@1": round(retrieval.hit_at_1, 4),
            "hit@3": round(retrieval.hit_at_3, 4), "mrr": round(retrieval.mrr, 4),
            "kinds": {k: {"questions": v["questions"], "correct": v["correct"], "rate": round(v["rate"], 4)}
                      for k, v in kinds.items()}}


def compare(candidate: VersionBot, published: VersionBot | None,
            questions: list[EvalQuestion]) -> tuple[dict, list]:
    """(evaluation, changes) of a candidate version against the published one.

    Each side answers with its own responder, so a change of urgent or smalltalk
    rules counts like a change of the index. `changes` lists the check questions
    whose reply changed kind or first passage; those that got worse come first,
    with `"worse": True` and `"why"`, a list of plain sentences. `urgent_missed`
    lists the urgent check questions the candidate does not send to urgent care,
    whatever the published version does.
    """
    after = _replies(candidate, questions)
    before = _replies(published, questions) if published is not None else None
    evaluation = {"candidate": figures(candidate, questions, after),
                  "published": figures(published, questions, before) if published is not None else None,
                  "urgent_missed": [q.question for q in questions
                                    if q.expect == ReplyKind.URGENT and after[q.question]["kind"] != ReplyKind.URGENT]}
    changes = []
    for question in questions if before is not None else ():
        old, new = before[question.question], after[question.question]
        if (old["kind"], old["passage"]) != (new["kind"], new["passage"]):
            why = worse_reasons(question.expect, old, new)
            changes.append({"question": question.question, "expect": question.expect,
                            "before": old, "after": new, "worse": bool(why), "why": why})
    changes.sort(key=lambda change: not change["worse"])  # stable: check-file order within each group
    return evaluation, changes


def worse_reasons(expect: str, before: dict, after: dict) -> list[str]:
    """Why a check question's reply got worse from `before` to `after` ([] = it did not)."""
    reasons = []
    if expect == ReplyKind.ANSWER and before["kind"] == ReplyKind.ANSWER and after["kind"] == ReplyKind.NO_ANSWER:
        reasons.append("Answer → “I don't know”: it was answered; now the bot says it does not know.")
    elif expect == ReplyKind.URGENT and before["kind"] == ReplyKind.URGENT and after["kind"] != ReplyKind.URGENT:
        reasons.append("Urgent → not urgent: it was sent to urgent care; now it is not.")
    elif expect == ReplyKind.NO_ANSWER and before["kind"] == ReplyKind.NO_ANSWER and after["kind"] == ReplyKind.ANSWER:
        reasons.append("Declined → answered: it is outside what the clinic's documents cover and was declined; "
                       "now it gets an answer.")
    elif before["kind"] == expect and after["kind"] != expect:
        reasons.append(f"Right kind of reply → wrong kind: it got {_kind_words(expect)}; "
                       f"now it gets {_kind_words(after['kind'])}.")
    if before.get("correct") and not after.get("correct"):
        reasons.append("Right passage → wrong passage: the passage shown first held the expected answer; "
                       "the new one does not.")
    return reasons


_KIND_WORDS = {ReplyKind.ANSWER: "an answer", ReplyKind.NO_ANSWER: "“I don't know”",
               ReplyKind.URGENT: "the urgent-care message", ReplyKind.SMALLTALK: "a small-talk reply"}


def _kind_words(kind: str) -> str:
    return _KIND_WORDS.get(kind, kind)


# -- judging -------------------------------------------------------------------------------

# (figure, how staff read it, margin field); kind shares are read from figures["kinds"].
_JUDGED = (("hit@1", "Right passage shown first on the check questions", "hit1"),
           ("hit@3", "Right passage among the first three on the check questions", "hit3"),
           (ReplyKind.ANSWER, "Share of answerable check questions that get an answer", "answered"),
           (ReplyKind.NO_ANSWER, "Share of out-of-scope check questions the bot declines (“I don't know”)",
            "no_answer"))


def gate_reasons(evaluation: dict, margins: GateMargins) -> list[str]:
    """Why a candidate may not be published without an override ([] = it may).

    Any urgent check question the candidate misses blocks; each other figure
    blocks when it drops from the published version's by more than its margin.
    A figure missing from either side (an older record, no such check question)
    is not judged.
    """
    reasons = [f"The urgent check question “{q}” is not sent to urgent care."
               for q in evaluation.get("urgent_missed") or []]
    candidate, published = evaluation.get("candidate") or {}, evaluation.get("published") or {}
    for figure, label, margin_name in _JUDGED:
        old, new = _value(published, figure), _value(candidate, figure)
        margin = getattr(margins, margin_name)
        if old is not None and new is not None and old - new > margin + _TOLERANCE:
            allowed = f"more than {margin:.2f} allowed" if margin > 0 else "no drop allowed"
            reasons.append(f"{label} drops from {old:.2f} to {new:.2f} ({allowed}).")
    return reasons


def _value(figures: dict, figure: str) -> float | None:
    """A figure of one side: a top-level number, or the rate of a reply kind."""
    if figure in figures:
        return figures[figure]
    share = (figures.get("kinds") or {}).get(figure)
    return share.get("rate") if share else None
