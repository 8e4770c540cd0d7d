"""Build the bot's index from corpus/ plus what staff wrote in the workspace.

    python train.py [--instance DIR] [--corpus DIR] [--out DIR] [--database-url URL]
                    [--eval FILE] [--strict] [--keep N]
                    [--publish [--override REASON]] [--list-versions] [--rollback VERSION [--override REASON]]

The settings are the server's: the instance folder's config.toml, then the
environment, then these options. A build becomes a candidate: saved,
registered in the database (so every server can fetch it) and checked on the
check questions. --publish makes it live on every server, unless the safety
gate objects; then only with --override and a written reason, exactly as on
the staff pages. --rollback serves an earlier version again, under the same
rule. Exit status: 0 on success, 1 when the corpus, index or database cannot
be used or the gate blocks, 2 for wrong arguments or settings.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE = ROOT / "instance"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE,
                        help="instance folder whose config.toml holds the settings (default: instance/)")
    parser.add_argument("--corpus", type=Path, help="knowledge folder to build from (default: the setting, corpus/)")
    parser.add_argument("--out", type=Path, help="index folder (default: the setting, instance/index)")
    parser.add_argument("--database-url",
                        help="database with the staff content and the shared versions (default: the setting)")
    parser.add_argument("--eval", type=Path, metavar="FILE",
                        help="evaluation file (JSON Lines) to score the new index on")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first bad file instead of skipping it")
    parser.add_argument("--keep", type=int, help="how many index versions to keep for rollback (default: the setting)")
    parser.add_argument("--publish", action="store_true", help="make the new build live on every server")
    parser.add_argument("--override", metavar="REASON",
                        help="publish or roll back although the safety gate objects (at least 10 characters; audited)")
    parser.add_argument("--list-versions", action="store_true", help="list the index versions and stop")
    parser.add_argument("--rollback", metavar="VERSION", help="serve an earlier version again and stop")
    return parser.parse_args(argv)


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def administrator():
    """Who publishes and rolls back from the command line: whoever runs it, as an administrator."""
    from chatbot.staff.roles import Actor, Role
    return Actor(actor(), Role.ADMIN)


def settings_for(args):
    """The instance's settings with the command-line options over them."""
    from chatbot.settings import resolve_settings
    changes = {"CHATBOT_CORPUS_DIR": args.corpus, "CHATBOT_INDEX_DIR": args.out,
               "CHATBOT_DATABASE_URL": args.database_url, "CHATBOT_INDEX_KEEP_VERSIONS": args.keep}
    return resolve_settings(args.instance).replace(
        **{name: str(value) if isinstance(value, Path) else value
           for name, value in changes.items() if value is not None})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep is not None and args.keep < 1:
        print("error: --keep must be at least 1", file=sys.stderr)
        return 2
    from chatbot.corpus import CorpusError
    from chatbot.index.artifact import IndexLoadError
    from chatbot.settings import SettingsError
    from chatbot.staff.workspace import GateBlocked, NotAllowed, Workspace
    from chatbot.storage import Storage, StorageError
    try:
        settings = settings_for(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    storage = Storage(settings["CHATBOT_DATABASE_URL"])
    try:
        storage.migrate()
        workspace = Workspace(settings, storage)
        if args.list_versions:
            return list_versions(workspace)
        if args.rollback:
            workspace.rollback(args.rollback, administrator(), args.override)
            print(f"published       {args.rollback} (rollback)")
            return 0
        return build(workspace, args)
    except GateBlocked as blocked:
        for reason in blocked.reasons:
            print(f"error: safety gate: {reason}", file=sys.stderr)
        print("error: not published; fix the knowledge, or go ahead with --override REASON "
              "(at least 10 characters, kept in the audit log)", file=sys.stderr)
        return 1
    except (CorpusError, NotAllowed, IndexLoadError, StorageError, OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        storage.dispose()


def build(workspace, args) -> int:
    from chatbot.evaluate import evaluate_retrieval, print_retrieval_report, read_eval_file

    questions = read_eval_file(args.eval) if args.eval else None  # a bad file stops before building
    version = workspace.build(actor(), strict=args.strict)
    record = workspace.versions.get(version)
    report = record.report
    for problem in report.get("problems", []):
        print(f"warning: {problem}", file=sys.stderr)
    print(f"index version   {version} (candidate in {workspace.store.root})")
    print(f"documents       {report['documents']}")
    print(f"passages        {report['passages']}")
    print(f"duplicates      {report['duplicates_dropped']} dropped "
          f"({report['exact_duplicates']} exact, {report['near_duplicates']} near)")
    print(f"vocabulary      {report['vocabulary']} terms")
    print(f"seconds         {report['seconds']:.2f}")
    candidate = (record.evaluation or {}).get("candidate") or {}
    if candidate:
        print(f"check questions {candidate['questions']}: hit@1 {candidate['hit@1']:.3f}, "
              f"hit@3 {candidate['hit@3']:.3f}; {len(record.changes)} replies changed")
    for reason in workspace.gate(version):
        print(f"gate            {reason}")
    if args.publish:
        workspace.publish(version, administrator(), args.override)
        print(f"published       {version}")
    if questions is not None:
        print()
        print_retrieval_report(evaluate_retrieval(workspace.store.load(version)[0], questions))
    return 0


def list_versions(workspace) -> int:
    local = {v.version for v in workspace.store.versions()}
    published = workspace.published_version()
    for record in workspace.versions.list():
        marks = [record.status] + (["PUBLISHED"] if record.version == published else [])
        marks += ["on this server"] if record.version in local else []
        print(f"{record.version}  {', '.join(marks)}  by {record.created_by}  "
              f"{(record.report or {}).get('passages', '?')} passages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
