"""Build the bot's index from corpus/ plus what staff wrote in the workspace.

    python train.py [--corpus DIR] [--out DIR] [--database-url URL] [--eval FILE] [--strict]
                    [--publish [--override REASON]] [--list-versions] [--rollback VERSION]

A build becomes a candidate: saved, registered in the database (so every
server can fetch it) and checked on the check questions. --publish makes it
live on every server, unless the safety gate blocks it (then --override with
a written reason). Without a reachable database the build is local only.
Exit status: 0 on success, 1 when the corpus, index or database cannot be
used or the gate blocks, 2 for wrong arguments.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_CORPUS = ROOT / "corpus"
DEFAULT_INDEX = ROOT / "instance" / "index"
DEFAULT_DATABASE = f"sqlite:///{ROOT / 'instance' / 'chatbot.db'}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(env.get("CHATBOT_CORPUS_DIR", DEFAULT_CORPUS)),
                        help="knowledge folder to build from (default: corpus/)")
    parser.add_argument("--out", type=Path, default=Path(env.get("CHATBOT_INDEX_DIR", DEFAULT_INDEX)),
                        help="index folder (default: instance/index)")
    parser.add_argument("--database-url", default=env.get("CHATBOT_DATABASE_URL", DEFAULT_DATABASE),
                        help="database with the staff content and the shared versions "
                             "(default: instance/chatbot.db)")
    parser.add_argument("--eval", type=Path, metavar="FILE",
                        help="evaluation file (JSON Lines) to score the new index on")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first bad file instead of skipping it")
    parser.add_argument("--keep", type=int, default=int(env.get("CHATBOT_INDEX_KEEP_VERSIONS", 5)),
                        help="how many index versions to keep for rollback (default: 5)")
    parser.add_argument("--publish", action="store_true", help="make the new build live on every server")
    parser.add_argument("--override", metavar="REASON",
                        help="with --publish: publish although the safety gate objects (reason is audited)")
    parser.add_argument("--list-versions", action="store_true", help="list the index versions and stop")
    parser.add_argument("--rollback", metavar="VERSION", help="serve an earlier version again and stop")
    return parser.parse_args(argv)


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep < 1:
        print("error: --keep must be at least 1", file=sys.stderr)
        return 2
    from chatbot.corpus import CorpusError
    from chatbot.index.artifact import IndexLoadError
    from chatbot.storage import StorageError
    try:
        if args.list_versions:
            return list_versions(args)
        if args.rollback:
            return rollback(args)
        return build(args)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (IndexLoadError, StorageError, OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def open_database(url: str):
    """(storage, registry) when the database is reachable and migrated; else (None, None)."""
    from chatbot.staff.versions import VersionRegistry
    from chatbot.storage import Storage, StorageError
    try:
        storage = Storage(url)
        storage.migrate()
        return storage, VersionRegistry(storage)
    except StorageError as exc:
        print(f"warning: database not available ({exc}); working with the local index only", file=sys.stderr)
        return None, None


def build(args) -> int:
    from chatbot.build import build_index, publish_build
    from chatbot.evaluate import evaluate_retrieval, print_retrieval_report, read_eval_file
    from chatbot.index.store import IndexStore
    from chatbot.settings import BY_NAME
    from chatbot.staff.build_job import run_build
    from chatbot.staff.audit import AuditLog
    from chatbot.staff.checks import GateMargins
    from chatbot.staff.workflow import gate_for

    questions = read_eval_file(args.eval) if args.eval else None
    storage, registry = open_database(args.database_url)
    store = IndexStore(args.out, keep=args.keep)
    if registry is None:  # local only, as before the workspace existed
        result = build_index(args.corpus, strict=args.strict, progress=sys.stderr.isatty())
        version = publish_build(result, args.out, args.corpus, keep=args.keep, publish=args.publish)
        report, index = result.report, result.index
        errors = result.errors
    else:
        version = store.new_version_id()
        registry.start(version, actor())
        run_build(version, storage, args.corpus, args.out, args.keep,
                  Path(os.environ.get("CHATBOT_CHECK_FILE") or args.corpus / "check_questions.jsonl"),
                  BY_NAME["CHATBOT_ANSWER_THRESHOLD"].default, strict=args.strict)
        record = registry.get(version)
        report, index, errors = record.report, store.load(version)[0], record.report.get("problems", [])
    for error in errors:
        print(f"warning: {error}", file=sys.stderr)
    print(f"index version   {version} ({'published' if args.publish else 'candidate'} in {args.out})")
    print(f"documents       {report['documents']}")
    print(f"passages        {report['passages']}")
    print(f"duplicates      {report['duplicates_dropped']} dropped "
          f"({report['exact_duplicates']} exact, {report['near_duplicates']} near)")
    print(f"vocabulary      {report['vocabulary']} terms")
    print(f"seconds         {report['seconds']:.2f}")
    status = 0
    if registry is not None:
        record = registry.get(version)
        candidate = (record.evaluation or {}).get("candidate") or {}
        if candidate:
            print(f"check questions {candidate['questions']}: hit@1 {candidate['hit@1']:.3f}, "
                  f"hit@3 {candidate['hit@3']:.3f}; {len(record.changes)} replies changed")
        if args.publish:
            margins = GateMargins.from_settings({name: setting.default for name, setting in BY_NAME.items()})
            reasons = gate_for(registry, version, margins)
            if reasons and not args.override:
                for reason in reasons:
                    print(f"error: safety gate: {reason}", file=sys.stderr)
                print("error: not published; fix the knowledge or publish with --override REASON",
                      file=sys.stderr)
                status = 1
            else:
                registry.publish(version, actor(), args.override)
                AuditLog(storage).record(actor(), "publish", {"version": version, "gate": reasons,
                                                             "override_reason": args.override})
                store.publish(version)
                print(f"published       {version}")
        storage.dispose()
    if questions is not None:
        print()
        print_retrieval_report(evaluate_retrieval(index, questions))
    return status


def list_versions(args) -> int:
    from chatbot.index.store import IndexStore
    storage, registry = open_database(args.database_url)
    store = IndexStore(args.out, keep=args.keep)
    local = {v.version for v in store.versions()}
    if registry is None:
        for info in store.versions():
            print(f"{info.version}  {'published' if info.current else 'local'}  {info.passages} passages")
        return 0
    published = registry.published()
    for record in registry.list():
        marks = [record.status] + (["PUBLISHED"] if published and published.version == record.version else [])
        marks += ["on this server"] if record.version in local else []
        print(f"{record.version}  {', '.join(marks)}  by {record.created_by}  "
              f"{record.report.get('passages', '?')} passages")
    storage.dispose()
    return 0


def rollback(args) -> int:
    from chatbot.index.store import IndexStore
    from chatbot.staff.audit import AuditLog
    from chatbot.staff.workflow import fetch_version
    storage, registry = open_database(args.database_url)
    store = IndexStore(args.out, keep=args.keep)
    if registry is None:
        store.rollback(args.rollback)
    else:
        fetch_version(registry, store, args.rollback)
        registry.publish(args.rollback, actor(), "rollback")
        AuditLog(storage).record(actor(), "rollback", {"version": args.rollback})
        store.publish(args.rollback)
        storage.dispose()
    print(f"published       {args.rollback} (rollback)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
