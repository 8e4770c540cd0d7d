"""The terms the word index is built from: stems and stem bigrams."""
from __future__ import annotations

from ..text import content_stems


def ngrams(stems: list[str]) -> list[str]:
    """Unigrams then bigrams of a stem sequence ("lower back pain" -> ..., "back pain")."""
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]


def word_terms(text: str) -> list[str]:
    """Analyzer of the word index: content stems of `text` and their bigrams.

    Module-level so the vectorizer that holds it stays a plain object.
    """
    return ngrams(content_stems(text))
