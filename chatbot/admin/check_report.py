"""A build's report and its check-question figures, worded for staff (the version page)."""
from __future__ import annotations

REPORT_FIGURES = (("documents", "Documents"), ("passages", "Passages"),
                  ("duplicates_dropped", "Duplicate passages dropped"), ("vocabulary", "Vocabulary (terms)"),
                  ("synonym_rules", "Synonym rules"), ("files_with_errors", "Files with problems"),
                  ("seconds", "Build time (seconds)"))
RETRIEVAL_FIGURES = (("hit@1", "Right passage first (hit@1)"), ("hit@3", "Right passage in the top 3 (hit@3)"),
                     ("mrr", "Mean reciprocal rank"))
KIND_LABELS = {"answer": "Answers", "no_answer": "“I don't know”", "urgent": "Urgent", "smalltalk": "Small talk"}


def report_rows(report: dict) -> list[tuple[str, object]]:
    """(label, value) of the build report's counts, in reading order."""
    return [(label, report.get(key)) for key, label in REPORT_FIGURES if key in report]


def evaluation_rows(evaluation: dict) -> list[tuple[str, str, str]]:
    """(figure, candidate, published) rows of a build's evaluation, formatted for reading."""
    candidate, published = evaluation.get("candidate") or {}, evaluation.get("published") or {}
    if not candidate:
        return []
    rows = [(label, _figure(candidate.get(key)), _figure(published.get(key))) for key, label in RETRIEVAL_FIGURES]
    for kind, counts in (candidate.get("kinds") or {}).items():
        before = (published.get("kinds") or {}).get(kind)
        rows.append((f"{KIND_LABELS.get(kind, kind)}: right kind of reply", _share(counts), _share(before)))
    rows.append(("Check questions", str(candidate.get("questions", "—")), str(published.get("questions", "—"))))
    return rows


def _figure(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _share(counts: dict | None) -> str:
    if not counts:
        return "—"
    return f"{counts['correct']} of {counts['questions']}"
