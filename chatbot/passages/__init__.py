"""Passage stage: cleaned documents -> short, attributed, de-duplicated passages."""
from __future__ import annotations

from ..corpus.model import Document
from .dedupe import drop_duplicates
from .model import Passage, SegmentStats, Source, passage_id
from .segment import SegmentOptions, segment_document, split_paragraph


def make_passages(documents: list[Document],
                  options: SegmentOptions = SegmentOptions()) -> tuple[list[Passage], SegmentStats]:
    """All passages of `documents`, duplicates dropped, with counts."""
    passages = [p for doc in documents for p in segment_document(doc, options)]
    kept, exact, near = drop_duplicates(passages)
    stats = SegmentStats(documents=len(documents), passages=len(kept),
                         exact_duplicates=exact, near_duplicates=near)
    for p in kept:
        stats.by_form[p.form] = stats.by_form.get(p.form, 0) + 1
    return kept, stats


__all__ = ["Passage", "SegmentOptions", "SegmentStats", "Source", "make_passages",
           "passage_id", "segment_document", "split_paragraph"]
