"""One background build: corpus/ + staff content -> candidate index, evaluated.

    python -m chatbot.staff.build_job --version V --actor EMAIL --corpus DIR --index-dir DIR \\
        --database-url URL [--check-file FILE] [--keep N] [--threshold T]

Runs as its own process (started by the staff workspace) so that a crash or a
kill cannot touch the servers: the candidate is written under a hidden name
and registered only when complete; the live version keeps serving. Progress
and a heartbeat go to the database every few seconds, so the workspace shows
how far the build got, and a build whose heartbeat stops is marked failed.
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from ..build import build_index
from ..corpus import corpus_fingerprint
from ..evaluate import corpus_responder
from ..index.artifact import IndexLoadError
from ..index.store import IndexStore
from ..storage import Storage
from .checks import VersionBot, check_questions, compare
from .knowledge import KnowledgeStore
from .versions import VersionRegistry

HEARTBEAT_SECONDS = 2.0


class _Heartbeat:
    """Sends the current progress to the database every few seconds until stopped."""

    def __init__(self, registry: VersionRegistry, version: str):
        self.registry, self.version = registry, version
        self.percent, self.stage = 0, "starting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def set(self, percent: int, stage: str) -> None:
        self.percent, self.stage = percent, stage
        self.registry.progress(self.version, percent, stage)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.registry.progress(self.version, self.percent, self.stage)
            except Exception:  # a missed beat is not worth stopping the build for
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()


def run_build(version: str, storage: Storage, corpus_dir: Path, index_dir: Path, keep: int = 5,
              check_file: Path | None = None, threshold: float = 0.5, strict: bool = False) -> None:
    """Build, save, upload and evaluate candidate `version` (already registered as building).

    With `strict`, any bad corpus file fails the build (CorpusError).
    """
    registry = VersionRegistry(storage)
    knowledge = KnowledgeStore(storage)
    store = IndexStore(index_dir, keep=keep)
    with _Heartbeat(registry, version) as beat:
        try:
            beat.set(5, "Reading the knowledge base")
            staff_documents, staff_errors = knowledge.as_documents()
            beat.set(15, "Building the index")
            result = build_index(corpus_dir, strict=strict, extra_documents=staff_documents)
            beat.set(60, "Saving the candidate")
            info = {"corpus": {"path": str(corpus_dir), "sha256": corpus_fingerprint(corpus_dir),
                               "staff_sha256": knowledge.fingerprint()},
                    "build": {k: v for k, v in result.report.items() if k != "skipped_files"}}
            store.add(result.index, info, version=version)
            registry.upload_files(version, store.path(version))
            beat.set(75, "Checking the check questions")
            responder = corpus_responder(corpus_dir, threshold)
            questions = check_questions(check_file, knowledge.list_checks())
            published_index = _published_index(registry, store)
            evaluation, changes = compare(
                VersionBot(responder, result.index),
                VersionBot(responder, published_index) if published_index is not None else None, questions)
            report = {**result.report, "problems": [str(e) for e in result.errors + staff_errors]}
            registry.finish(version, report, evaluation, changes)
        except Exception as exc:
            registry.fail(version, f"{type(exc).__name__}: {exc}")
            raise


def _published_index(registry: VersionRegistry, store: IndexStore):
    """The index visitors get now: the database's publication, else this server's own."""
    publication = registry.published()
    try:
        if publication is not None:
            store.receive(publication.version, lambda folder: registry.download_files(publication.version, folder))
            return store.load(publication.version)[0]
        return store.load()[0] if store.current() else None
    except (IndexLoadError, OSError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.staff.build_job", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", required=True, help="version id already registered as building")
    parser.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    parser.add_argument("--index-dir", type=Path, required=True, help="local index store")
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of the shared database")
    parser.add_argument("--check-file", type=Path, help="evaluation questions (JSON Lines)")
    parser.add_argument("--keep", type=int, default=5, help="versions to keep locally")
    parser.add_argument("--threshold", type=float, default=0.5, help="answer probability threshold for the checks")
    args = parser.parse_args(argv)
    storage = Storage(args.database_url)
    try:
        run_build(args.version, storage, args.corpus, args.index_dir, args.keep, args.check_file, args.threshold)
    except Exception as exc:
        print(f"build {args.version} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        storage.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
