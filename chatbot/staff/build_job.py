"""One build of a candidate: corpus/ + staff content -> candidate index, checked.

    python -m chatbot.staff.build_job --instance DIR --version V

The workspace starts it as its own process (so that a crash or a kill cannot
touch the servers) with the server's settings in the environment; train.py
calls `build_candidate` in its own process. The candidate is written under a
hidden name and registered only when complete; the live version keeps
serving. Progress and a heartbeat go to the database every few seconds, so
the workspace shows how far the build got, and a build whose heartbeat
stops is marked failed.
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from ..answer.version_rules import load_responder
from ..build import build_index, publish_build
from ..index.artifact import IndexLoadError
from ..index.store import IndexStore
from ..settings import Settings, SettingsError, resolve_settings
from ..storage import Storage
from .checks import VersionBot, check_questions, compare, version_bot
from .knowledge import KnowledgeStore
from .shipped import hidden_corpus_files
from .versions import VersionRegistry, live_version

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


def build_candidate(settings: Settings, storage: Storage, version: str, strict: bool = False) -> None:
    """Build, save, upload and check candidate `version` (already registered as building).

    The one build pipeline: corpus folder + staff content -> passages ->
    index (with the corpus' urgent and smalltalk rules saved in the version)
    -> the check questions, answered by this candidate and by the published
    version, each with its own rules. With `strict`, any bad corpus file
    fails the build (CorpusError). A failure marks the version failed and
    is raised again.
    """
    registry = VersionRegistry(storage)
    knowledge = KnowledgeStore(storage)
    store = IndexStore(settings.index_dir, keep=settings["CHATBOT_INDEX_KEEP_VERSIONS"])
    corpus_dir = settings.corpus_dir
    with _Heartbeat(registry, version) as beat:
        try:
            beat.set(5, "Reading the knowledge base")
            staff_documents, staff_errors = knowledge.as_documents()
            beat.set(15, "Building the index")
            result = build_index(corpus_dir, strict=strict, extra_documents=staff_documents,
                                 taught_questions=knowledge.taught_questions(),
                                 hidden_files=hidden_corpus_files(storage))
            beat.set(60, "Saving the candidate")
            publish_build(result, store.root, corpus_dir, keep=store.keep, publish=False, version=version,
                          extra_info={"staff_sha256": knowledge.fingerprint()})
            registry.upload_files(version, store.path(version))
            beat.set(75, "Checking the check questions")
            responder, rule_errors = load_responder(store.path(version), settings)
            questions = check_questions(settings.check_file, knowledge.list_checks())
            evaluation, changes = compare(VersionBot(responder, result.index),
                                          _published_bot(registry, store, settings), questions)
            problems = result.errors + staff_errors + rule_errors
            registry.finish(version, {**result.report, "problems": [str(e) for e in problems]},
                            evaluation, changes)
        except Exception as exc:
            registry.fail(version, f"{type(exc).__name__}: {exc}")
            raise


def _published_bot(registry: VersionRegistry, store: IndexStore, settings: Settings) -> VersionBot | None:
    """What visitors get now (the database's publication, else this server's own), or None."""
    version = live_version(registry, store)
    if version is None:
        return None
    try:
        return version_bot(registry, store, settings, version)
    except (IndexLoadError, OSError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.staff.build_job", description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True,
                        help="instance folder whose settings (config.toml, then the environment) apply")
    parser.add_argument("--version", required=True, help="version id already registered as building")
    args = parser.parse_args(argv)
    try:
        settings = resolve_settings(args.instance)
    except SettingsError as exc:
        print(f"build {args.version} not started: {exc}", file=sys.stderr)
        return 2
    storage = Storage(settings["CHATBOT_DATABASE_URL"])
    try:
        build_candidate(settings, storage, args.version)
    except Exception as exc:
        print(f"build {args.version} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        storage.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
