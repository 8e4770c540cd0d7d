"""The responder of one index version: its urgent and smalltalk rules, the clinic's settings.

The rule files are saved inside each version (chatbot/build.py), so the
rules visitors get change only when a version is published, after the
safety gate has checked them. A version saved before rules were versioned
has none: its rules are read from `fallback_dir` (the corpus folder).
This is the one place a responder is made, for serving, the staff's check
questions, try-it and the evaluation.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..corpus.files import SMALLTALK_FILE, URGENT_FILE
from ..corpus.model import LoadError
from .policy import Responder, policy_from_settings
from .smalltalk import Smalltalk
from .urgent import UrgentScreen


def rules_path(rules_dir: Path, name: str, fallback_dir: Path | None) -> Path:
    """`rules_dir/name`, or `fallback_dir/name` when the version has no such file."""
    path = Path(rules_dir) / name
    return path if path.is_file() or fallback_dir is None else Path(fallback_dir) / name


def load_responder(rules_dir: str | Path, settings: Mapping[str, Any],
                   fallback_dir: str | Path | None = None) -> tuple[Responder, list[LoadError]]:
    """(responder, problems) for the rules in `rules_dir` (a version folder or a corpus folder)."""
    rules_dir = Path(rules_dir)
    fallback = Path(fallback_dir) if fallback_dir is not None else None
    screen, urgent_errors = UrgentScreen.load(rules_path(rules_dir, URGENT_FILE, fallback))
    smalltalk, smalltalk_errors = Smalltalk.load(rules_path(rules_dir, SMALLTALK_FILE, fallback))
    return Responder(screen, policy_from_settings(settings), smalltalk), urgent_errors + smalltalk_errors
