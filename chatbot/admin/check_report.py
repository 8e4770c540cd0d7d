"""A build's report and its check-question figures, worded for staff (the version page)."""
from __future__ import annotations

from ..answer.kinds import ReplyKind

REPORT_FIGURES = (("documents", "Documents"), ("passages", "Passages"),
                  ("duplicates_dropped", "Duplicate passages dropped"), ("vocabulary", "Vocabulary (terms)"),
                  ("synonym_rules", "Synonym rules"), ("files_with_errors", "Files with problems"),
                  ("seconds", "Build time (seconds)"))
# In staff's words: "right answer" is the passage or FAQ entry a check question expects.
RETRIEVAL_FIGURES = (("hit@1", "Right answer shown first"),
                     ("hit@3", "Right answer among the first three"),
                     ("mrr", "How high the right answer ranks (1.000: always first, 0.500: second on average)"))
# In the order staff read them: answers, then what the bot must decline or escalate.
KIND_LABELS = {ReplyKind.ANSWER: "Answerable questions that get an answer",
               ReplyKind.NO_ANSWER: "Out-of-scope questions declined (“I don't know”)",
               ReplyKind.URGENT: "Urgent questions sent to urgent care",
               ReplyKind.SMALLTALK: "Small talk recognised as small talk"}


def report_rows(report: dict) -> list[tuple[str, object]]:
    """(label, value) of the build report's counts, in reading order."""
    return [(label, report.get(key)) for key, label in REPORT_FIGURES if key in report]


def evaluation_rows(evaluation: dict) -> list[tuple[str, str, str]]:
    """(figure, candidate, published) rows of a build's evaluation, formatted for reading."""
    candidate, published = evaluation.get("candidate") or {}, evaluation.get("published") or {}
    if not candidate:
        return []
    rows = [(label, _figure(candidate.get(key)), _figure(published.get(key))) for key, label in RETRIEVAL_FIGURES]
    kinds, kinds_before = candidate.get("kinds") or {}, published.get("kinds") or {}
    for kind in [k for k in KIND_LABELS if k in kinds] + sorted(k for k in kinds if k not in KIND_LABELS):
        label = KIND_LABELS.get(kind, f"Questions expecting {kind}: right kind of reply")
        rows.append((label, _share(kinds[kind]), _share(kinds_before.get(kind))))
    rows.append(("Check questions", str(candidate.get("questions", "—")), str(published.get("questions", "—"))))
    return rows


def _figure(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _share(counts: dict | None) -> str:
    """"31 of 33 (0.94)": how many check questions of one kind got the right kind of reply."""
    if not counts or "correct" not in counts or "questions" not in counts:
        return "—"
    rate = counts.get("rate")
    return f"{counts['correct']} of {counts['questions']}" + ("" if rate is None else f" ({rate:.2f})")
