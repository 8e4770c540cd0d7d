"""How well the inbox groups visitors' questions by meaning, and the threshold it uses.

    python -m chatbot.evaluation.grouping --data ../shared/data

CovidFAQ's dev queries are labelled with the entry that answers them: a
perfect grouping puts the queries of one entry together and no others. The
entries are split into folds (seeded); for each fold, the distance threshold
and character n-gram weight with the best adjusted Rand index on the queries
of the other folds' entries are chosen, then the queries of the left-out
entries are grouped with them and scored: adjusted Rand index (ARI: 1 is
perfect, 0 is chance) and purity (the share of queries whose group's most
common entry is theirs). The figures printed are the means over left-out
folds; chatbot/staff/grouping.py keeps the value chosen most often.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from ..staff.grouping import CHAR_WEIGHT, DEFAULT_DISTANCE_THRESHOLD, group_questions
from .faq_banks import read_covidfaq

THRESHOLDS = tuple(round(0.50 + 0.05 * i, 2) for i in range(10))   # 0.50 ... 0.95
CHAR_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
FOLDS = 5
SEED = 11


def labels_of(groups: list[list[int]], n: int) -> list[int]:
    """The group number of each of n positions."""
    labels = [0] * n
    for number, group in enumerate(groups):
        for position in group:
            labels[position] = number
    return labels


def purity(gold: Sequence[int], predicted: Sequence[int]) -> float:
    """Share of items whose predicted group's most common gold label is theirs."""
    members: dict[int, Counter] = {}
    for label, group in zip(gold, predicted, strict=True):
        members.setdefault(group, Counter())[label] += 1
    return sum(counts.most_common(1)[0][1] for counts in members.values()) / max(len(gold), 1)


def score(texts: Sequence[str], gold: Sequence[int], threshold: float, char_weight: float) -> tuple[float, float]:
    """(ARI, purity) of grouping `texts` against their gold labels."""
    predicted = labels_of(group_questions(texts, threshold, char_weight), len(texts))
    return adjusted_rand_score(gold, predicted), purity(gold, predicted)


def entry_folds(entries: Sequence[int], folds: int = FOLDS, seed: int = SEED) -> list[set[int]]:
    """The entries split into `folds` sets, shuffled with `seed`."""
    shuffled = sorted(set(entries))
    random.Random(seed).shuffle(shuffled)
    return [set(shuffled[i::folds]) for i in range(folds)]


def cross_validate(queries: Sequence[tuple[str, int]], folds: int = FOLDS, seed: int = SEED) -> dict:
    """Per left-out fold: the (threshold, char weight) chosen on the others, and its ARI and purity there."""
    results = []
    for held_out in entry_folds([entry for _, entry in queries], folds, seed):
        train = [(t, e) for t, e in queries if e not in held_out]
        test = [(t, e) for t, e in queries if e in held_out]
        grid = {(threshold, weight): score([t for t, _ in train], [e for _, e in train], threshold, weight)[0]
                for weight in CHAR_WEIGHTS for threshold in THRESHOLDS}
        (threshold, weight), train_ari = max(grid.items(), key=lambda item: (item[1], -item[0][0]))
        ari, pure = score([t for t, _ in test], [e for _, e in test], threshold, weight)
        results.append({"threshold": threshold, "char_weight": weight, "train_ari": train_ari,
                        "ari": ari, "purity": pure, "queries": len(test)})
    return {"folds": results,
            "ari": sum(r["ari"] for r in results) / len(results),
            "purity": sum(r["purity"] for r in results) / len(results)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.evaluation.grouping",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding covidfaq-dev.json")
    args = parser.parse_args(argv)
    path = args.data / "covidfaq-dev.json"
    if not path.is_file():
        print(f"{path} not found", file=sys.stderr)
        return 2
    queries = read_covidfaq(path).queries
    report = cross_validate(queries)
    print(f"CovidFAQ-dev: {len(queries)} queries of {len({e for _, e in queries})} entries, "
          f"{FOLDS} folds of entries (seed {SEED})")
    print("fold  threshold  char weight  train ARI  left-out ARI  purity  queries")
    for number, fold in enumerate(report["folds"], start=1):
        print(f"{number:>4}  {fold['threshold']:>9.2f}  {fold['char_weight']:>11.2f}  {fold['train_ari']:>9.3f}"
              f"  {fold['ari']:>12.3f}  {fold['purity']:>6.3f}  {fold['queries']:>7}")
    print(f"mean left-out ARI {report['ari']:.3f}, purity {report['purity']:.3f}")
    ari, pure = score([t for t, _ in queries], [e for _, e in queries], DEFAULT_DISTANCE_THRESHOLD,
                      CHAR_WEIGHT)
    print(f"the default ({DEFAULT_DISTANCE_THRESHOLD}) on all queries: ARI {ari:.3f}, purity {pure:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
