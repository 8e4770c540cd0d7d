"""The responder of one index version: its urgent and smalltalk rules, the clinic's settings.

The rule files are saved inside each version (`version_files`, called by
chatbot/build.py), so the rules visitors get change only when a version is
published, after the safety gate has checked them. The smalltalk model
fitted from the corpus' smalltalk.txt and questions.txt (smalltalk_model.py)
is saved beside them. A version saved before rules were versioned has none:
its rules are read from `fallback_dir` (the corpus folder), and its smalltalk
model fitted from there. This is the one place a responder is made, for
serving, the staff's check questions, try-it and the evaluation.
"""
from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from ..corpus.files import QUESTIONS_FILE, RULE_FILES, SMALLTALK_FILE, URGENT_FILE
from ..corpus.model import LoadError
from ..passages.questions_file import parse_questions
from .policy import Responder, policy_from_settings
from .rules_file import read_rules_file
from .smalltalk import Smalltalk
from .smalltalk_model import MODEL_FILE, SmalltalkModel, fit_smalltalk_model, model_json_bytes, text_sha256
from .urgent import UrgentScreen

log = logging.getLogger(__name__)


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
    smalltalk_file = rules_path(rules_dir, SMALLTALK_FILE, fallback)
    smalltalk, smalltalk_errors = Smalltalk.load(smalltalk_file)
    model = _smalltalk_model(rules_dir, smalltalk_file, fallback)
    return Responder(screen, policy_from_settings(settings), smalltalk, model), urgent_errors + smalltalk_errors


def version_files(corpus_dir: str | Path) -> dict[str, bytes]:
    """{file name: content} to save inside a version built from `corpus_dir`: its rule files
    and the smalltalk model fitted from them (when there is one to fit)."""
    corpus_dir = Path(corpus_dir)
    files = {name: (corpus_dir / name).read_bytes() for name in RULE_FILES if (corpus_dir / name).is_file()}
    smalltalk_text, _ = read_rules_file(corpus_dir / SMALLTALK_FILE, "")
    model = None if smalltalk_text is None else _fitted_with_questions(smalltalk_text, corpus_dir / QUESTIONS_FILE)
    if model is not None:
        files[MODEL_FILE] = model_json_bytes(model)
    return files


def _smalltalk_model(rules_dir: Path, smalltalk_file: Path, fallback: Path | None) -> SmalltalkModel | None:
    """The version's saved model when it was fitted with `smalltalk_file`'s text, else one fitted
    now from that file and the questions of `fallback` (or `rules_dir`); None when neither can be had."""
    text, _ = read_rules_file(smalltalk_file, "")
    if text is None:
        return None
    saved = rules_dir / MODEL_FILE
    if saved.is_file():
        try:
            model = _saved_model(saved.read_bytes())
            if model.smalltalk_sha256 == text_sha256(text):
                return model
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("%s cannot be read (%s); fitting the smalltalk model again", saved, error)
    return _fitted_with_questions(text, rules_path(rules_dir, QUESTIONS_FILE, fallback))


def _saved_model(data: bytes) -> SmalltalkModel:
    """The model of a saved file's bytes, read once per process for the same bytes: a publish
    usually keeps the smalltalk of the version before, and reading 2 MB of JSON into arrays
    was most of loading a version's rules."""
    digest = hashlib.sha256(data).hexdigest()
    model = _READ_MODELS.get(digest)
    if model is None:
        model = SmalltalkModel.from_json(json.loads(data.decode("utf-8")))
        while len(_READ_MODELS) >= 4:
            _READ_MODELS.pop(next(iter(_READ_MODELS)))
        _READ_MODELS[digest] = model
    return model


_READ_MODELS: dict[str, SmalltalkModel] = {}


def _fitted_with_questions(smalltalk_text: str, questions_file: Path) -> SmalltalkModel | None:
    """The model of `smalltalk_text` against the questions of `questions_file`; None without them."""
    questions_text, _ = read_rules_file(questions_file, "") if questions_file.is_file() else (None, [])
    return None if questions_text is None else _fitted(smalltalk_text, questions_text)


@lru_cache(maxsize=4)
def _fitted(smalltalk_text: str, questions_text: str) -> SmalltalkModel | None:
    """Fitted once per process for the same two texts (a fit takes seconds: the tests and the
    evaluation build many versions of one corpus)."""
    smalltalk, _ = Smalltalk.from_text(smalltalk_text)
    sections, _ = parse_questions(questions_text)
    questions = list(dict.fromkeys(w for section in sections for w in section.wordings))
    return fit_smalltalk_model(smalltalk, smalltalk_text, questions)
