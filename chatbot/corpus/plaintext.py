"""Turn plain or Markdown text into blocks (headings, paragraphs, lists, tables).

Scraped pages lose their markup, so structure is inferred from layout:
- a short line standing alone between blank lines is a heading;
- lines starting with a bullet or a number are list items;
- two or more consecutive short lines without sentence punctuation form a
  table (the first is its header), as tables do once their cells are flattened;
- every other line is a paragraph (scrapers put one paragraph per line), and
  a line that breaks mid-sentence is joined with the next (hard-wrapped text).
Markdown headings (`#`), lists and pipe tables are read as written.
"""
from __future__ import annotations

import re

from ..text import normalize_text, squash_spaces
from .model import Block, Heading, ListBlock, Paragraph, Table

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+\u2022\u00b7\u25aa\u25e6\u2023\u25cf\u25cb\u25a0\u27a2\u25ba\u2713\u2714]"
                     r"|(\d{1,3})[.)])\s+(\S.*)$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*(:?-{3,}:?\s*)?\|?\s*$")
_ENDS_SENTENCE = re.compile(r"[.!?:;,]['\")\u201d\u2019]?$")
_ENDS_CLAUSE = re.compile(r"[.!?:]['\")\u201d\u2019]?$")

HEADING_MAX_WORDS = 14
TABLE_ROW_MAX_WORDS = 25


def parse_text(text: str) -> list[Block]:
    """Blocks of a plain-text or Markdown body, in reading order."""
    blocks: list[Block] = []
    for run in _runs(normalize_text(text).replace("\t", "    ")):
        blocks.extend(_parse_run(run))
    return _merge_loose_lists(blocks)


def _runs(text: str) -> list[list[str]]:
    """Groups of consecutive non-blank lines."""
    runs, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _parse_run(run: list[str]) -> list[Block]:
    blocks: list[Block] = []
    i = 0
    while i < len(run):
        line = run[i]
        heading = _MD_HEADING.match(line)
        if heading:
            blocks.append(Heading(squash_spaces(heading.group(2)), len(heading.group(1))))
            i += 1
        elif _BULLET.match(line):
            i = _take_list(run, i, blocks)
        elif _PIPE_ROW.match(line):
            i = _take_pipe_table(run, i, blocks)
        else:
            j = i
            while j < len(run) and not (_MD_HEADING.match(run[j]) or _BULLET.match(run[j])
                                        or _PIPE_ROW.match(run[j])):
                j += 1
            blocks.extend(_plain_lines(run[i:j], isolated=len(run) == 1))
            i = j
    return blocks


def _take_list(run: list[str], i: int, blocks: list[Block]) -> int:
    items: list[str] = []
    first = _BULLET.match(run[i])
    ordered = first.group(2) is not None
    start = int(first.group(2)) if ordered else 1
    while i < len(run):
        match = _BULLET.match(run[i])
        if match:
            items.append(squash_spaces(match.group(3)))
        elif run[i].startswith((" ", "\t")) and items:
            items[-1] = f"{items[-1]} {squash_spaces(run[i])}"  # wrapped item
        else:
            break
        i += 1
    blocks.append(ListBlock(tuple(items), ordered, start))
    return i


def _take_pipe_table(run: list[str], i: int, blocks: list[Block]) -> int:
    lines = []
    while i < len(run) and _PIPE_ROW.match(run[i]):
        if not _PIPE_RULE.match(run[i]):
            cells = [squash_spaces(c) for c in run[i].strip().strip("|").split("|")]
            lines.append(" | ".join(cells))
        i += 1
    if lines:
        blocks.append(Table(lines[0], tuple(lines[1:])))
    return i


def _plain_lines(lines: list[str], isolated: bool) -> list[Block]:
    lines = _join_wrapped(lines)
    if isolated and len(lines) == 1 and looks_like_heading(lines[0]):
        return [Heading(squash_spaces(lines[0]))]
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _looks_like_table_row(lines[j]):
            j += 1
        if j - i >= 2:
            blocks.append(Table(squash_spaces(lines[i]), tuple(squash_spaces(r) for r in lines[i + 1:j])))
            i = j
        elif j - i == 1 and looks_like_heading(lines[i]):
            blocks.append(Heading(squash_spaces(lines[i])))  # a label above text
            i += 1
        else:
            blocks.append(Paragraph(squash_spaces(lines[i])))
            i += 1
    return blocks


def _join_wrapped(lines: list[str]) -> list[str]:
    """Join a line that stops mid-sentence with a next line that starts in lower case."""
    joined: list[str] = []
    for line in lines:
        stripped = line.strip()
        if joined and not _ENDS_CLAUSE.search(joined[-1]) and stripped[:1].islower():
            joined[-1] = f"{joined[-1]} {stripped}"
        else:
            joined.append(stripped)
    return joined


def looks_like_heading(line: str) -> bool:
    """A short line that does not end like a sentence (a question may be a heading)."""
    stripped = line.strip()
    if not stripped or len(stripped.split()) > HEADING_MAX_WORDS:
        return False
    if re.search(r"[.!?]\s+[A-Z]", stripped):
        return False  # two sentences make a paragraph, however short
    return not _ENDS_SENTENCE.search(stripped) or stripped.endswith(("?", "!"))


def _looks_like_table_row(line: str) -> bool:
    stripped = line.strip()
    return (bool(stripped) and len(stripped.split()) <= TABLE_ROW_MAX_WORDS
            and not _ENDS_SENTENCE.search(stripped) and not stripped[:1].islower())


def _merge_loose_lists(blocks: list[Block]) -> list[Block]:
    """Join list blocks that were separated only by blank lines ("loose" lists)."""
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if (isinstance(block, ListBlock) and isinstance(previous, ListBlock)
                and block.ordered == previous.ordered
                and (not block.ordered or block.start == previous.start + len(previous.items))):
            merged[-1] = ListBlock(previous.items + block.items, previous.ordered, previous.start)
        else:
            merged.append(block)
    return merged
