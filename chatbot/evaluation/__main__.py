"""`python -m chatbot.evaluation`: every suite, ours beside the baselines, one table.

    python -m chatbot.evaluation [--corpus DIR] [--data DIR] [--json FILE]

Passage suites come from tests/data (dev, extra, fresh, out-of-scope); the FAQ
benchmarks from --data (../shared/data by default), skipped with a note when
absent.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..answer.kinds import ReplyKind
from ..evaluate import corpus_responder
from .suites import FAQ_SUITES, OURS, PASSAGE_SUITES, ROOT, SuiteResult, passage_suites, run_faq_suite

METRICS = ("hit@1", "hit@3", "mrr@10", "ndcg@10")
KIND_COLUMNS = (("answered", ReplyKind.ANSWER), ("no_answer", ReplyKind.NO_ANSWER), ("urgent", ReplyKind.URGENT),
                ("smalltalk", ReplyKind.SMALLTALK), ("false urgent", "false urgent"))


def run_all(corpus_dir: Path, data_dir: Path, tests_data: Path = ROOT / "tests" / "data") -> tuple[list, list]:
    """(results, notes): every suite that can run, and why any could not."""
    notes = []
    files = {name: tests_data / f for name, f in PASSAGE_SUITES.items() if (tests_data / f).is_file()}
    results = passage_suites(files, corpus_dir, corpus_responder)
    for name, (filename, read) in FAQ_SUITES.items():
        path = data_dir / filename
        if path.is_file():
            results.append(run_faq_suite(read(path)))
        else:
            notes.append(f"{name}: skipped, {path} not found (give --data DIR)")
    return results, notes


def format_table(results: list[SuiteResult]) -> str:
    """One row per suite and system; our rows carry the reply-kind shares."""
    header = ["suite", "system", "n", *METRICS, *(c for c, _ in KIND_COLUMNS)]
    rows = []
    for result in results:
        systems = list(result.ranking) or [OURS]
        for system in systems:
            figures = result.ranking.get(system, {})
            row = [result.name, system, str(result.queries), *(f"{figures[m]:.3f}" if m in figures else ""
                                                              for m in METRICS)]
            for _, kind in KIND_COLUMNS:
                cell = result.kinds.get(kind) if system == OURS else None
                row.append(f"{cell['right']}/{cell['n']}" if cell and cell["n"] else "")
            rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)),
             "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.evaluation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"), help="corpus folder (default: corpus)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                        help="folder with stackfaq.json and covidfaq-dev.json (default: ../shared/data)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args(argv)
    try:
        results, notes = run_all(Path(args.corpus), Path(args.data))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(results))
    print("\nhit/MRR/nDCG over answerable questions (FAQ suites: the one right entry); reply kinds: "
          "right/asked.\nfalse urgent: messages flagged urgent that were not (lower is better).")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
