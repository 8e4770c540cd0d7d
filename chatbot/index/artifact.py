"""Save and load an index as a self-describing folder of plain data files.

Every array is an uncompressed `.npy` file, opened with np.load(mmap_mode="r"):
loading maps the files instead of reading them, and the processes that serve
one version (gunicorn workers) share one copy of it in the page cache. Strings
are arrays too (tables.py): UTF-8 bytes cut by offsets, with a sorted array of
term hashes for lookups, so no worker holds a dict of the vocabulary.

    manifest.json                 format version, settings, library versions, corpus
                                  hash, counts, build time and the SHA-256 of every file
    passages.{blob,offsets}       one passage per JSON line, in column order of the postings
    passage_ids.*                 the passages' ids with their rows (a term table)
    vocabulary.{blob,offsets,hashes,ids}   index terms in row order of the postings
    idf                           inverse document frequency per term
    postings.{indptr,indices,data}         term-major CSR matrix over passages
    sentences.{indptr,indices,data,spans,starts}  the same over sentences, their
                                  (start, end) in the passage text, each passage's first sentence
    states_quantity               per passage: states a number
    definitions.terms.*, definitions.{indptr,rows}  which passages define which term
    spelling.words.*, spelling.grams.*, spelling.{idf,indptr,indices,data}
                                  known words, their character n-grams, n-gram-major CSR
    questions.terms.*, questions.{idf,indptr,indices,data,owners}
                                  BM25 over FAQ wordings and the passage each belongs to
    answers.*                     the same for the FAQ answer field
    confidence.json               the answer-confidence model (logistic regression coefficients)
    passage_classifier.*          which passage a question asks for, learned from the passages'
                                  wordings (passage_classifier.py): its terms (a term table),
                                  idf, weights, intercepts and class rows; only when the
                                  index has such a model
    unanswered_like.json          the model of questions like those no passage answers
                                  (unanswered_like.py), when the index has one; an index
                                  without it (or saved before it existed) has no such signal

(each name above ending in an array name is a file `<name>.npy`). No pickle
anywhere: arrays load with allow_pickle=False and everything else is JSON, so
opening an index never runs code. A folder whose format version, checksums or
shapes do not match is refused with IndexLoadError.
"""
from __future__ import annotations

import json
import platform
import threading
import time
from pathlib import Path

import nltk
import numpy as np
import scipy
import sklearn
from scipy import sparse

from ..ngrams import NgramLogit
from .confidence import ConfidenceModel
from .field_match import FieldMatcher
from .passage_classifier import ARRAY_NAMES as CLASSIFIER_ARRAYS
from .passage_classifier import PassageClassifier
from .passage_index import PassageIndex
from .spelling import SpellingMatcher
from .tables import PassageTable, StringTable, TermRows, TermTable
from .verification import first_mismatch, sha256_of

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
_STRINGS = ("blob", "offsets")
_TERMS = ("blob", "offsets", "hashes", "ids")
_CSR = ("indptr", "indices", "data")
_FIELD = ("idf", *_CSR, "owners")
# Every array of an index, as "<group>.<array>"; each is the file "<name>.npy".
ARRAYS = (
    *(f"passages.{a}" for a in _STRINGS), *(f"passage_ids.{a}" for a in _TERMS),
    *(f"vocabulary.{a}" for a in _TERMS), "idf", *(f"postings.{a}" for a in _CSR),
    *(f"sentences.{a}" for a in (*_CSR, "spans", "starts")), "states_quantity",
    *(f"definitions.terms.{a}" for a in _TERMS), "definitions.indptr", "definitions.rows",
    *(f"spelling.words.{a}" for a in _STRINGS), *(f"spelling.grams.{a}" for a in _TERMS),
    *(f"spelling.{a}" for a in ("idf", *_CSR)),
    *(f"{field}.terms.{a}" for field in ("questions", "answers") for a in _TERMS),
    *(f"{field}.{a}" for field in ("questions", "answers") for a in _FIELD),
)
DATA_FILES = (*(f"{name}.npy" for name in ARRAYS), "confidence.json")
UNANSWERED_LIKE = "unanswered_like.json"   # optional: checked when the manifest lists it
CLASSIFIER_FILES = tuple(f"passage_classifier.{name}.npy" for name in CLASSIFIER_ARRAYS)  # optional, the same


class IndexLoadError(Exception):
    """The folder is not a usable index (missing, corrupt or another format)."""


def library_versions() -> dict[str, str]:
    from .. import __version__
    return {"chatbot": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "scikit-learn": sklearn.__version__, "nltk": nltk.__version__}


def _grouped(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}.{name}": array for name, array in arrays.items()}


def _csr_arrays(prefix: str, matrix: sparse.csr_matrix) -> dict[str, np.ndarray]:
    return _grouped(prefix, {"indptr": matrix.indptr, "indices": matrix.indices, "data": matrix.data})


def _index_arrays(index: PassageIndex) -> dict[str, np.ndarray]:
    """Every array of `index`, named as in ARRAYS."""
    passages = index.passages_ if isinstance(index.passages_, PassageTable) else PassageTable.of(index.passages_)
    spelling = index.spelling_
    words = spelling.words_ if isinstance(spelling.words_, StringTable) else StringTable.of(spelling.words_)
    arrays = {**_grouped("passages", passages.lines.arrays()), **_grouped("passage_ids", index.passage_ids_.arrays()),
              **_grouped("vocabulary", index.vocabulary_.arrays()), "idf": index.idf_,
              **_csr_arrays("postings", index.postings_), **_csr_arrays("sentences", index.sentence_postings_),
              "sentences.spans": index.sentence_spans_, "sentences.starts": index.sentence_starts_,
              "states_quantity": index.states_quantity_,
              **_grouped("definitions.terms", index.definitions_.terms.arrays()),
              "definitions.indptr": index.definitions_.indptr, "definitions.rows": index.definitions_.rows,
              **_grouped("spelling.words", words.arrays()), **_grouped("spelling.grams", spelling.grams_.arrays()),
              "spelling.idf": spelling.idf_, **_csr_arrays("spelling", spelling.postings_)}
    for name, matcher in (("questions", index.question_match_), ("answers", index.answer_match_)):
        arrays.update(_grouped(f"{name}.terms", matcher.vocabulary_.arrays()))
        arrays.update({f"{name}.idf": matcher.idf_, f"{name}.owners": matcher.owners_,
                       **_csr_arrays(name, matcher.postings_)})
    return arrays


def save_index(index: PassageIndex, folder: str | Path, info: dict | None = None) -> dict:
    """Write `index` into `folder` (created; must not hold another index). Returns the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = _index_arrays(index)
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(arrays[name]), allow_pickle=False)
    (folder / "confidence.json").write_text(json.dumps(index.confidence_.to_dict(), indent=1), encoding="utf-8")
    files = DATA_FILES
    if index.unanswered_like_ is not None:
        (folder / UNANSWERED_LIKE).write_text(json.dumps(index.unanswered_like_.to_json(), separators=(",", ":")),
                                              encoding="utf-8")
        files = (*files, UNANSWERED_LIKE)
    if index.passage_classifier_ is not None:
        for name, array in index.passage_classifier_.arrays().items():
            np.save(folder / f"passage_classifier.{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        files = (*files, *CLASSIFIER_FILES)
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": index.get_params(),
        "libraries": library_versions(),
        "counts": {"passages": len(index.passages_), "vocabulary": len(index.vocabulary_),
                   "postings": int(index.postings_.nnz), "spelling_words": len(index.spelling_.words_)},
        **(info or {}),
        "files": {name: sha256_of(folder / name) for name in files},
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


# np.load parses each .npy header with ast.literal_eval, and CPython 3.11
# (3.11.7 here) can raise "SystemError: AST constructor recursion depth
# mismatch" when two threads parse at once (gh-106905): loads take turns.
_HEADER_LOCK = threading.Lock()


def _map(path: Path) -> np.ndarray:
    """The array in `path`, memory-mapped read-only (shared by every process that maps it).

    Returned as a plain ndarray view of the np.memmap: the same pages, without
    the subclass's Python-level overhead on every indexing (4 times a lookup).
    """
    with _HEADER_LOCK:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.dtype.hasobject:
        raise ValueError(f"{path.name} holds Python objects")
    return np.asarray(array)


def _csr(arrays: dict, prefix: str, n_columns: int) -> sparse.csr_matrix:
    """A CSR matrix over mapped arrays (no copy: scipy keeps int32/int64 index arrays as they are)."""
    indptr, indices, data = (arrays[f"{prefix}.{name}"] for name in _CSR)
    if indptr.ndim != 1 or len(indptr) < 1 or int(indptr[0]) != 0 or int(indptr[-1]) != len(indices):
        raise ValueError(f"{prefix}: CSR arrays disagree")
    if len(indices) != len(data):
        raise ValueError(f"{prefix}: CSR arrays disagree")
    return sparse.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n_columns), copy=False)


def _terms(arrays: dict, prefix: str) -> TermTable:
    return TermTable(*(arrays[f"{prefix}.{name}"] for name in _TERMS))


def _strings(arrays: dict, prefix: str) -> StringTable:
    return StringTable(*(arrays[f"{prefix}.{name}"] for name in _STRINGS))


def _matcher(arrays: dict, name: str, n_passages: int) -> FieldMatcher:
    terms = _terms(arrays, f"{name}.terms")
    owners = arrays[f"{name}.owners"]
    return FieldMatcher(terms, arrays[f"{name}.idf"], _csr(arrays, name, len(owners)), owners, n_passages)


def _matcher_fits(matcher: FieldMatcher, n_passages: int) -> bool:
    """A field's matrix, idf and owners agree with each other and the passages."""
    if not len(matcher.owners_):
        return True
    return (matcher.postings_.shape == (len(matcher.vocabulary_), len(matcher.owners_))
            and len(matcher.idf_) == len(matcher.vocabulary_) and int(matcher.owners_.max()) < n_passages)


def _assemble(arrays: dict, manifest: dict, folder: Path) -> PassageIndex:
    """A PassageIndex over the mapped arrays."""
    index = PassageIndex(**manifest["settings"])
    index.passages_ = PassageTable(_strings(arrays, "passages"))
    n = len(index.passages_)
    index.passage_ids_ = _terms(arrays, "passage_ids")
    index.vocabulary_ = _terms(arrays, "vocabulary")
    index.idf_ = arrays["idf"]
    index.postings_ = _csr(arrays, "postings", n)
    index.sentence_spans_ = arrays["sentences.spans"]
    index.sentence_starts_ = arrays["sentences.starts"]
    index.sentence_postings_ = _csr(arrays, "sentences", len(index.sentence_spans_))
    index.states_quantity_ = arrays["states_quantity"]
    index.definitions_ = TermRows(_terms(arrays, "definitions.terms"), arrays["definitions.indptr"],
                                  arrays["definitions.rows"])
    spelling = SpellingMatcher()
    spelling.words_ = _strings(arrays, "spelling.words")
    spelling._set_learned(_terms(arrays, "spelling.grams"), arrays["spelling.idf"],
                          _csr(arrays, "spelling", len(spelling.words_)))
    index.spelling_ = spelling
    index.confidence_ = ConfidenceModel.from_dict(json.loads((folder / "confidence.json").read_text("utf-8")))
    index.question_match_, index.answer_match_ = (_matcher(arrays, name, n) for name in ("questions", "answers"))
    index.unanswered_like_ = (NgramLogit.from_json(json.loads((folder / UNANSWERED_LIKE).read_text("utf-8")))
                              if UNANSWERED_LIKE in (manifest.get("files") or {}) else None)
    index.passage_classifier_ = (
        PassageClassifier.from_arrays({name: _map(folder / f"passage_classifier.{name}.npy")
                                       for name in CLASSIFIER_ARRAYS})
        if CLASSIFIER_FILES[0] in (manifest.get("files") or {}) else None)
    return index


def _consistent(index: PassageIndex) -> bool:
    """The arrays agree on their sizes (a truncated or mixed-up folder does not)."""
    n_terms, n_passages = index.postings_.shape
    spelling = index.spelling_
    return (n_terms == len(index.vocabulary_) == len(index.idf_) and n_passages == len(index.passage_ids_)
            and len(index.sentence_spans_) == index.sentence_postings_.shape[1]
            and index.sentence_postings_.shape[0] == n_terms and len(index.sentence_starts_) == n_passages
            and index.sentence_spans_.ndim == 2 and len(index.states_quantity_) == n_passages
            and index.states_quantity_.dtype == bool
            and len(index.definitions_.indptr) == len(index.definitions_.terms) + 1
            and spelling.postings_.shape[0] == len(spelling.grams_) == len(spelling.idf_)
            and all(_matcher_fits(m, n_passages) for m in (index.question_match_, index.answer_match_)))


def load_index(folder: str | Path, verify: bool = True,
               record: Path | None = None) -> tuple[PassageIndex, dict]:
    """(index, manifest) read from `folder`; IndexLoadError if anything does not check out.

    The arrays are memory-mapped, not copied: the files must stay in place
    while the index is used (versions are never changed once written).
    `verify` checks every file against its SHA-256 in the manifest first;
    with a `record` (verification.py), files this server has already found
    whole and that are unchanged since are not hashed again.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    files = manifest.get("files") or {}
    listed = files if isinstance(files, dict) else {}
    names = (*DATA_FILES, *(name for name in (UNANSWERED_LIKE, *CLASSIFIER_FILES) if name in listed))
    for name in names:
        if not (folder / name).is_file():
            raise IndexLoadError(f"{folder}: missing data file {name}")
    if verify:
        try:
            corrupt = first_mismatch(folder, names, files if isinstance(files, dict) else {}, record)
        except OSError as exc:  # removed or unreadable since it was found
            raise IndexLoadError(f"{folder}: cannot read index data ({exc})") from None
        if corrupt is not None:
            raise IndexLoadError(f"{folder}: {corrupt} does not match its checksum; the index is corrupt")
    try:
        arrays = {name: _map(folder / f"{name}.npy") for name in ARRAYS}
        index = _assemble(arrays, manifest, folder)
        consistent = _consistent(index)
    except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, AttributeError) as exc:
        raise IndexLoadError(f"{folder}: cannot read index data ({exc})") from None
    if not consistent:
        raise IndexLoadError(f"{folder}: index files disagree on their sizes; rebuild with train.py")
    index._prepare()
    return index, manifest
