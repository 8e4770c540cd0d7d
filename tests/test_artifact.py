"""Saving and loading an index folder: round trip, self-description, refusal of bad folders."""
from __future__ import annotations

import hashlib
import json
import math
import mmap
import platform
from itertools import pairwise

import nltk
import numpy as np
import pytest
import scipy
import sklearn

import chatbot
from chatbot.index import PassageIndex
from chatbot.index.artifact import (
    CLASSIFIER_FILES,
    DATA_FILES,
    FORMAT_VERSION,
    MANIFEST,
    UNANSWERED_LIKE,
    IndexLoadError,
    load_index,
    read_manifest,
    save_index,
)
from chatbot.index.tables import PassageTable, TermTable


def ranked(index, query, k=10):
    return [(hit.passage.id, hit.score) for hit in index.search(query, k)]


def flip_bytes(path, offset=None, count=8):
    """Invert `count` bytes in the middle of a file (or at `offset`)."""
    data = bytearray(path.read_bytes())
    start = len(data) // 2 if offset is None else offset
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def rewrite_manifest(folder, **changes):
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(changes)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture
def saved(tmp_path, topic_index):
    folder = tmp_path / "index"
    save_index(topic_index, folder)
    return folder


@pytest.fixture(scope="module")
def saved_default(tmp_path_factory, default_index):
    folder = tmp_path_factory.mktemp("default") / "index"
    manifest = save_index(default_index, folder, {"note": "test build"})
    return folder, manifest


def test_round_trip_gives_identical_results_for_every_dev_question(saved_default, default_index,
                                                                   dev_questions):
    loaded, _ = load_index(saved_default[0])
    assert len(dev_questions) > 10
    for query in dev_questions:
        assert ranked(loaded, query) == ranked(default_index, query), query


@pytest.mark.parametrize("query", ["acupunture", "side efects", "cuping", "pins and needles",
                                   "cupping back muscles", "what is cupping?",
                                   "how many sessions are needed?", "what is the"])
def test_round_trip_keeps_typo_and_plain_matching(saved, topic_index, query):
    loaded, _ = load_index(saved)
    assert ranked(loaded, query) == ranked(topic_index, query)


def test_round_trip_keeps_faq_questions_alternates_and_sections(tmp_path, make_passage):
    passages = [
        make_passage("faq", "A typical session lasts thirty to forty minutes.",
                     question="How long does a session last?", alternates=("Session length?",)),
        make_passage("guide", "Wear loose clothing so the practitioner can reach your lower back.",
                     section="Preparing for a visit"),
        make_passage("guide", "Eat a light meal an hour or two before the appointment.",
                     section="Preparing for a visit"),
    ]
    index = PassageIndex().fit(passages)
    save_index(index, tmp_path / "index")
    loaded, _ = load_index(tmp_path / "index")
    assert loaded.passages_ == passages
    for query in ("session length", "how long is a session", "preparing for a visit", "clothing"):
        assert ranked(loaded, query) == ranked(index, query)
        assert ranked(loaded, query)


def test_round_trip_keeps_passages_vocabulary_and_settings(saved_default, default_index):
    loaded, _ = load_index(saved_default[0])
    assert [p.to_dict() for p in loaded.passages_] == [p.to_dict() for p in default_index.passages_]
    assert loaded.vocabulary_ == default_index.vocabulary_
    assert np.array_equal(loaded.idf_, default_index.idf_)
    assert (loaded.postings_ != default_index.postings_).nnz == 0
    assert loaded.spelling_.words_ == default_index.spelling_.words_
    expected_settings = json.loads(json.dumps(default_index.get_params()))
    assert json.loads(json.dumps(loaded.get_params())) == expected_settings


def test_manifest_describes_format_settings_libraries_and_counts(saved_default, default_index):
    folder, returned = saved_default
    manifest = read_manifest(folder)
    assert manifest == json.loads(json.dumps(returned))  # on disk as returned (tuples become lists)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["settings"] == json.loads(json.dumps(default_index.get_params()))
    assert manifest["libraries"] == {
        "chatbot": chatbot.__version__, "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__, "nltk": nltk.__version__,
    }
    assert manifest["counts"] == {
        "passages": len(default_index.passages_),
        "vocabulary": len(default_index.vocabulary_),
        "postings": int(default_index.postings_.nnz),
        "spelling_words": len(default_index.spelling_.words_),
    }
    assert manifest["note"] == "test build"
    assert manifest["created_at"]


def test_manifest_records_the_checksum_of_every_data_file(saved_default):
    folder, manifest = saved_default
    # The default corpus lists both kinds of questions and writes questions for its passages,
    # so its index has both optional models.
    assert set(manifest["files"]) == {*DATA_FILES, UNANSWERED_LIKE, *CLASSIFIER_FILES}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_index_folder_needs_no_pickle(saved_default, default_index):
    folder, _ = saved_default
    arrays = sorted(folder.glob("*.npy"))
    assert {p.name for p in arrays} == {n for n in (*DATA_FILES, *CLASSIFIER_FILES) if n.endswith(".npy")}
    for path in arrays:
        assert np.load(path, allow_pickle=False).dtype != object, path.name
    for path in folder.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    blob = np.load(folder / "passages.blob.npy").tobytes()
    offsets = np.load(folder / "passages.offsets.npy")
    lines = [json.loads(blob[a:b]) for a, b in pairwise(offsets)]
    assert lines == [p.to_dict() for p in default_index.passages_]
    assert {p.name for p in folder.iterdir()} == {*DATA_FILES, *CLASSIFIER_FILES, UNANSWERED_LIKE, MANIFEST}


def _mapped(array) -> bool:
    """True when `array` is a view of a memory-mapped file."""
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_loaded_index_maps_its_arrays_instead_of_copying_them(saved_default):
    loaded, _ = load_index(saved_default[0])
    matrices = (loaded.postings_, loaded.sentence_postings_, loaded.spelling_.postings_,
                loaded.question_match_.postings_, loaded.answer_match_.postings_)
    for matrix in matrices:
        for array in (matrix.indptr, matrix.indices, matrix.data):
            assert _mapped(array)
    assert _mapped(loaded.idf_) and _mapped(loaded.sentence_spans_) and _mapped(loaded.states_quantity_)


def test_loaded_index_looks_terms_up_without_a_dict_per_process(saved_default, default_index):
    loaded, _ = load_index(saved_default[0])
    assert isinstance(loaded.vocabulary_, TermTable) and not isinstance(loaded.vocabulary_, dict)
    assert isinstance(loaded.passages_, PassageTable)
    for term, column in list(default_index.vocabulary_.items())[::97]:
        assert loaded.vocabulary_[term] == column
    assert loaded.vocabulary_.get("no such term here") is None
    assert loaded.passages_[5] == default_index.passages_[5]


@pytest.mark.parametrize("name", DATA_FILES)
def test_corrupt_data_file_is_refused(saved, name):
    flip_bytes(saved / name)
    with pytest.raises(IndexLoadError, match=name.replace(".", r"\.")) as caught:
        load_index(saved)
    assert "corrupt" in str(caught.value)


def test_corrupt_postings_file_is_refused(saved):
    flip_bytes(saved / "postings.data.npy", offset=20)  # inside the array's header
    with pytest.raises(IndexLoadError, match=r"postings\.data\.npy"):
        load_index(saved)


@pytest.mark.parametrize("name", ["postings.data.npy", "vocabulary.hashes.npy", "passages.offsets.npy"])
def test_corrupt_array_header_is_refused_without_checksum_verification(saved, name):
    flip_bytes(saved / name, offset=12)  # the header's text: not a readable array any more
    with pytest.raises(IndexLoadError, match="cannot read index data"):
        load_index(saved, verify=False)


@pytest.mark.parametrize("name", ["postings.data.npy", "passages.blob.npy", "sentences.spans.npy"])
def test_truncated_array_is_refused_without_checksum_verification(saved, name):
    data = (saved / name).read_bytes()
    (saved / name).write_bytes(data[:len(data) - 16])
    with pytest.raises(IndexLoadError, match="cannot read index data"):
        load_index(saved, verify=False)


def test_files_that_disagree_on_sizes_are_refused_without_checksum_verification(saved):
    idf = np.load(saved / "idf.npy")
    np.save(saved / "idf.npy", idf[:-1])
    with pytest.raises(IndexLoadError, match="sizes"):
        load_index(saved, verify=False)


@pytest.mark.parametrize("name", DATA_FILES)
def test_missing_data_file_is_refused(saved, name):
    (saved / name).unlink()
    with pytest.raises(IndexLoadError, match=f"missing data file {name}"):
        load_index(saved)


def test_the_unanswered_questions_model_is_saved_checked_and_optional(tmp_path, default_index, topic_index):
    folder = tmp_path / "default"
    save_index(default_index, folder)
    loaded, _ = load_index(folder)
    assert loaded.unanswered_like_ == default_index.unanswered_like_ is not None
    query = "do you take bupa"
    hits = loaded.search(query, 10)
    assert loaded.answer_features(query, hits) == default_index.answer_features(query, hits)
    flip_bytes(folder / UNANSWERED_LIKE, count=2)
    with pytest.raises(IndexLoadError, match="corrupt"):
        load_index(folder)
    # An index with no questions listed as answered by no passage has no model and no file;
    # so had every index saved before the model existed: it loads, and the signal is unknown.
    bare = tmp_path / "bare"
    save_index(topic_index, bare)
    assert topic_index.unanswered_like_ is None and not (bare / UNANSWERED_LIKE).exists()
    old, _ = load_index(bare)
    assert old.unanswered_like_ is None
    assert math.isnan(old.answer_features("what is qi", old.search("what is qi"))["unanswered_like"])


def test_folder_without_manifest_is_refused(saved):
    (saved / MANIFEST).unlink()
    with pytest.raises(IndexLoadError, match=r"no manifest\.json"):
        load_index(saved)


def test_folder_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(IndexLoadError, match="not an index"):
        load_index(tmp_path / "nowhere")


@pytest.mark.parametrize("version", [0, FORMAT_VERSION + 1, str(FORMAT_VERSION), None])
def test_manifest_of_another_format_version_is_refused(saved, version):
    rewrite_manifest(saved, format_version=version)
    with pytest.raises(IndexLoadError) as caught:
        load_index(saved)
    message = str(caught.value)
    assert f"format version {version!r}" in message
    assert f"reads version {FORMAT_VERSION}" in message
    assert "train.py" in message


def test_manifest_without_format_version_is_refused(saved):
    manifest = json.loads((saved / MANIFEST).read_text(encoding="utf-8"))
    del manifest["format_version"]
    (saved / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="format version None"):
        load_index(saved)


@pytest.mark.parametrize("content, expected", [
    (b"this is not json {", "unreadable manifest"),
    (b"", "unreadable manifest"),
    (b"\xff\xfe\x00garbage", "unreadable manifest"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b'"format_version"', "not a JSON object"),
])
def test_manifest_that_is_not_a_json_object_is_refused(saved, content, expected):
    (saved / MANIFEST).write_bytes(content)
    with pytest.raises(IndexLoadError, match=expected) as caught:
        load_index(saved)
    assert MANIFEST in str(caught.value)


def test_manifest_with_unknown_setting_is_refused(saved):
    manifest = json.loads((saved / MANIFEST).read_text(encoding="utf-8"))
    rewrite_manifest(saved, settings={**manifest["settings"], "bm25_k1": 1.2})
    with pytest.raises(IndexLoadError, match="cannot read index data"):
        load_index(saved)
