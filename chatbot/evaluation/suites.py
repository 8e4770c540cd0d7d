"""Run every suite: ranking figures for ours and the baselines, reply kinds for ours.

Passage suites (dev, extra, fresh, out-of-scope) ask the product's corpus; a
passage is relevant when it holds one of the question's expected phrases.
FAQ suites (StackFAQ, CovidFAQ-dev) ask their own bank; one entry is relevant.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ..answer.kinds import ReplyKind
from ..evaluate import EvalQuestion, passage_matches, read_eval_file
from .baselines import baseline_rankers
from .faq_banks import FaqBank, build_bank_index, read_covidfaq, read_stackfaq

K = 10
OURS = "ours"
ROOT = Path(__file__).resolve().parents[2]
# Files in tests/data.
PASSAGE_SUITES = {"dev": "dev.jsonl", "extra": "extra.jsonl", "fresh": "fresh.jsonl", "fresh-2": "fresh2.jsonl",
                  "fresh-3": "fresh3.jsonl", "fresh-4": "fresh4.jsonl", "fresh-5": "fresh5.jsonl",
                  "fresh-6": "fresh6.jsonl", "fresh-7": "fresh7.jsonl", "fresh-8": "fresh8.jsonl",
                  "fresh-9": "fresh9.jsonl", "fresh-10": "fresh10.jsonl", "fresh-11": "fresh11.jsonl",
                  "fresh-12": "fresh12.jsonl", "fresh-13": "fresh13.jsonl",
                  "fresh-14": "fresh14.jsonl", "fresh-15": "fresh15.jsonl",
                  "out-of-scope": "out_of_scope.jsonl"}
FAQ_SUITES = {"StackFAQ": ("stackfaq.json", read_stackfaq), "CovidFAQ-dev": ("covidfaq-dev.json", read_covidfaq)}


@dataclass
class SuiteResult:
    """Ranking figures per system ({system: {metric: value}}) and our reply kinds."""
    name: str
    queries: int
    ranking: dict[str, dict[str, float]] = field(default_factory=dict)
    kinds: dict[str, dict] = field(default_factory=dict)
    ranks: list[int | None] = field(default_factory=list)  # ours, per answerable query (for k-fold)


def rank_metrics(ranks: list[int | None]) -> dict[str, float]:
    """hit@1, hit@3, MRR@10 and nDCG@10 from the rank of each query's first relevant item."""
    n = max(len(ranks), 1)
    found = [r for r in ranks if r is not None and r <= K]
    return {"hit@1": sum(r == 1 for r in found) / n, "hit@3": sum(r <= 3 for r in found) / n,
            "mrr@10": sum(1 / r for r in found) / n, "ndcg@10": sum(1 / math.log2(r + 1) for r in found) / n}


def _first_relevant(ranking: list, relevant) -> int | None:
    return next((i for i, item in enumerate(ranking, start=1) if relevant(item)), None)


def passage_items(index) -> list[tuple[str, str]]:
    """(question field, answer field) of each passage, for the baselines."""
    return [(" ".join((p.question or p.section or "", *p.alternates)), p.text) for p in index.passages_]


def run_passage_suite(name: str, questions: list[EvalQuestion], index, responder, baselines: dict) -> SuiteResult:
    """Figures of one evaluation file against the corpus index."""
    answerable = [q for q in questions if q.expect == "answer" and q.phrases]
    result = SuiteResult(name, len(questions))
    passages = index.passages_
    if answerable:
        ours = [_first_relevant([h.passage for h in index.search(q.question, K)],
                                lambda p, q=q: passage_matches(p, q.phrases)) for q in answerable]
        result.ranking[OURS] = rank_metrics(ours)
        result.ranks = ours
        for system, rank in baselines.items():
            ranks = [_first_relevant([passages[i] for i in rank(q.question, K)],
                                     lambda p, q=q: passage_matches(p, q.phrases)) for q in answerable]
            result.ranking[system] = rank_metrics(ranks)
    result.kinds = reply_kinds(questions, lambda text: responder.respond(text, index).kind)
    return result


def reply_kinds(questions: list[EvalQuestion], kind_of) -> dict[str, dict]:
    """{expected kind: {"n", "right"}} plus {"false urgent": {"n", "right"}} (right = flagged)."""
    kinds: dict[str, dict] = {}
    false_urgent = 0
    for q in questions:
        got = kind_of(q.question)
        row = kinds.setdefault(q.expect, {"n": 0, "right": 0})
        row["n"] += 1
        row["right"] += got == q.expect
        false_urgent += got == ReplyKind.URGENT and q.expect != ReplyKind.URGENT
    kinds["false urgent"] = {"n": sum(q.expect != ReplyKind.URGENT for q in questions), "right": false_urgent}
    return kinds


def run_faq_suite(bank: FaqBank, index_params: dict | None = None, baselines: bool = True) -> SuiteResult:
    """Figures of one FAQ bank: ours (built as a clinic's CSV) and, with `baselines`, the baselines."""
    index, entry_of = build_bank_index(bank, **(index_params or {}))
    result = SuiteResult(bank.name, len(bank.queries))
    ours = [_first_relevant([entry_of.get(h.passage.id) for h in index.search(text, K)],
                            lambda e, t=target: e == t) for text, target in bank.queries]
    result.ranking[OURS] = rank_metrics(ours)
    result.ranks = ours
    for system, rank in (baseline_rankers(list(bank.entries)) if baselines else {}).items():
        ranks = [_first_relevant(rank(text, K), lambda e, t=target: e == t) for text, target in bank.queries]
        result.ranking[system] = rank_metrics(ranks)
    return result


def passage_suites(files: dict[str, Path], corpus_dir: Path, responder_for,
                   index_params: dict | None = None, baselines: bool = True) -> list[SuiteResult]:
    """Every passage suite against one index built from `corpus_dir` (baselines beside it if asked)."""
    from ..build import build_index
    index = build_index(corpus_dir, index_params=index_params).index
    responder = responder_for(corpus_dir)
    baselines = baseline_rankers(passage_items(index)) if baselines else {}
    return [run_passage_suite(name, read_eval_file(path), index, responder, baselines)
            for name, path in files.items()]
