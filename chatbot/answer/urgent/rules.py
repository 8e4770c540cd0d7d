"""The urgent rules file (`corpus/urgent.txt`) read into rules, ignored phrases and treatment words.

Format (the file's own header is the manual for staff):

    medical: fever with back pain => fever, high temperature + back pain, backache
    medical: back pain after a fall => fell, a fall + back pain unless years ago
    words: back pain => back pain, backache, back hurts
    medical: back pain after a crash => car crash + [back pain]
    ignore: fell asleep, fewer
    treatment: acup, needl, cupping

A `words:` line names a list of alternatives once; `[name]` in a group or after
`unless` stands for all of them. A `treatment:` line gives the starts of the
words that make a question one about treatment (see message.py). A bad line
is reported with its line number and left out; the rest loads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...corpus.files import URGENT_FILE
from ...corpus.model import LoadError
from ...text import STOP_WORDS, stem
from .message import NEGATION_WORDS, phrase_words

CATEGORIES = ("medical", "self_harm")

_RULE_LINE = re.compile(r"^(?P<category>[A-Za-z_-]+)\s*:\s*(?P<name>.*?)\s*=>\s*(?P<groups>.*)$")
_IGNORE_LINE = re.compile(r"^ignore\s*:(?P<phrases>.*)$", re.IGNORECASE)
_TREATMENT_LINE = re.compile(r"^treatment\s*:(?P<words>.*)$", re.IGNORECASE)
_TREATMENT_WORD = re.compile(r"^[a-z]{3,}$")
_WORDS_LINE = re.compile(r"^words\s*:\s*(?P<name>.*?)\s*=>\s*(?P<alternatives>.*)$", re.IGNORECASE)
_WORD_LIST = re.compile(r"^\[(?P<name>[^\]]*)\]$")
_UNLESS = re.compile(r"\bunless\b", re.IGNORECASE)


@dataclass(frozen=True)
class UrgentRule:
    """One rule: every group needs one of its alternatives, and no exception may be present."""
    category: str
    name: str
    groups: tuple[tuple[str, ...], ...]
    exceptions: tuple[str, ...] = ()
    line: int = 0



def _keys(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in phrase_words(phrase))


def _alternatives(text: str, word_lists: dict[str, tuple[str, ...]]
                  ) -> tuple[tuple[str, ...], list[str]]:
    """Comma-separated alternatives of one group, `[name]` expanded, and why any is unusable."""
    alternatives: list[str] = []
    problems = []
    for item in (a.strip() for a in text.split(",")):
        if word_list := _WORD_LIST.match(item):
            name = _list_name(word_list["name"])
            if name in word_lists:
                alternatives += word_lists[name]
            else:
                problems.append(f"no 'words: {name} => ...' line above this one")
            continue
        words = phrase_words(item)
        if not words:
            continue
        if len(words) < 3 and all(w in STOP_WORDS or w in NEGATION_WORDS for w in words):
            problems.append(f"{item!r} is too common to be a warning sign on its own")
        elif len(words) == 1 and len(words[0]) < 3:
            problems.append(f"{item!r} is too short to be a warning sign on its own")
        alternatives.append(item)
    return tuple(alternatives), problems


def _list_name(name: str) -> str:
    """A word list's name as looked up: lower case, single spaces."""
    return " ".join(name.lower().split())


def _parse_rule(category: str, name: str, text: str, line: int,
                word_lists: dict[str, tuple[str, ...]]) -> tuple[UrgentRule | None, list[str]]:
    """A rule from the text after '=>', or the problems that make it unusable."""
    if category not in CATEGORIES:
        return None, [f"unknown category {category!r}; use 'medical' or 'self_harm'"]
    if not name:
        return None, ["the rule has no name before '=>'"]
    parts = _UNLESS.split(text)
    if len(parts) > 2:
        return None, ["'unless' may appear only once in a rule"]
    groups, problems = [], []
    for number, part in enumerate(parts[0].split("+"), start=1):
        alternatives, found = _alternatives(part, word_lists)
        problems += found or ([] if alternatives else [f"group {number} after '=>' has no words"])
        groups.append(alternatives)
    exceptions: tuple[str, ...] = ()
    if len(parts) == 2:
        exceptions, found = _alternatives(parts[1], word_lists)
        problems += found or ([] if exceptions else ["'unless' is followed by no words"])
    if problems:
        return None, problems
    return UrgentRule(category, name, tuple(groups), exceptions, line), []


def _treatment_words(text: str) -> tuple[list[str], list[str]]:
    """Word starts of a 'treatment:' line, and why any is unusable."""
    found, problems = [], []
    for item in (t.strip() for t in text.split(",")):
        word = item.lower()
        if not word:
            continue
        if _TREATMENT_WORD.match(word):
            found.append(word)
        elif word.isalpha():
            problems.append(f"treatment word {item!r} is too short: most questions would look "
                            "like questions about treatment")
        else:
            problems.append(f"treatment word {item!r} must be one word of letters (its start is "
                            "enough: 'acup' covers acupuncture and acupuncturist)")
    if not found and not problems:
        problems.append("'treatment:' is followed by no words")
    return found, problems


def parse_urgent_rules(text: str, path: str = URGENT_FILE
                       ) -> tuple[list[UrgentRule], list[str], list[str], list[LoadError]]:
    """Rules, ignored phrases, treatment word starts and problems (with line numbers) of a rules file's text."""
    rules: list[UrgentRule] = []
    ignored: list[tuple[str, int]] = []
    treatment: list[str] = []
    errors: list[LoadError] = []
    seen: dict[str, int] = {}
    word_lists: dict[str, tuple[str, ...]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if ignore := _IGNORE_LINE.match(line):
            phrases = [p.strip() for p in ignore["phrases"].split(",") if phrase_words(p)]
            if "=>" in line or not phrases:
                errors.append(LoadError(path, number, "expected 'ignore: phrase, other phrase'"))
                continue
            ignored += [(p, number) for p in phrases]
            continue
        if treatment_line := _TREATMENT_LINE.match(line):
            found, problems = _treatment_words(treatment_line["words"])
            treatment += found
            errors += [LoadError(path, number, p) for p in problems]
            continue
        if listed := _WORDS_LINE.match(line):
            name = _list_name(listed["name"])
            alternatives, problems = _alternatives(listed["alternatives"], word_lists)
            if not name or name in word_lists:
                problems.append(f"word list {name!r} is already defined" if name
                                else "the word list has no name before '=>'")
            elif not alternatives and not problems:
                problems.append("the word list has no words after '=>'")
            errors += [LoadError(path, number, p) for p in problems]
            if not problems:
                word_lists[name] = alternatives
            continue
        match = _RULE_LINE.match(line)
        if not match:
            errors.append(LoadError(path, number, "expected 'category: rule name => words, "
                                                  "other words + words'"))
            continue
        name = match["name"]
        if name.lower() in seen:
            errors.append(LoadError(path, number, f"rule {name!r} is already defined on line "
                                                  f"{seen[name.lower()]}"))
            continue
        category = match["category"].lower().replace("-", "_")
        rule, problems = _parse_rule(category, name, match["groups"], number, word_lists)
        errors += [LoadError(path, number, p) for p in problems]
        if rule:
            seen[name.lower()] = number
            rules.append(rule)
    warning_words = {k for r in rules for g in r.groups for a in g for k in _keys(a)}
    kept = []
    for phrase, number in ignored:
        keys = _keys(phrase)
        if len(keys) == 1 and keys[0] in warning_words:
            errors.append(LoadError(path, number, f"ignoring {phrase!r} would switch off a "
                                                  "warning word of a rule"))
        else:
            kept.append(phrase)
    if not rules:
        errors.append(LoadError(path, 0, "no usable rules: urgent messages will not be caught"))
    if not treatment and any(r.category == "medical" for r in rules):
        errors.append(LoadError(path, 0, "no 'treatment:' line: medical rules also fire on general "
                                         "questions about a treatment's effects; add one like "
                                         "'treatment: massage, therap'"))
    return rules, kept, treatment, sorted(errors, key=lambda e: e.line)

