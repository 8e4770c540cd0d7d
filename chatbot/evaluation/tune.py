"""Choose index weights by leave-one-suite-out cross-validation.

    python -m chatbot.evaluation.tune PARAM=V1,V2,... [PARAM=...] [--data DIR]

Every combination of the given values is scored (nDCG@10 on every suite that
can run). For each suite, the combination best on the mean of the *other*
suites is reported with its figure on the left-out suite; a change is worth
keeping when it raises the left-out figures of at least two suites and lowers
none by more than 0.01. With --folds K the same is done k-fold over questions:
each suite's questions are split into K seeded folds, the combination is
chosen on the other folds of every suite (suites weighing the same), and each
suite's left-out figure pools its K held-out folds. The last line names the
best combination over all.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from ..evaluate import corpus_responder, read_eval_file
from .suites import FAQ_SUITES, PASSAGE_SUITES, ROOT, K, passage_suites, run_faq_suite


def suite_gains(params: dict, corpus_dir: Path, data_dir: Path, banks: list) -> dict[str, np.ndarray]:
    """{suite: nDCG@10 of ours for each answerable question} for one parameter combination."""
    files = {name: ROOT / "tests" / "data" / f for name, f in PASSAGE_SUITES.items()
             if any(q.expect == "answer" for q in read_eval_file(ROOT / "tests" / "data" / f))}
    results = passage_suites(files, corpus_dir, corpus_responder, index_params=params, baselines=False)
    results += [run_faq_suite(bank, params, baselines=False) for bank in banks]
    return {r.name: np.array([1 / np.log2(rank + 1) if rank and rank <= K else 0.0 for rank in r.ranks])
            for r in results}


def k_fold(table: list, folds: int, seed: int = 0) -> tuple[dict[str, float], list[dict]]:
    """({suite: left-out nDCG@10}, chosen params per fold) of k-fold over each suite's questions."""
    suites = list(table[0][1])
    rng = np.random.RandomState(seed)
    fold_of = {s: rng.randint(0, folds, len(table[0][1][s])) for s in suites}
    left_out = {s: np.zeros(len(table[0][1][s])) for s in suites}
    chosen = []
    for fold in range(folds):
        trained = {s: fold_of[s] != fold for s in suites if (fold_of[s] != fold).any()}
        params, gains = max(table, key=lambda row: np.mean([row[1][s][mask].mean() for s, mask in trained.items()]))
        chosen.append(params)
        for s in suites:
            held = fold_of[s] == fold
            left_out[s][held] = gains[s][held]
    return {s: float(left_out[s].mean()) for s in suites}, chosen


def parse_grid(specs: list[str]) -> dict[str, list]:
    grid = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        if not values:
            raise SystemExit(f"expected PARAM=V1,V2,..., got {spec!r}")
        grid[name] = [_value(v) for v in values.split(",")]
    return grid


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.evaluation.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid", nargs="+", help="PARAM=V1,V2,... (PassageIndex parameters)")
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--folds", type=int, default=0, help="also report k-fold over questions (K >= 2)")
    args = parser.parse_args(argv)
    grid = parse_grid(args.grid)
    data_dir = Path(args.data)
    banks = [read(data_dir / f) for f, read in FAQ_SUITES.values() if (data_dir / f).is_file()]
    table = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        gains = suite_gains(params, Path(args.corpus), data_dir, banks)
        table.append((params, gains))
        print(" ".join(f"{k}={v}" for k, v in params.items()),
              " ".join(f"{s} {g.mean():.3f}" for s, g in gains.items()), flush=True)
    if args.folds >= 2:
        left_out, chosen = k_fold(table, args.folds)
        print(f"\n{args.folds}-fold over questions (left-out nDCG@10): "
              + " ".join(f"{s} {v:.3f}" for s, v in left_out.items()))
        print(f"  chosen per fold: {chosen}")
    table = [(params, {s: float(g.mean()) for s, g in gains.items()}) for params, gains in table]
    suites = list(table[0][1])
    print("\nleave-one-suite-out (chosen on the others -> figure on this one):")
    for left_out in suites:
        others = [s for s in suites if s != left_out]
        params, scores = max(table, key=lambda row: sum(row[1][s] for s in others))
        print(f"  {left_out:13s} {scores[left_out]:.3f}  with {params}")
    params, scores = max(table, key=lambda row: sum(row[1].values()))
    print(f"best over all suites: {params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
