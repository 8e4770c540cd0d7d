"""Save and load an index as a self-describing folder of plain data files.

    manifest.json     format version, settings, library versions, corpus hash,
                      counts, build time and the SHA-256 of every file below
    passages.jsonl    one passage per line, in column order of the postings
    vocabulary.json   index terms, in row order of the postings
    idf.npy           inverse document frequency per term
    postings.npz      term-major CSR matrix (indptr, indices, data, shape)
    sentences.npz     term-major CSR matrix over sentences, their (start, end)
                      offsets in the passage text and each passage's first sentence
    features.json     answer-type features: passages stating a quantity, and
                      which passages define which term
    spelling.json     the known words and their character n-grams
    spelling.npz      n-gram-major CSR matrix and n-gram idf
    questions.json    intent terms of the FAQ fields, in row order
    questions.npz     term-major BM25 matrix over FAQ wordings, the terms' idf
                      and the passage each wording belongs to
    answers.json      the same for the FAQ answer field
    answers.npz
    confidence.json   the answer-confidence model (logistic regression coefficients)

No pickle anywhere: arrays load with allow_pickle=False and everything else is
JSON, so opening an index never runs code. A folder whose format version,
checksums or shapes do not match is refused with IndexLoadError.
"""
from __future__ import annotations

import hashlib
import json
import platform
import time
import zipfile
from pathlib import Path

import nltk
import numpy as np
import scipy
import sklearn
from scipy import sparse

from ..passages.model import Passage
from .passage_index import PassageIndex
from .confidence import ConfidenceModel
from .field_match import FieldMatcher
from .spelling import SpellingMatcher

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
DATA_FILES = ("passages.jsonl", "vocabulary.json", "idf.npy", "postings.npz",
              "sentences.npz", "features.json", "spelling.json", "spelling.npz", "questions.json",
              "questions.npz", "answers.json", "answers.npz", "confidence.json")


class IndexLoadError(Exception):
    """The folder is not a usable index (missing, corrupt or another format)."""


def library_versions() -> dict[str, str]:
    from .. import __version__
    return {"chatbot": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "scikit-learn": sklearn.__version__, "nltk": nltk.__version__}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _save_csr(path: Path, matrix: sparse.csr_matrix, **extra: np.ndarray) -> None:
    np.savez(path, indptr=matrix.indptr, indices=matrix.indices, data=matrix.data,
             shape=np.asarray(matrix.shape, dtype=np.int64), **extra)


def _load_csr(arrays) -> sparse.csr_matrix:
    shape = tuple(int(x) for x in arrays["shape"])
    return sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)


def _save_json_terms(path: Path, vocabulary: dict[str, int]) -> list[str]:
    """Write a vocabulary as a JSON list of terms in column order; returns the list."""
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    path.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    return terms


def _read_json_terms(path: Path) -> dict[str, int]:
    return {term: column for column, term in enumerate(json.loads(path.read_text(encoding="utf-8")))}


def _load_matcher(folder: Path, name: str, n_passages: int) -> FieldMatcher:
    vocabulary = _read_json_terms(folder / f"{name}.json")
    with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
        return FieldMatcher(vocabulary, arrays["idf"], _load_csr(arrays), arrays["owners"], n_passages)


def _matcher_fits(matcher: FieldMatcher, n_passages: int) -> bool:
    """A field's matrix, idf and owners agree with each other and the passages."""
    if not len(matcher.owners_):
        return True
    return (matcher.postings_.shape == (len(matcher.vocabulary_), len(matcher.owners_))
            and len(matcher.idf_) == len(matcher.vocabulary_) and int(matcher.owners_.max()) < n_passages)


def save_index(index: PassageIndex, folder: str | Path, info: dict | None = None) -> dict:
    """Write `index` into `folder` (created; must not hold another index). Returns the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "passages.jsonl", "w", encoding="utf-8") as handle:
        for passage in index.passages_:
            handle.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
    terms = _save_json_terms(folder / "vocabulary.json", index.vocabulary_)
    np.save(folder / "idf.npy", index.idf_, allow_pickle=False)
    _save_csr(folder / "postings.npz", index.postings_)
    _save_csr(folder / "sentences.npz", index.sentence_postings_, spans=index.sentence_spans_,
              starts=index.sentence_starts_)
    features = {"states_quantity": np.flatnonzero(index.states_quantity_).tolist(),
                "definitions": index.definitions_}
    (folder / "features.json").write_text(json.dumps(features, ensure_ascii=False), encoding="utf-8")
    spelling = index.spelling_
    (folder / "spelling.json").write_text(json.dumps({"words": spelling.words_, "grams": spelling.grams_},
                                                     ensure_ascii=False), encoding="utf-8")
    _save_csr(folder / "spelling.npz", spelling.postings_, idf=spelling.idf_)
    (folder / "confidence.json").write_text(json.dumps(index.confidence_.to_dict(), indent=1), encoding="utf-8")
    for name, matcher in (("questions", index.question_match_), ("answers", index.answer_match_)):
        _save_json_terms(folder / f"{name}.json", matcher.vocabulary_)
        _save_csr(folder / f"{name}.npz", matcher.postings_, idf=matcher.idf_, owners=matcher.owners_)
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": index.get_params(),
        "libraries": library_versions(),
        "counts": {"passages": len(index.passages_), "vocabulary": len(terms),
                   "postings": int(index.postings_.nnz), "spelling_words": len(spelling.words_)},
        **(info or {}),
        "files": {name: _sha256(folder / name) for name in DATA_FILES},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def read_manifest(folder: str | Path) -> dict:
    """The manifest of an index folder; IndexLoadError when absent, unreadable or of another format."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexLoadError(f"{folder}: no {MANIFEST}; this folder is not an index (run train.py)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise IndexLoadError(f"{path}: manifest is not a JSON object")
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexLoadError(f"{folder}: index format version {found!r}, this program reads version "
                             f"{FORMAT_VERSION}; rebuild the index with train.py")
    return manifest


def load_index(folder: str | Path, verify: bool = True) -> tuple[PassageIndex, dict]:
    """(index, manifest) read from `folder`; IndexLoadError if anything does not check out."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    files = manifest.get("files") or {}
    for name in DATA_FILES:
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"{folder}: missing data file {name}")
        if verify and files.get(name) != _sha256(path):
            raise IndexLoadError(f"{folder}: {name} does not match its checksum; the index is corrupt")
    try:
        index = PassageIndex(**manifest["settings"])
        with open(folder / "passages.jsonl", encoding="utf-8") as handle:
            index.passages_ = [Passage.from_dict(json.loads(line)) for line in handle if line.strip()]
        index.vocabulary_ = _read_json_terms(folder / "vocabulary.json")
        index.idf_ = np.load(folder / "idf.npy", allow_pickle=False)
        with np.load(folder / "postings.npz", allow_pickle=False) as arrays:
            index.postings_ = _load_csr(arrays)
        with np.load(folder / "sentences.npz", allow_pickle=False) as arrays:
            index.sentence_postings_ = _load_csr(arrays)
            index.sentence_spans_ = arrays["spans"]
            index.sentence_starts_ = arrays["starts"]
        features = json.loads((folder / "features.json").read_text(encoding="utf-8"))
        index.states_quantity_ = np.zeros(len(index.passages_), dtype=bool)
        index.states_quantity_[np.asarray(features["states_quantity"], dtype=np.int64)] = True
        index.definitions_ = {term: list(rows) for term, rows in features["definitions"].items()}
        spelling_data = json.loads((folder / "spelling.json").read_text(encoding="utf-8"))
        spelling = SpellingMatcher()
        spelling.words_ = spelling_data["words"]
        with np.load(folder / "spelling.npz", allow_pickle=False) as arrays:
            spelling._set_learned(spelling_data["grams"], arrays["idf"], _load_csr(arrays))
        index.spelling_ = spelling
        index.confidence_ = ConfidenceModel.from_dict(json.loads((folder / "confidence.json").read_text("utf-8")))
        index.question_match_, index.answer_match_ = (_load_matcher(folder, name, len(index.passages_))
                                                      for name in ("questions", "answers"))
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile) as exc:
        raise IndexLoadError(f"{folder}: cannot read index data ({exc})") from None
    n_terms, n_passages = index.postings_.shape
    consistent = (n_terms == len(index.vocabulary_) == len(index.idf_) and n_passages == len(index.passages_)
                  and index.sentence_postings_.shape == (n_terms, len(index.sentence_spans_))
                  and len(index.sentence_starts_) == n_passages
                  and all(_matcher_fits(m, n_passages) for m in (index.question_match_, index.answer_match_)))
    if not consistent:
        raise IndexLoadError(f"{folder}: index files disagree on their sizes; rebuild with train.py")
    index._prepare()
    return index, manifest
