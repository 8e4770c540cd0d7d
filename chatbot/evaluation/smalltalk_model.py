"""Choose the learned smalltalk model's C and threshold on smalltalk nobody had read.

    python -m chatbot.evaluation.smalltalk_model [--data DIR]

Run inside the project's git clone: it reads old versions of the corpus'
files with `git show`. Each judge is a set of smalltalk written blind and
the commit whose smalltalk.txt and questions.txt were in the project before
that set's misses were read (JUDGES). For each C, a model is fitted from each
judge's old files (chatbot/answer/smalltalk_model.py, as a build does) and
its judge's messages are counted: recognised by the file's wordings, and by
the wordings or the model (with the right section). The model alone is also
asked about every other labelled message (the questions of the question sets
but fresh-9, the judge kept for last, the blind sets' lookalikes and the
out-of-scope set) and, when DIR holds them, about CovidFAQ-dev, StackFAQ and
MedQuAD questions: each one it calls smalltalk (and the wordings do not) is
a false smalltalk. In the chatbot the model is asked only when retrieval
would not answer, so these counts are an upper bound.

The choice: the most judged smalltalk recognised with false smalltalk at
most MAX_FALSE of the other messages, with every judge's model.
"""
from __future__ import annotations

import argparse
import gzip
import json
import subprocess
from pathlib import Path

from ..answer.smalltalk import MAX_MESSAGE_WORDS, Smalltalk
from ..answer.smalltalk_model import NOT_SMALLTALK, fit_smalltalk_model
from ..ngrams import token_count
from ..passages.questions_file import parse_questions
from .suites import ROOT

DATA = ROOT / "tests" / "data"
# (name, the commit before the set's misses were read, files); smalltalk messages are the
# rows with "smalltalk" (blind sets, a section name) or "expect": "smalltalk" (question sets).
JUDGES = (
    ("blind 1-2", "ecc58df^", ("smalltalk_blind.jsonl", "smalltalk_blind2.jsonl")),
    ("blind 3", "aafd008^", ("smalltalk_blind3.jsonl",)),
    ("blind 4", "3f89921^", ("smalltalk_blind4.jsonl",)),
    ("blind 5", "5e99be4^", ("smalltalk_blind5.jsonl",)),
    ("fresh 7-8", "035ca7d^", ("fresh7.jsonl", "fresh8.jsonl")),
    ("now", "HEAD", ()),   # today's files: no judge left, but their model is the one shipped
)
LAST_JUDGE = "fresh9.jsonl"   # never used to choose
CS = (0.5, 1.0, 2.0)
THRESHOLDS = (0.85, 0.9, 0.92, 0.94, 0.96)
MAX_FALSE = 0.001


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _text(row: dict) -> str:
    return row.get("message") or row.get("q") or row.get("question") or ""


def _git_show(commit: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def smalltalk_rows(names) -> list[tuple[str, str | None]]:
    """(message, section or None when the set names none) of the smalltalk of the files `names`."""
    rows = []
    for name in names:
        for row in _jsonl(DATA / name):
            if row.get("smalltalk"):
                rows.append((_text(row), row["smalltalk"]))
            elif row.get("expect") == "smalltalk":
                rows.append((_text(row), None))
    return rows


def other_messages(data_dir: Path | None) -> tuple[list[str], list[str]]:
    """(labelled messages that are not smalltalk, unlabelled questions of the FAQ data)."""
    labelled = []
    for path in sorted(DATA.glob("*.jsonl")):
        if path.name == LAST_JUDGE or path.name.startswith(("heldout_", "urgent_")):
            continue
        labelled += [_text(row) for row in _jsonl(path)
                     if not row.get("smalltalk") and row.get("expect") != "smalltalk"]
    unlabelled = []
    if data_dir is not None:
        covid, stack, medquad = (data_dir / n for n in ("covidfaq-dev.json", "stackfaq.json", "medquad.jsonl.gz"))
        if covid.is_file():
            unlabelled += [q["query"] for q in json.loads(covid.read_text(encoding="utf-8"))["queries"]]
        if stack.is_file():
            data = json.loads(stack.read_text(encoding="utf-8"))
            pairs = data["root"]["qapair"] if isinstance(data, dict) else data
            unlabelled += [r for pair in pairs for r in pair.get("rephr") or [] if r and len(r.strip()) > 1]
        if medquad.is_file():
            with gzip.open(medquad, "rt", encoding="utf-8") as handle:
                unlabelled += [json.loads(line)["question"] for line in handle]
    return [t for t in labelled if t], unlabelled


def fitted(smalltalk_text: str, questions_text: str, c: float):
    smalltalk, _ = Smalltalk.from_text(smalltalk_text)
    sections, _ = parse_questions(questions_text)
    questions = list(dict.fromkeys(w for s in sections for w in s.wordings))
    return smalltalk, fit_smalltalk_model(smalltalk, smalltalk_text, questions, c=c, threshold=0.0)


def smalltalk_probability(model, smalltalk: Smalltalk, message: str) -> tuple[float, str | None]:
    """(1 - P(not smalltalk), the most probable section) of the model; (0, None) for long messages."""
    text = smalltalk.canonical_text(message)
    if not text or token_count(text) > MAX_MESSAGE_WORDS:   # the model is not asked (SmalltalkModel.classify)
        return 0.0, None
    probabilities = model.probabilities(text)
    section = max((p, name) for name, p in probabilities.items() if name != NOT_SMALLTALK)[1]
    return 1.0 - probabilities.get(NOT_SMALLTALK, 0.0), section


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder with covidfaq-dev.json, stackfaq.json, medquad.jsonl.gz (more questions)")
    args = parser.parse_args(argv)
    labelled, unlabelled = other_messages(args.data if args.data.is_dir() else None)
    print(f"other messages: {len(labelled)} labelled, {len(unlabelled)} unlabelled")
    results = {}
    for c in CS:
        for name, commit, files in JUDGES:
            smalltalk_text = _git_show(commit, "corpus/smalltalk.txt")
            smalltalk, model = fitted(smalltalk_text, _git_show(commit, "corpus/questions.txt"), c)
            judged = []
            for message, section in smalltalk_rows(files):
                rule = smalltalk.classify(message)
                p, intent = smalltalk_probability(model, smalltalk, message)
                judged.append((rule is not None and (section is None or rule.intent == section),
                               p, section is None or intent == section))
            others = [smalltalk_probability(model, smalltalk, t)[0] for t in labelled if smalltalk.classify(t) is None]
            wider = [smalltalk_probability(model, smalltalk, t)[0] for t in unlabelled
                     if smalltalk.classify(t) is None]
            results[c, name] = (judged, others, wider)
    print("| C | threshold | " + " | ".join(name for name, _, _ in JUDGES) + " | all | false (labelled) | "
          "false (unlabelled) |")
    print("|---|---|" + "---|" * (len(JUDGES) + 3))
    best = None
    for c in CS:
        rules = [sum(ok for ok, _, _ in results[c, name][0]) for name, _, _ in JUDGES]
        if c == CS[0]:
            sizes = [len(results[c, name][0]) for name, _, _ in JUDGES]
            print("| | wordings only | " + " | ".join(f"{r}/{n}" for r, n in zip(rules, sizes, strict=True))
                  + f" | {sum(rules)}/{sum(sizes)} | | |")
        for threshold in THRESHOLDS:
            got = [sum(ok or (p >= threshold and right) for ok, p, right in results[c, name][0])
                   for name, _, _ in JUDGES]
            false = max(sum(p >= threshold for p in results[c, name][1]) for name, _, _ in JUDGES)
            wide = max(sum(p >= threshold for p in results[c, name][2]) for name, _, _ in JUDGES)
            print(f"| {c} | {threshold} | " + " | ".join(map(str, got)) + f" | {sum(got)} | "
                  f"{false}/{len(labelled)} | {wide}/{len(unlabelled)} |")
            allowed = false <= MAX_FALSE * len(labelled) and wide <= MAX_FALSE * max(1, len(unlabelled))
            if allowed and (best is None or sum(got) > best[0]):
                best = (sum(got), c, threshold)
    print("chosen: " + (f"C {best[1]}, threshold {best[2]}" if best else "none within the false-smalltalk limit"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
