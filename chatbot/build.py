"""The one place an index is built: corpus folder -> passages -> fitted index.

Used by every build: the staff candidate (chatbot/staff/build_job.py, also
behind train.py), a server's first start, and the evaluation.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .answer.version_rules import version_files
from .corpus import Document, LoadError, corpus_fingerprint, load_corpus
from .corpus.files import QUESTIONS_FILE, RULE_FILES, SYNONYMS_FILE
from .corpus.model import CorpusError
from .index import PassageIndex
from .index.artifact import IndexLoadError, load_index
from .index.store import IndexStore
from .index.synonyms import load_synonyms
from .passages import SegmentOptions, make_passages
from .passages.model import Passage
from .passages.questions_file import NO_PASSAGE, load_questions, questions_by_passage, unanswered_questions
from .passages.taught import with_taught_questions

PROGRESS_DELAY_SECONDS = 2.0


@dataclass
class BuildResult:
    """A fitted index and the report of how it was made."""
    index: PassageIndex
    report: dict
    errors: list[LoadError] = field(default_factory=list)


def build_index(corpus_dir: str | Path, strict: bool = False, extra_documents: list[Document] = (),
                options: SegmentOptions = SegmentOptions(), progress: bool = False,
                index_params: dict | None = None, taught_questions: dict[str, tuple[str, ...]] | None = None,
                hidden_files: frozenset[str] = frozenset()) -> BuildResult:
    """Build an index from `corpus_dir` (plus `extra_documents`).

    Bad files are reported in `errors` and skipped; with `strict` they raise
    CorpusError. A corpus with no usable passage raises CorpusError too.
    `index_params` override PassageIndex's defaults (for evaluation and tuning).
    `taught_questions` (passage id -> wordings staff taught it, staff/inbox.py) join
    those passages' question field, after the wordings of the corpus' questions.txt
    (passages/questions_file.py); those under NO_PASSAGE join the file's questions no
    passage answers. A wording that some passage answers (its question or another
    wording of it) is never counted as unanswered. `hidden_files` (paths relative to
    `corpus_dir`, staff/shipped.py) are left out, as staff chose in the workspace.
    """
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir)
    steps = tqdm(total=4, desc="building index", unit="step", delay=PROGRESS_DELAY_SECONDS,
                 disable=not progress, leave=False)
    loaded = load_corpus(corpus_dir, strict=strict)
    rules, synonym_errors = load_synonyms(corpus_dir / SYNONYMS_FILE)
    sections, question_errors = load_questions(corpus_dir / QUESTIONS_FILE)
    errors = loaded.errors + synonym_errors + question_errors
    if strict and (synonym_errors or question_errors):
        raise CorpusError(synonym_errors + question_errors)
    steps.update()
    documents = [d for d in loaded.documents if d.path not in hidden_files] + list(extra_documents)
    passages, stats = make_passages(documents, options)
    hidden_texts = [(corpus_dir / path).read_text(encoding="utf-8", errors="replace")
                    for path in sorted(hidden_files) if sections and (corpus_dir / path).is_file()]
    written, join_errors = questions_by_passage(passages, sections, QUESTIONS_FILE, hidden_texts)
    errors += join_errors
    if strict and join_errors:
        raise CorpusError(join_errors)
    taught_questions = taught_questions or {}
    passages = with_taught_questions(passages, _joined_wordings(written, taught_questions))
    if not passages:
        raise CorpusError(f"no passages could be made from {corpus_dir}: add documents or FAQ entries")
    unanswered = _unanswered(unanswered_questions(sections) + tuple(taught_questions.get(NO_PASSAGE, ())), passages)
    steps.update()
    index = PassageIndex(**{"synonyms": tuple(rules), "unanswered": unanswered,
                            **(index_params or {})}).fit(passages)
    steps.update()
    seconds = time.perf_counter() - started
    steps.update()
    steps.close()
    report = {
        "documents": stats.documents,
        "passages": stats.passages,
        "duplicates_dropped": stats.exact_duplicates + stats.near_duplicates,
        "exact_duplicates": stats.exact_duplicates,
        "near_duplicates": stats.near_duplicates,
        "passages_by_form": stats.by_form,
        "vocabulary": index.vocabulary_size,
        "synonym_rules": len(rules),
        "passages_with_written_questions": len(written),
        "files_with_errors": len({e.path for e in errors}),
        "skipped_files": loaded.skipped,
        "hidden_files": sorted(hidden_files & {d.path for d in loaded.documents}),
        "seconds": round(seconds, 3),
    }
    return BuildResult(index, report, errors)


def _unanswered(wordings: tuple[str, ...], passages: list[Passage]) -> tuple[str, ...]:
    """`wordings` once each, without those a passage answers: staff who later answered a
    question they had marked "not ours" (or wrote it under a passage too) meant the answer."""
    answered = {w.casefold() for p in passages for w in (p.question or "", *p.alternates) if w}
    return tuple(dict.fromkeys(w for w in wordings if w.casefold() not in answered))


def _joined_wordings(*sources: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """{passage id: the wordings of every source, in order}."""
    joined: dict[str, tuple[str, ...]] = {}
    for source in sources:
        for passage_id, wordings in source.items():
            joined[passage_id] = joined.get(passage_id, ()) + tuple(wordings)
    return joined


def publish_build(result: BuildResult, index_dir: str | Path, corpus_dir: str | Path,
                  keep: int = 5, publish: bool = True, extra_info: dict | None = None,
                  version: str | None = None) -> str:
    """Save a build as a version in `index_dir` (and publish it there); returns the version.

    The corpus' rule files (urgent.txt, smalltalk.txt) and the smalltalk
    model fitted from them are saved in the version too: the rules visitors
    get are those of the version served.
    `extra_info` goes into the manifest (e.g. the origin of a fallback
    build); `version` names a version registered before the build.
    """
    store = IndexStore(index_dir, keep=keep)
    corpus_dir = Path(corpus_dir)
    rules = version_files(corpus_dir)
    info = {"corpus": {"path": str(corpus_dir), "sha256": corpus_fingerprint(corpus_dir)},
            "build": {k: v for k, v in result.report.items() if k != "skipped_files"},
            "rule_files": sorted(name for name in rules if name in RULE_FILES), **(extra_info or {})}
    version = store.add(result.index, info, version=version, files=rules)
    if publish:
        store.publish(version)
    return version


def load_index_dir(folder: str | Path) -> PassageIndex:
    """An index from a store folder (its published version) or a single version folder."""
    folder = Path(folder)
    if (folder / "manifest.json").is_file():
        return load_index(folder)[0]
    if IndexStore(folder).current() is None:
        raise IndexLoadError(f"{folder}: neither an index nor a folder with a published index")
    return IndexStore(folder).load()[0]
