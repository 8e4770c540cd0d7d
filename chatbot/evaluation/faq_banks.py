"""FAQ benchmarks (StackFAQ, CovidFAQ) read as FAQ banks with labelled queries.

A bank goes through the same code path as a clinic's FAQ file: it is written
as a CSV into a temporary corpus folder and built with `build_index`, so
cleaning, passage making and de-duplication apply as they would for staff.
"""
from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..build import build_index
from ..index import PassageIndex
from ..text import squash_spaces


@dataclass(frozen=True)
class FaqBank:
    """Entries (question, answer) and queries (text, position of the entry that answers it)."""
    name: str
    entries: tuple[tuple[str, str], ...]
    queries: tuple[tuple[str, int], ...]


def read_stackfaq(path: str | Path) -> FaqBank:
    """StackFAQ: bank entry = thread question + its answers; queries = the rephrasings."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    pairs = data["root"]["qapair"] if isinstance(data, dict) and "root" in data else data
    entries, queries = [], []
    for position, pair in enumerate(pairs):
        answers = [a for a in pair.get("answer") or [] if a and a.strip()]
        entries.append((pair["question"], "\n".join(answers) or pair["question"]))
        for rephrase in pair.get("rephr") or []:
            if rephrase and len(rephrase.strip()) > 1:  # "*" marks a missing paraphrase
                queries.append((rephrase.strip(), position))
    return FaqBank("StackFAQ", tuple(entries), tuple(queries))


def read_covidfaq(path: str | Path) -> FaqBank:
    """CovidFAQ: {"bank": [{question, answer}], "queries": [{query, entry}]}."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    entries = tuple((b["question"], b["answer"]) for b in data["bank"])
    queries = tuple((q["query"], int(q["entry"])) for q in data["queries"] if q["query"].strip())
    return FaqBank("CovidFAQ-dev", entries, queries)


def build_bank_index(bank: FaqBank, **index_params) -> tuple[PassageIndex, dict[str, int]]:
    """(index, map passage id -> entry position) built from the bank as a clinic's CSV.

    An entry the build drops as a duplicate of another maps to nothing, and
    queries for it can only miss, as they would for the clinic.
    """
    with tempfile.TemporaryDirectory(prefix="faqbank-") as folder:
        with open(Path(folder) / "faq.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["question", "answer"])
            writer.writerows(bank.entries)
        index = build_index(folder, strict=True, index_params=index_params).index
    position = {squash_spaces(q): i for i, (q, _) in enumerate(bank.entries)}
    return index, {p.id: position[p.question] for p in index.passages_ if p.question in position}
