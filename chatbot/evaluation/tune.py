"""Choose index weights by leave-one-suite-out cross-validation.

    python -m chatbot.evaluation.tune PARAM=V1,V2,... [PARAM=...] [--data DIR]

Every combination of the given values is scored (nDCG@10 on every suite that
can run). For each suite, the combination best on the mean of the *other*
suites is reported with its figure on the left-out suite; a change is worth
keeping when it raises the left-out figures of at least two suites and lowers
none by more than 0.01. The last line names the best combination over all.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from ..evaluate import corpus_responder, read_eval_file
from .__main__ import FAQ_SUITES, PASSAGE_SUITES, ROOT
from .suites import OURS, passage_suites, run_faq_suite

METRIC = "ndcg@10"


def suite_scores(params: dict, corpus_dir: Path, data_dir: Path, banks: list) -> dict[str, float]:
    """{suite: nDCG@10 of ours} for one parameter combination."""
    files = {name: ROOT / "tests" / "data" / f for name, f in PASSAGE_SUITES.items()
             if any(q.expect == "answer" for q in read_eval_file(ROOT / "tests" / "data" / f))}
    results = passage_suites(files, corpus_dir, corpus_responder, index_params=params, baselines=False)
    results += [run_faq_suite(bank, params, baselines=False) for bank in banks]
    return {r.name: r.ranking[OURS][METRIC] for r in results}


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
    args = parser.parse_args(argv)
    grid = parse_grid(args.grid)
    data_dir = Path(args.data)
    banks = [read(data_dir / f) for f, read in FAQ_SUITES.values() if (data_dir / f).is_file()]
    table = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values))
        scores = suite_scores(params, Path(args.corpus), data_dir, banks)
        table.append((params, scores))
        print(" ".join(f"{k}={v}" for k, v in params.items()), " ".join(f"{s} {v:.3f}" for s, v in scores.items()),
              flush=True)
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
