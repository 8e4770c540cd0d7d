"""Staff-editable synonyms, applied to visitors' questions before matching.

File format (`corpus/synonyms.txt`), one rule per line, `#` starts a comment:

    pins, pin pricks => needles
    blood thinners => blood-thinning

Every phrase on the left is a way visitors say what the documents say on the
right. Matching is on word stems, so "pin" and "pins" are the same phrase.
"""
from __future__ import annotations

from pathlib import Path

from ..corpus.model import LoadError
from ..text import content_stems

Rule = tuple[str, str]  # (visitor phrase, document words)


def parse_synonyms(text: str, path: str = "synonyms.txt") -> tuple[tuple[Rule, ...], list[LoadError]]:
    """Rules and problems (with line numbers) of a synonyms file's text."""
    rules: list[Rule] = []
    errors: list[LoadError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        if not arrow or not left.strip() or not right.strip():
            errors.append(LoadError(path, number, "expected 'visitor words => document words'"))
            continue
        if not content_stems(right):
            errors.append(LoadError(path, number, f"{right.strip()!r} has no words that can be matched"))
            continue
        for phrase in left.split(","):
            if content_stems(phrase):
                rules.append((phrase.strip(), right.strip()))
            elif phrase.strip():
                errors.append(LoadError(path, number, f"{phrase.strip()!r} has no words that can be matched"))
    return tuple(rules), errors


def load_synonyms(path: Path) -> tuple[tuple[Rule, ...], list[LoadError]]:
    """Rules of the synonyms file at `path`; no file means no rules."""
    if not path.is_file():
        return (), []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return (), [LoadError(path.name, 0, "not UTF-8 text; save the file as UTF-8")]
    return parse_synonyms(text, path.name)


class SynonymExpander:
    """Rewrites stem sequences with the rules; built once per index."""

    def __init__(self, rules: tuple[Rule, ...]):
        self._rules = [(tuple(content_stems(a)), tuple(content_stems(b))) for a, b in rules]
        # A query word is the first of up to 22 phrases ("back", "needle"): each is
        # looked up by the query's words of its length, one lookup per length, rather
        # than compared phrase by phrase.
        self._lengths_of: dict[str, list[int]] = {}  # first stem -> lengths of its phrases
        self._by_phrase: dict[tuple[str, ...], list[tuple[int, tuple[str, ...]]]] = {}  # -> (rule number, target)
        for number, (source, target) in enumerate(self._rules):
            lengths = self._lengths_of.setdefault(source[0], [])
            if len(source) not in lengths:
                lengths.append(len(source))
            self._by_phrase.setdefault(source, []).append((number, target))

    def matches(self, stems: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, document stems) for every rule whose phrase occurs in `stems`,
        by start, then in the rules' order."""
        found = []
        for i, first in enumerate(stems):
            lengths = self._lengths_of.get(first)
            if lengths is None:
                continue
            here = [(number, i + length, target) for length in lengths if i + length <= len(stems)
                    for number, target in self._by_phrase.get(tuple(stems[i:i + length]), ())]
            here.sort(key=lambda match: match[0])
            found += [(i, end, target) for _, end, target in here]
        return found
