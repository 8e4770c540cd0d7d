"""Fit the learned self-harm check, and judge it leave-one-set-out.

    python -m chatbot.evaluation.self_harm [--data DIR] [--write]

Examples: the self-harm messages of `tests/data/urgent_*.jsonl` (1) against
their other messages (ordinary lookalikes and medical warning signs), every
question of the passage suites, the written questions of
`corpus/questions.txt` and, when DIR holds it, CovidFAQ-dev's real user
queries (0). The `heldout_*.jsonl` files are never fitted on: they judge the
shipped model (tests/test_urgent_learned.py). The features are word 1-2 grams and character 3-5 grams
(TF-IDF) seen in two examples or more, the model a class-balanced logistic
regression; the shipped numbers keep six significant digits.

Each urgent file is left out in turn, with a fifth of the other examples,
and judged: its self-harm messages caught by the rules, by the model and by
either, and ordinary messages flagged (its own lookalikes and the left-out
fifth). The model counts only for messages of MIN_WORDS words or more, as in
the chatbot. The threshold is the lowest of THRESHOLDS at which the left-out
ordinary messages flagged by the model are at most MAX_FALSE_ALARMS of them.
`--write` fits on everything and saves `chatbot/answer/urgent/
self_harm_model.json` once the plain-data model gives scikit-learn's
probabilities.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

from ..answer.urgent import UrgentScreen
from ..answer.urgent.learned import CHAR_NGRAMS, SHIPPED_MODEL, WORD_NGRAMS, SelfHarmModel, long_enough
from .suites import ROOT

DATA = ROOT / "tests" / "data"
C = 16.0
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
MAX_FALSE_ALARMS = 0.001
FOLDS = 5


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def collect(data_dir: Path) -> tuple[dict[str, list[tuple[str, bool, bool]]], list[str]]:
    """({urgent file: [(message, self-harm, urgent)]}, other messages that are not urgent)."""
    urgent_files = {path.stem: [(row["message"], row["category"] == "self_harm", row["urgent"])
                                for row in _jsonl(path)]
                    for path in sorted(DATA.glob("urgent_*.jsonl"))}
    # Visitors' messages that are not urgent: the question sets, and the distressed but safe.
    others = [row.get("q") or row["message"] for path in sorted(DATA.glob("*.jsonl"))
              if not path.stem.startswith(("urgent_", "smalltalk_", "heldout_"))
              for row in _jsonl(path) if row.get("expect") != "urgent"]
    others += [line for line in (ROOT / "corpus" / "questions.txt").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith(("#", "["))]
    covid = data_dir / "covidfaq-dev.json"
    if covid.is_file():
        others += [query["query"] for query in json.loads(covid.read_text(encoding="utf-8"))["queries"]]
    return urgent_files, others


def pipeline():
    return make_pipeline(
        make_union(TfidfVectorizer(ngram_range=WORD_NGRAMS, sublinear_tf=True, min_df=2),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, min_df=2)),
        LogisticRegression(C=C, class_weight="balanced", max_iter=5000))


def plain_model(fitted, threshold: float) -> SelfHarmModel:
    """The fitted pipeline as the plain data the chatbot reads."""
    union, regression = fitted.steps[0][1], fitted.steps[1][1]
    weights = regression.coef_[0]
    tables, offset = [], 0
    for _, vectorizer in union.transformer_list:
        table = {term: (_rounded(vectorizer.idf_[i]), _rounded(weights[offset + i]))
                 for term, i in vectorizer.vocabulary_.items()}
        tables.append(table)
        offset += len(vectorizer.vocabulary_)
    return SelfHarmModel(tables[0], tables[1], _rounded(regression.intercept_[0]), threshold)


def _rounded(value) -> float:
    return float(f"{float(value):.6g}")


def _long(messages: list[str]) -> np.ndarray:
    """Which messages are long enough for the model to decide (learned.MIN_WORDS)."""
    return np.array([long_enough(m) for m in messages])


def leave_one_set_out(urgent_files, others) -> list[dict]:
    """Per urgent file left out: probabilities of its messages and of a fifth of the others."""
    fold = np.random.default_rng(0).integers(0, FOLDS, len(others))
    results = []
    for number, held in enumerate(urgent_files):
        texts = [m for name, rows in urgent_files.items() if name != held for m, _, _ in rows]
        labels = [s for name, rows in urgent_files.items() if name != held for _, s, _ in rows]
        kept = [o for o, f in zip(others, fold, strict=True) if f != number % FOLDS]
        fitted = pipeline().fit(texts + kept, labels + [False] * len(kept))
        rows = urgent_files[held]
        left_out = [o for o, f in zip(others, fold, strict=True) if f == number % FOLDS]
        # A probability of 0 where the message is too short for the model to decide.
        results.append({"name": held, "rows": rows,
                        "p": fitted.predict_proba([m for m, _, _ in rows])[:, 1] * _long([m for m, _, _ in rows]),
                        "p_others": fitted.predict_proba(left_out)[:, 1] * _long(left_out)})
    return results


def choose_threshold(results) -> float:
    for threshold in THRESHOLDS:
        flagged = sum(int(((r["p"] >= threshold) & ~np.array([u for _, _, u in r["rows"]])).sum())
                      + int((r["p_others"] >= threshold).sum()) for r in results)
        ordinary = sum(sum(not u for _, _, u in r["rows"]) + len(r["p_others"]) for r in results)
        if flagged <= MAX_FALSE_ALARMS * ordinary:
            return threshold
    return THRESHOLDS[-1]


def report(results, threshold: float, screen: UrgentScreen) -> None:
    print(f"left out, model threshold {threshold}:")
    print("| urgent file | self-harm | rules | model | either | ordinary | flagged by the model | "
          "other questions flagged |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        harm = [(m, p) for (m, s, _), p in zip(r["rows"], r["p"], strict=True) if s]
        ruled = [getattr(screen.check_rules(m), "category", None) == "self_harm" for m, _ in harm]
        ordinary = [p for (_, _, u), p in zip(r["rows"], r["p"], strict=True) if not u]
        print(f"| {r['name']} | {len(harm)} | {sum(ruled)} | {sum(p >= threshold for _, p in harm)} | "
              f"{sum(ok or p >= threshold for ok, (_, p) in zip(ruled, harm, strict=True))} | {len(ordinary)} | "
              f"{sum(p >= threshold for p in ordinary)} | "
              f"{int((r['p_others'] >= threshold).sum())}/{len(r['p_others'])} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder with covidfaq-dev.json (its queries are more ordinary examples)")
    parser.add_argument("--write", action="store_true", help=f"fit on everything and save {SHIPPED_MODEL}")
    args = parser.parse_args(argv)
    urgent_files, others = collect(args.data)
    screen, _ = UrgentScreen.load(ROOT / "corpus" / "urgent.txt")
    results = leave_one_set_out(urgent_files, others)
    threshold = choose_threshold(results)
    report(results, threshold, screen)
    if args.write:
        texts = [m for rows in urgent_files.values() for m, _, _ in rows] + others
        labels = [s for rows in urgent_files.values() for _, s, _ in rows] + [False] * len(others)
        fitted = pipeline().fit(texts, labels)
        model = plain_model(fitted, threshold)
        expected = fitted.predict_proba(texts)[:, 1]
        got = np.array([model.probability(t) for t in texts])
        if not np.allclose(got, expected, atol=1e-4):
            worst = int(np.argmax(np.abs(got - expected)))
            raise SystemExit(f"plain model differs from scikit-learn on {texts[worst]!r}: "
                             f"{got[worst]} against {expected[worst]}")
        SHIPPED_MODEL.write_text(json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n",
                                 encoding="utf-8")
        print(f"wrote {SHIPPED_MODEL} ({len(model.words)} word and {len(model.chars)} character terms, "
              f"threshold {threshold})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
