"""Cut documents into passages a visitor can read in one chat bubble.

Rules: a paragraph longer than `max_words` is split at sentence boundaries
into balanced chunks; a list stays with the sentence that introduces it, and a
long one is cut into groups that each repeat the introduction; a table row
stays with the table's header (a small table stays whole); fragments shorter than `min_words` join a neighbour of the
same section. FAQ entries are kept whole: staff wrote them as one answer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..corpus.model import Document, FaqEntry, Heading, ListBlock, Paragraph, Table
from ..text import split_sentences, word_count
from .model import Passage, Source, passage_id

SMALL_TABLE_WORDS = 20  # a table this small reads best whole ("Alone 30%", "Combined 60%")


@dataclass(frozen=True)
class SegmentOptions:
    """Passage size targets, in words (see README: chosen with the dev evaluation).

    With `pack_paragraphs`, consecutive paragraphs of one section share a
    passage while they fit in `max_words`: a visitor gets the point and its
    context together, and the evaluation agrees (hit@1 0.79 -> 0.85).
    """
    max_words: int = 100
    min_words: int = 25
    list_max_words: int = 180
    pack_paragraphs: bool = True


@dataclass
class _Unit:
    section: str | None
    form: str
    text: str
    words: int
    entry: FaqEntry | None = None


def segment_document(doc: Document, options: SegmentOptions = SegmentOptions()) -> list[Passage]:
    """Passages of one document, in reading order, each with a stable id."""
    units = _merge_fragments(_units(doc, options), options)
    passages = []
    for position, unit in enumerate(units):
        source = Source(doc.doc_id, doc.title, doc.publisher, doc.url, unit.section)
        if unit.entry is not None:
            entry = unit.entry
            source = Source(doc.doc_id, entry.source_title or doc.title, doc.publisher,
                            entry.source_url or doc.url, None)
            key = f"{entry.question}\n{unit.text}"
            passages.append(Passage(passage_id(doc.doc_id, key), unit.text, source, "faq",
                                    entry.question, entry.alternates, position))
        else:
            passages.append(Passage(passage_id(doc.doc_id, unit.text), unit.text, source,
                                    unit.form, None, (), position))
    return passages


def _units(doc: Document, options: SegmentOptions) -> list[_Unit]:
    units: list[_Unit] = []
    section: str | None = None
    intro: str | None = None
    # In a Q&A thread the first paragraph is the asker's question, not an answer.
    skip_first_paragraph = doc.kind == "qa_thread"
    blocks = list(doc.blocks)
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if isinstance(block, Heading):
            section = block.text
        elif isinstance(block, FaqEntry):
            units.append(_Unit(None, "faq", block.answer, 0, block))  # kept whole: size not needed
        elif isinstance(block, Paragraph):
            if skip_first_paragraph:
                skip_first_paragraph = False
            elif block.text.endswith(":") and isinstance(following, (ListBlock, Table)):
                intro, lead = _split_intro(block.text, options)
                units.extend(_Unit(section, "text", chunk, word_count(chunk))
                             for chunk in (split_paragraph(lead, options.max_words) if lead else []))
            else:
                units.extend(_Unit(section, "text", chunk, word_count(chunk))
                             for chunk in split_paragraph(block.text, options.max_words))
        elif isinstance(block, ListBlock):
            lines = [f"{n}. {item}" if block.ordered else f"\u2022 {item}"
                     for n, item in enumerate(block.items, start=block.start)]
            units.extend(_grouped(section, "list", intro, [], lines, options))
            intro = None
        elif isinstance(block, Table):
            units.extend(_table_units(section, intro, block, options))
            intro = None
    return units


def _split_intro(text: str, options: SegmentOptions) -> tuple[str, str]:
    """(introduction, lead text): a long paragraph lends only its last sentence to a list."""
    if word_count(text) <= options.max_words // 2:
        return text, ""
    sentences = split_sentences(text)
    return sentences[-1], " ".join(sentences[:-1])


def split_paragraph(text: str, max_words: int) -> list[str]:
    """Balanced chunks of whole sentences, each about `max_words` or fewer."""
    total = word_count(text)
    if total <= max_words:
        return [text]
    sentences = split_sentences(text)
    target = total / math.ceil(total / max_words)
    chunks, current, current_words = [], [], 0
    for sentence in sentences:
        n = word_count(sentence)
        if current and current_words + n > target * 1.15:
            chunks.append(" ".join(current))
            current, current_words = [], 0
        current.append(sentence)
        current_words += n
    if current:
        chunks.append(" ".join(current))
    return chunks


def _table_units(section, intro, table: Table, options: SegmentOptions) -> list[_Unit]:
    """A small table whole; otherwise one unit per row, each under the header.

    The introducing sentence becomes ordinary text: a row answers a question
    ("what is LI4?") on its own, and one long table would drown that row.
    """
    lines = [table.header, *table.rows]
    total = sum(word_count(line) for line in lines)
    units = [_Unit(section, "text", intro, word_count(intro))] if intro else []
    if total <= SMALL_TABLE_WORDS:
        return units + [_Unit(section, "table", "\n".join(lines), total)]
    return units + [_Unit(section, "table", f"{table.header}\n{row}", word_count(table.header) + word_count(row))
                    for row in table.rows]


def _grouped(section, form, intro, head_lines, lines, options) -> list[_Unit]:
    """A list or table as one unit, or as groups that each repeat intro and header."""
    head = ([intro] if intro else []) + head_lines
    head_words = sum(word_count(h) for h in head)
    total = head_words + sum(word_count(line) for line in lines)
    if total <= options.list_max_words:
        text = "\n".join(head + lines)
        return [_Unit(section, form, text, total)]
    groups: list[list[str]] = []
    group_words = head_words
    for line in lines:
        for piece in split_paragraph(line, options.max_words):
            n = word_count(piece)
            if not groups or (group_words + n > options.max_words and len(groups[-1]) > 0):
                groups.append([])
                group_words = head_words
            groups[-1].append(piece)
            group_words += n
    return [_Unit(section, form, "\n".join(head + g), head_words + sum(map(word_count, g)))
            for g in groups]


def _merge_fragments(units: list[_Unit], options: SegmentOptions) -> list[_Unit]:
    """Join a text unit to the previous one of the same section when both fit.

    Fragments shorter than `min_words` always join; other paragraphs join
    when `pack_paragraphs` is set.
    """
    merged: list[_Unit] = []
    for unit in units:
        previous = merged[-1] if merged else None
        mergeable = (previous is not None and previous.form == unit.form == "text"
                     and previous.section == unit.section
                     and previous.words + unit.words <= options.max_words)
        small = unit.words < options.min_words or previous.words < options.min_words if previous else False
        if mergeable and (small or options.pack_paragraphs):
            merged[-1] = _Unit(unit.section, "text", f"{previous.text} {unit.text}",
                               previous.words + unit.words)
        else:
            merged.append(unit)
    return merged
