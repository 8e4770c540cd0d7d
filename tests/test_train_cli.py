"""train.py as staff run it: exit status, what it prints, what it publishes.

The main paths run train.py in a separate process, as staff do; the other
cases call its main() in this process, because each new process spends most of
its time importing NLTK and scikit-learn.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.index.store import IndexStore
from scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAIN = REPO_ROOT / "train.py"
DEV_FILE = Path(__file__).resolve().parent / "data" / "dev.jsonl"

ARTICLE = ("# Needles\n\nAcupuncture needles are very fine, and most patients feel only a brief "
           "prick followed by a dull warmth around the point while they stay in place.\n")
FAQ = ("question,answer,alternates\n"
       "How long does a session last?,A typical session lasts thirty to forty minutes.,"
       "Session length?\n")


DATABASE = {}


@pytest.fixture(autouse=True)
def train_database(tmp_path):
    """Every run of train.py here uses a database of its own, never the project's instance/."""
    DATABASE["url"] = f"sqlite:///{tmp_path / 'train.db'}"
    yield DATABASE["url"]
    DATABASE.clear()


def with_database(args) -> list[str]:
    args = [str(a) for a in args]
    return args if "--help" in args else [*args, "--database-url", DATABASE["url"]]


def run_train(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return subprocess.run([sys.executable, str(TRAIN), *with_database(args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def train_main(monkeypatch):
    """train.main, loaded from the script, with the CHATBOT_* environment cleared."""
    for name in [k for k in os.environ if k.startswith("CHATBOT_")]:
        monkeypatch.delenv(name)
    module = load_script("train.py")
    return lambda *args: module.main(with_database(args))


def report_number(stdout: str, label: str) -> float:
    match = re.search(rf"^{re.escape(label)}\s+([0-9.]+)", stdout, re.M)
    assert match, f"no {label!r} line in:\n{stdout}"
    return float(match.group(1))


def assert_clean_error(run: subprocess.CompletedProcess, status: int = 1) -> None:
    assert run.returncode == status, run.stderr
    assert run.stderr.startswith("error: ")
    assert "Traceback" not in run.stderr + run.stdout


def test_help_exits_zero_and_names_the_options():
    run = run_train("--help")
    assert run.returncode == 0
    for option in ("--corpus", "--out", "--eval", "--strict", "--keep"):
        assert option in run.stdout


def test_tiny_corpus_is_built_reported_and_published(make_corpus, tmp_path):
    corpus = make_corpus({"needles.md": ARTICLE, "faq.csv": FAQ})
    out = tmp_path / "index"
    run = run_train("--corpus", corpus, "--out", out, "--publish")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    store = IndexStore(out)
    version = store.current()
    assert version is not None and version in run.stdout
    index, manifest = store.load()
    assert report_number(run.stdout, "documents") == 2
    assert report_number(run.stdout, "passages") == len(index.passages_)
    assert manifest["counts"]["passages"] == len(index.passages_)
    assert report_number(run.stdout, "vocabulary") == len(index.vocabulary_)
    assert report_number(run.stdout, "seconds") >= 0
    assert manifest["build"]["documents"] == 2
    assert manifest["corpus"]["path"] == str(corpus)
    assert "faq" in {h.passage.source.doc_id for h in index.search("how long is a session", 3)}


@pytest.fixture
def published(make_corpus, tmp_path, train_main):
    """(corpus, index folder, version): a one-article corpus built and published with train.py."""
    corpus = make_corpus({"needles.md": ARTICLE})
    out = tmp_path / "index"
    assert train_main("--corpus", corpus, "--out", out, "--publish") == 0
    return corpus, out, IndexStore(out).current()


def test_second_build_publishes_a_new_version_and_keeps_the_old_one(published, train_main):
    corpus, out, first = published
    (corpus / "faq.csv").write_text(FAQ, encoding="utf-8")
    assert train_main("--corpus", corpus, "--out", out, "--publish") == 0
    store = IndexStore(out)
    assert store.current() != first
    assert first in {v.version for v in store.versions()}


def test_missing_corpus_folder_exits_with_an_error_and_no_traceback(tmp_path):
    run = run_train("--corpus", tmp_path / "no-such-folder", "--out", tmp_path / "index")
    assert_clean_error(run)
    assert "no-such-folder" in run.stderr
    assert IndexStore(tmp_path / "index").current() is None


def test_corpus_without_any_usable_passage_exits_with_an_error(make_corpus, tmp_path, train_main,
                                                               capsys):
    status = train_main("--corpus", make_corpus({"scan.pdf": b"%PDF"}), "--out", tmp_path / "index")
    assert status == 1
    assert capsys.readouterr().err.startswith("error: no passages")


def test_eval_prints_hit_at_1_hit_at_3_and_mrr(tmp_path):
    run = run_train("--eval", DEV_FILE, "--out", tmp_path / "index")
    assert run.returncode == 0, run.stderr
    lines = DEV_FILE.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    answerable = sum(1 for r in records if r["expect"] == "answer" and r["phrases"])
    assert report_number(run.stdout, "answerable questions:") == answerable
    figures = {label: report_number(run.stdout, label) for label in ("hit@1", "hit@3", "MRR@10")}
    assert all(0.0 <= value <= 1.0 for value in figures.values())
    assert figures["hit@1"] <= figures["hit@3"]
    assert figures["hit@1"] <= figures["MRR@10"]


@pytest.mark.parametrize("content, fragment", [
    (None, "No such file"),
    ('{"q": "Does it hurt?"}\n', "dev.jsonl:1"),
])
def test_unusable_eval_file_exits_with_an_error_before_building(make_corpus, tmp_path, train_main,
                                                                capsys, content, fragment):
    eval_file = tmp_path / "dev.jsonl"
    if content is not None:
        eval_file.write_text(content, encoding="utf-8")
    status = train_main("--corpus", make_corpus({"needles.md": ARTICLE}), "--out", tmp_path / "index",
                        "--eval", eval_file)
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert fragment in err
    assert not (tmp_path / "index").exists()


def test_strict_build_with_one_bad_file_exits_naming_the_file(make_corpus, tmp_path):
    corpus = make_corpus({"needles.md": ARTICLE, "faq.csv": FAQ,
                          "broken.md": "---\ntitle: Broken\nkind: blogpost\n---\n" + ARTICLE})
    run = run_train("--corpus", corpus, "--out", tmp_path / "index", "--strict")
    assert_clean_error(run)
    assert "broken.md:3" in run.stderr
    assert IndexStore(tmp_path / "index").current() is None


def test_bad_file_without_strict_is_a_warning_and_the_rest_is_published(make_corpus, tmp_path,
                                                                        train_main, capsys):
    corpus = make_corpus({"needles.md": ARTICLE, "faq.csv": FAQ,
                          "broken.md": "---\ntitle: Broken\nkind: blogpost\n---\n" + ARTICLE})
    assert train_main("--corpus", corpus, "--out", tmp_path / "index", "--publish") == 0
    out, err = capsys.readouterr()
    assert re.search(r"^warning: broken\.md:3: ", err, re.M)
    assert report_number(out, "documents") == 2
    assert IndexStore(tmp_path / "index").current() is not None


def test_keep_below_one_exits_with_status_two(tmp_path, train_main, capsys):
    assert train_main("--out", tmp_path / "index", "--keep", "0") == 2
    assert capsys.readouterr().err.startswith("error: --keep")
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("args", [("--keep", "many"), ("--no-such-option",)])
def test_wrong_arguments_exit_with_status_two(tmp_path, args):
    run = run_train("--out", tmp_path / "index", *args)
    assert run.returncode == 2
    assert "error" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "index").exists()


def test_without_publish_the_build_is_a_candidate_and_nothing_changes_for_visitors(published, train_main,
                                                                                 capsys):
    corpus, out, live = published
    assert train_main("--corpus", corpus, "--out", out) == 0
    assert "candidate" in capsys.readouterr().out
    assert IndexStore(out).current() == live


def test_list_versions_and_rollback(published, train_main, capsys):
    corpus, out, first = published
    (corpus / "faq.csv").write_text(FAQ, encoding="utf-8")
    assert train_main("--corpus", corpus, "--out", out, "--publish") == 0
    second = IndexStore(out).current()
    capsys.readouterr()
    assert train_main("--out", out, "--list-versions") == 0
    listing = capsys.readouterr().out
    assert first in listing and second in listing and "PUBLISHED" in listing.split(second)[1].split("\n")[0]
    assert train_main("--out", out, "--rollback", first) == 0
    assert IndexStore(out).current() == first
    assert train_main("--out", out, "--rollback", "no-such-version") == 1
