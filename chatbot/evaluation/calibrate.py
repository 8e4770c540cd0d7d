"""Fit the answer-confidence model with cross-validation, and choose the threshold.

    python -m chatbot.evaluation.calibrate [--data DIR] [--write]

Examples: every answerable or out-of-scope question of the passage suites
(dev, extra, fresh, out-of-scope) against the corpus index, and every query of
the FAQ benchmarks against its bank. The label is 1 when a right passage is
among the SHOWN passages a reply offers, 0 when none is or the question cannot
be answered. Each suite weighs the same in the fit, however many questions it
has. The threshold is chosen on the suites that hold both answerable and
unanswerable questions, for the mean of the share of answerable questions
answered and the share of the others declined.

Leave-one-suite-out: the model and the threshold are fitted on the other
suites and judged on the left-out one; those left-out figures go in the
README. `--write` then fits on everything and saves the shipped model.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..answer.kinds import ReplyKind
from ..build import build_index
from ..evaluate import passage_matches, read_eval_file
from ..index.confidence import FEATURES, SHIPPED_MODEL, ConfidenceModel
from ..settings import BY_NAME
from .faq_banks import build_bank_index
from .suites import FAQ_SUITES, PASSAGE_SUITES, ROOT

THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)
POOL = 10
DEFAULT_THRESHOLD = BY_NAME["CHATBOT_ANSWER_THRESHOLD"].default
SHOWN = 3  # a reply shows its best passage and two more from the sources


def _example(index, question: str, relevant) -> tuple[list[float], int]:
    hits = index.search(question, POOL)
    features = index.answer_features(question, hits)
    return [features[name] for name in FEATURES], int(any(relevant(h.passage) for h in hits[:SHOWN]))


def collect(corpus_dir: Path, data_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{suite: (features, labels, answerable)} for every suite that can run."""
    suites = {}
    index = build_index(corpus_dir).index
    for name, filename in PASSAGE_SUITES.items():
        path = ROOT / "tests" / "data" / filename
        if not path.is_file():
            continue
        rows = [(_example(index, q.question,
                          lambda p, q=q: q.expect == ReplyKind.ANSWER and passage_matches(p, q.phrases)),
                 q.expect == ReplyKind.ANSWER)
                for q in read_eval_file(path) if q.expect in (ReplyKind.ANSWER, ReplyKind.NO_ANSWER)]
        suites[name] = _arrays(rows)
    for name, (filename, read) in FAQ_SUITES.items():
        if (data_dir / filename).is_file():
            bank = read(data_dir / filename)
            bank_index, entry_of = build_bank_index(bank)
            rows = [(_example(bank_index, text, lambda p, t=target, entry_of=entry_of: entry_of.get(p.id) == t), True)
                    for text, target in bank.queries]
            suites[name] = _arrays(rows)
    return suites


def _arrays(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([r[0][0] for r in rows], dtype=float), np.array([r[0][1] for r in rows]),
            np.array([r[1] for r in rows], dtype=bool))


def fit(suites: dict, names: list[str]) -> tuple[ConfidenceModel, float]:
    """(model, threshold) fitted on `names`; each suite weighs the same."""
    x = np.vstack([suites[n][0] for n in names])
    # A signal an index could not give (NaN) counts at the mean of those it gave, as the
    # model counts it when answering (confidence.py).
    x = np.where(np.isnan(x), np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0), x)
    y = np.concatenate([suites[n][1] for n in names])
    weights = np.concatenate([np.full(len(suites[n][1]), 1.0 / len(suites[n][1])) for n in names])
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales = np.where(scales > 1e-9, scales, 1.0)
    regression = LogisticRegression(C=1.0, max_iter=1000).fit((x - means) / scales, y, sample_weight=weights)
    model = ConfidenceModel(tuple(regression.coef_[0].tolist()), float(regression.intercept_[0]),
                            tuple(means.tolist()), tuple(scales.tolist()))
    mixed = [n for n in names if suites[n][2].any() and (~suites[n][2]).any()]
    threshold = max(THRESHOLDS, key=lambda t: np.mean([_balanced(model, suites[n], t) for n in mixed]))
    return model, float(threshold)


def decisions(model: ConfidenceModel, suite, threshold: float) -> dict:
    """Shares on one suite: answerable answered, right among answered, unanswerable abstained."""
    x, y, answerable = suite
    p = np.array([model.probability(dict(zip(FEATURES, row, strict=True))) for row in x])
    answer = p >= threshold
    answered_right = answer & answerable
    figures = {"answered": float(answer[answerable].mean()) if answerable.any() else None,
               "shown right when answered": float(y[answered_right].mean()) if answered_right.any() else None,
               "abstained": float((~answer[~answerable]).mean()) if (~answerable).any() else None,
               "brier": float(np.mean((p - y) ** 2))}
    return figures


def _balanced(model, suite, threshold) -> float:
    """What the threshold is chosen for: answerable questions answered, the others declined."""
    x, _, answerable = suite
    p = np.array([model.probability(dict(zip(FEATURES, row, strict=True))) for row in x])
    answer = p >= threshold
    return float(np.mean([answer[answerable].mean(), (~answer[~answerable]).mean()]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.evaluation.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--write", action="store_true", help=f"save the model fitted on every suite to {SHIPPED_MODEL}")
    parser.add_argument("--without", action="append", default=[], metavar="SUITE",
                        help="leave this suite out of every fit and judge it at the end (a set kept for judging "
                             "a change); repeatable")
    args = parser.parse_args(argv)
    suites = collect(Path(args.corpus), Path(args.data))
    unknown = [name for name in args.without if name not in suites]
    if unknown:
        parser.error(f"no suite {', '.join(unknown)}; the suites are {', '.join(suites)}")
    names = [name for name in suites if name not in args.without]
    print("leave-one-suite-out (fitted on the others, judged on this one):")
    for left_out in names:
        model, threshold = fit(suites, [n for n in names if n != left_out])
        figures = decisions(model, suites[left_out], threshold)
        shown = "  ".join(f"{k} {v:.3f}" for k, v in figures.items() if v is not None)
        print(f"  {left_out:13s} threshold {threshold:.2f}  {shown}")
    model, threshold = fit(suites, names)
    print(f"all suites: threshold {threshold:.2f}; coefficients (per standard deviation):")
    for name, c in zip(FEATURES, model.coefficients, strict=True):
        print(f"  {name:15s} {c:+.3f}")
    for judged in args.without:
        for at in sorted({threshold, DEFAULT_THRESHOLD}):
            figures = decisions(model, suites[judged], at)
            shown = "  ".join(f"{k} {v:.3f}" for k, v in figures.items() if v is not None)
            print(f"judged, never fitted: {judged} at threshold {at:.2f}  {shown}")
    if args.write:
        provenance = (f"logistic regression fitted by python -m chatbot.evaluation.calibrate on {', '.join(names)}; "
                      f"threshold chosen by the same run: {threshold:.2f}")
        data = ConfidenceModel(model.coefficients, model.intercept, model.means, model.scales, provenance).to_dict()
        data["threshold"] = threshold
        SHIPPED_MODEL.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {SHIPPED_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
