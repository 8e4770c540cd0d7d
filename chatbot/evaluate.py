"""Measure retrieval quality.

    python -m chatbot.evaluate FILE [--corpus DIR | --index DIR]
        FILE is JSON Lines like ../shared/eval/dev.jsonl: {"q", "expect", "phrases"}.
        Prints hit@1, hit@3 and MRR@10 over answerable questions, and the misses.

Every suite with the baselines beside it: `make eval` (chatbot/evaluation).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .text import normalize_text

K_MRR = 10


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    expect: str
    phrases: tuple[str, ...] = ()


@dataclass
class RetrievalReport:
    """Ranking figures over the answerable questions of an evaluation file."""
    questions: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    mrr: float = 0.0
    misses: list = field(default_factory=list)  # (question, rank or None, top texts)


def read_eval_file(path: str | Path) -> list[EvalQuestion]:
    """Questions of a JSON Lines evaluation file; raises ValueError naming the bad line."""
    questions = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                questions.append(EvalQuestion(str(item.get("id", number)), item["q"], item["expect"],
                                              tuple(item.get("phrases") or ())))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not an evaluation record ({exc})") from None
    return questions


def _plain(text: str) -> str:
    return " ".join(normalize_text(text).lower().split())


def passage_matches(passage, phrases: tuple[str, ...]) -> bool:
    """True when the passage's text (or FAQ question) contains any expected phrase."""
    haystack = _plain(f"{passage.question or ''} {passage.text}")
    return any(_plain(p) in haystack for p in phrases)


def evaluate_retrieval(index, questions: list[EvalQuestion], k: int = K_MRR) -> RetrievalReport:
    """hit@1, hit@3 and MRR@k of `index` over the questions that expect an answer."""
    answerable = [q for q in questions if q.expect == "answer" and q.phrases]
    report = RetrievalReport(questions=len(answerable))
    for q in answerable:
        hits = index.search(q.question, k)
        rank = next((i for i, h in enumerate(hits, start=1) if passage_matches(h.passage, q.phrases)), None)
        report.hit_at_1 += rank == 1
        report.hit_at_3 += rank is not None and rank <= 3
        report.mrr += 1.0 / rank if rank else 0.0
        if rank != 1:
            report.misses.append((q, rank, [(h.score, h.passage.text) for h in hits[:3]]))
    if answerable:
        report.hit_at_1 /= len(answerable)
        report.hit_at_3 /= len(answerable)
        report.mrr /= len(answerable)
    return report


def print_retrieval_report(report: RetrievalReport, out=sys.stdout) -> None:
    print(f"answerable questions: {report.questions}", file=out)
    print(f"hit@1  {report.hit_at_1:.3f}\nhit@3  {report.hit_at_3:.3f}\nMRR@10 {report.mrr:.3f}", file=out)
    if report.misses:
        print(f"\nnot ranked first ({len(report.misses)}):", file=out)
    for q, rank, top in report.misses:
        print(f"- [{q.id}] {q.question}  (correct passage at rank {rank or '>10'})", file=out)
        for score, text in top:
            print(f"    {score:.3f}  {text[:110]!r}", file=out)


# -- reply kinds -----------------------------------------------------------------

def evaluate_kinds(respond, questions: list[EvalQuestion]) -> dict:
    """Share of questions of each expected kind that got that kind of reply.

    `respond(question) -> kind`. Returns {expected kind: {"questions", "correct",
    "rate", "wrong": [(question, got)]}}.
    """
    figures: dict[str, dict] = {}
    for q in questions:
        got = respond(q.question)
        row = figures.setdefault(q.expect, {"questions": 0, "correct": 0, "wrong": []})
        row["questions"] += 1
        if got == q.expect:
            row["correct"] += 1
        else:
            row["wrong"].append((q.question, got))
    for row in figures.values():
        row["rate"] = row["correct"] / row["questions"]
    return figures


def print_kind_report(figures: dict, out=sys.stdout) -> None:
    print("\nreply kinds (expected -> share right):", file=out)
    for kind, row in sorted(figures.items()):
        print(f"  {kind:10s} {row['correct']:3d}/{row['questions']:<3d} {row['rate']:.3f}", file=out)
        for question, got in row["wrong"]:
            print(f"      got {got}: {question}", file=out)


def corpus_responder(corpus_dir: str | Path, settings=None):
    """The responder with the corpus folder's own urgent and smalltalk rules, and `settings`
    (default: the built-in defaults, so that figures do not depend on one clinic's config)."""
    from .answer.version_rules import load_responder
    from .settings import default_settings
    return load_responder(corpus_dir, settings if settings is not None else default_settings())[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="evaluation file (JSON Lines: q, expect, phrases)")
    parser.add_argument("--instance", type=Path, default=Path("instance"),
                        help="instance folder whose settings (threshold, corpus) apply (default: instance)")
    parser.add_argument("--corpus", help="corpus folder to build from (default: the setting, corpus/)")
    parser.add_argument("--index", help="evaluate a saved index folder instead of building one")
    args = parser.parse_args(argv)
    from .build import build_index, load_index_dir
    from .settings import SettingsError, resolve_settings
    try:
        settings = resolve_settings(args.instance)
        if args.corpus:
            settings = settings.replace(CHATBOT_CORPUS_DIR=args.corpus)
        index = load_index_dir(args.index) if args.index else build_index(settings.corpus_dir).index
        questions = read_eval_file(args.file)
        print_retrieval_report(evaluate_retrieval(index, questions))
        responder = corpus_responder(settings.corpus_dir, settings)
        print_kind_report(evaluate_kinds(lambda q: responder.respond(q, index).kind, questions))
    except (OSError, ValueError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
