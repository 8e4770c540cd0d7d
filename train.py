"""Build the bot's index from the corpus and publish it.

    python train.py [--corpus DIR] [--out DIR] [--eval FILE] [--strict]

Prints a report (documents, passages, duplicates dropped, vocabulary,
seconds); with --eval, also the retrieval figures on an evaluation file.
Exit status: 0 on success, 1 when the corpus or index cannot be used,
2 for wrong arguments.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parent / "corpus"
DEFAULT_INDEX = Path(__file__).resolve().parent / "instance" / "index"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("CHATBOT_CORPUS_DIR", DEFAULT_CORPUS)),
                        help="knowledge folder to build from (default: corpus/)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("CHATBOT_INDEX_DIR", DEFAULT_INDEX)),
                        help="index folder to publish into (default: instance/index)")
    parser.add_argument("--eval", type=Path, metavar="FILE",
                        help="evaluation file (JSON Lines) to score the new index on")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first bad file instead of skipping it")
    parser.add_argument("--keep", type=int, default=int(os.environ.get("CHATBOT_INDEX_KEEP_VERSIONS", 5)),
                        help="how many index versions to keep for rollback (default: 5)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from chatbot.build import build_index, publish_build
    from chatbot.corpus import CorpusError
    from chatbot.evaluate import evaluate_retrieval, print_retrieval_report, read_eval_file
    from chatbot.index.artifact import IndexLoadError

    if args.keep < 1:
        print("error: --keep must be at least 1", file=sys.stderr)
        return 2
    try:
        questions = read_eval_file(args.eval) if args.eval else None
        result = build_index(args.corpus, strict=args.strict, progress=sys.stderr.isatty())
        version = publish_build(result, args.out, args.corpus, keep=args.keep)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (IndexLoadError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for error in result.errors:
        print(f"warning: {error}", file=sys.stderr)
    report = result.report
    print(f"index version   {version} (published in {args.out})")
    print(f"documents       {report['documents']}")
    print(f"passages        {report['passages']}")
    print(f"duplicates      {report['duplicates_dropped']} dropped "
          f"({report['exact_duplicates']} exact, {report['near_duplicates']} near)")
    print(f"vocabulary      {report['vocabulary']} terms")
    print(f"files skipped   {report['files_with_errors']} with errors, {len(report['skipped_files'])} unsupported")
    print(f"seconds         {report['seconds']:.2f}")
    if questions is not None:
        print()
        print_retrieval_report(evaluate_retrieval(result.index, questions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
