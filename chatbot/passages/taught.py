"""Questions staff taught passages from the inbox of visitor questions ("questions this passage
answers"), joined to the passages of a build by passage id."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from .model import Passage


def with_taught_questions(passages: list[Passage], taught: Mapping[str, Sequence[str]]) -> list[Passage]:
    """`passages`, each taught one carrying its wordings as alternates (after its own, once each).

    The index matches a passage's question and alternates as its question field,
    so a visitor who asks like the taught wordings finds it. A document passage
    keeps `question` None: what the visitor reads (and the suggestion chips) do
    not change. Ids of passages no longer built are ignored.
    """
    if not taught:
        return passages
    taught_passages = []
    for passage in passages:
        wordings = taught.get(passage.id)
        if wordings:
            known = {w.casefold() for w in (passage.question or "", *passage.alternates)}
            new = tuple(dict.fromkeys(w for w in wordings if w and w.casefold() not in known))
            passage = replace(passage, alternates=passage.alternates + new)
        taught_passages.append(passage)
    return taught_passages
