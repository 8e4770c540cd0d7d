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
        self._by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for source, target in self._rules:
            self._by_first.setdefault(source[0], []).append((source, target))

    def matches(self, stems: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, document stems) for every rule whose phrase occurs in `stems`."""
        found = []
        for i, first in enumerate(stems):
            for source, target in self._by_first.get(first, ()):
                if tuple(stems[i:i + len(source)]) == source:
                    found.append((i, i + len(source), target))
        return found
