"""Check questions: how a candidate index answers them, against the published one."""
from __future__ import annotations

from pathlib import Path

from ..answer.policy import Responder
from ..evaluate import EvalQuestion, evaluate_kinds, evaluate_retrieval, passage_matches, read_eval_file
from ..index import PassageIndex


def check_questions(check_file: str | Path | None, extra: list) -> list[EvalQuestion]:
    """The questions of the check file (if any) plus staff's own (CheckQuestion records)."""
    questions = read_eval_file(check_file) if check_file and Path(check_file).is_file() else []
    questions += [EvalQuestion(f"staff-{c.id}", c.question, c.expect, tuple(c.phrases)) for c in extra]
    return questions


def figures(responder: Responder, index: PassageIndex, questions: list[EvalQuestion]) -> dict:
    """hit@1, hit@3, MRR and the share of each reply kind right, for one index."""
    retrieval = evaluate_retrieval(index, questions)
    kinds = evaluate_kinds(lambda q: responder.respond(q, index).kind, questions)
    return {"questions": len(questions), "hit@1": round(retrieval.hit_at_1, 4),
            "hit@3": round(retrieval.hit_at_3, 4), "mrr": round(retrieval.mrr, 4),
            "kinds": {k: {"questions": v["questions"], "correct": v["correct"], "rate": round(v["rate"], 4)}
                      for k, v in kinds.items()}}


def _reply(responder: Responder, index: PassageIndex, question: EvalQuestion) -> dict:
    answer = responder.respond(question.question, index)
    best = answer.passages[0] if answer.passages else None
    return {"kind": answer.kind, "passage": best.id if best else None,
            "text": best.text[:200] if best else None, "score": round(best.score, 4) if best else None,
            "correct": bool(best and question.phrases and passage_matches(best, question.phrases))}


def compare(responder: Responder, candidate: PassageIndex, published: PassageIndex | None,
            questions: list[EvalQuestion]) -> tuple[dict, list]:
    """(evaluation, changes) of a candidate against the published index.

    `changes` lists the check questions whose reply changed kind or best passage.
    `urgent_missed` lists the urgent check questions the candidate does not
    send to urgent care.
    """
    evaluation = {"candidate": figures(responder, candidate, questions),
                  "published": figures(responder, published, questions) if published is not None else None}
    changes = []
    urgent_missed = []
    for question in questions:
        after = _reply(responder, candidate, question)
        # Urgent rules live in corpus/urgent.txt, not in the index, so "no longer
        # flagged" is judged against what the check question expects.
        if question.expect == "urgent" and after["kind"] != "urgent":
            urgent_missed.append(question.question)
        if published is None:
            continue
        before = _reply(responder, published, question)
        if (before["kind"], before["passage"]) != (after["kind"], after["passage"]):
            changes.append({"question": question.question, "expect": question.expect,
                            "before": before, "after": after})
    evaluation["urgent_missed"] = urgent_missed
    return evaluation, changes


def gate_reasons(evaluation: dict, max_hit3_drop: float) -> list[str]:
    """Why a candidate may not be published without an override ([] = it may)."""
    reasons = [f"The urgent question {q!r} is no longer sent to urgent care." for q in evaluation.get("urgent_missed", [])]
    candidate, published = evaluation.get("candidate") or {}, evaluation.get("published")
    if published and candidate:
        drop = published["hit@3"] - candidate["hit@3"]
        if drop > max_hit3_drop:
            reasons.append(f"Answer hit@3 on the check questions drops from {published['hit@3']:.2f} to "
                           f"{candidate['hit@3']:.2f} (more than {max_hit3_drop:.2f}).")
    return reasons
