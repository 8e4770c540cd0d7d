"""Every setting, declared once: name, default, help.

Read in order, later wins: these defaults -> `instance/config.toml` ->
environment variables (the same names, e.g. CHATBOT_RATE_LIMIT=off) ->
the `test_config` given to create_app(). The README's settings table is
checked against this list by a test, so the two cannot drift apart.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from .corpus.files import CHECK_QUESTIONS_FILE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = "config.toml"


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _questions(text: str) -> tuple[str, ...]:
    questions = tuple(q.strip() for q in text.split("|") if q.strip())
    if len(questions) > 5:
        raise ValueError("at most 5 starter questions")
    return questions


_SOURCE = re.compile(r"^(?:'self'|'none'|https?://[A-Za-z0-9.-]+(?::\d+)?|https://\*\.[A-Za-z0-9.-]+)$")


def _frame_ancestors(text: str) -> str:
    sources = text.split()
    bad = [s for s in sources if not _SOURCE.match(s)]
    if not sources or bad:
        raise ValueError(f"not a frame-ancestors source: {' '.join(bad) or '(empty)'}")
    return " ".join(sources)


@dataclass(frozen=True)
class Setting:
    """One setting; `default` may be a function of the instance folder."""
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    def default_for(self, instance_path: Path) -> Any:
        return self.default(instance_path) if callable(self.default) else self.default

    def format(self, value: Any) -> str:
        """`value` as text that `parse` reads back (an environment variable)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (tuple, list)):
            return "|".join(value)
        return str(value)


SETTINGS: tuple[Setting, ...] = (
    Setting("CHATBOT_CORPUS_DIR", str(PROJECT_ROOT / "corpus"),
            "Knowledge folder the index is built from (documents, FAQ files, synonyms, questions, urgent rules)."),
    Setting("CHATBOT_INDEX_DIR", lambda instance: str(instance / "index"),
            "Folder of published index versions. Default: `index/` in the instance folder."),
    Setting("CHATBOT_DATABASE_URL", lambda instance: f"sqlite:///{instance / 'chatbot.db'}",
            "SQLAlchemy URL of the database for exchanges and feedback. Default: a SQLite file in the "
            "instance folder; use `postgresql+psycopg://...` when several servers share one database."),
    Setting("CHATBOT_SPOOL_DIR", lambda instance: str(instance / "spool"),
            "Folder where exchanges and feedback wait, on local disk, while the database cannot take "
            "them; replayed into the database when it works again. Each worker's journal (what it has "
            "answered and not yet stored) lives here too. Default: `spool/` in the instance folder."),
    Setting("CHATBOT_RATE_LIMIT", "30/minute",
            "Requests per visitor address to the chat and feedback endpoints, e.g. `30/minute`; `off` disables it."),
    Setting("CHATBOT_ANSWER_THRESHOLD", 0.7,
            "How sure the bot must be (a probability, 0-1) that the passages it shows answer the question; "
            "below it the bot says it does not know. 0.7 means: answer when at least 70% sure. "
            "The default was chosen by cross-validation (see README, Quality).", float),
    Setting("CHATBOT_INBOX_LOW_CONFIDENCE", 0.85,
            "Answers given with a probability (0-1) below this go to the staff inbox of questions to review, "
            "with the unanswered ones; the default is the default answer threshold + 0.15.", float),
    Setting("CHATBOT_SUGGESTION_MARGIN", 0.85,
            "Offer other candidates as suggestions when their score is at least this share of the best one.",
            float),
    Setting("CHATBOT_CONTACT_TEXT",
            "Please contact the clinic by phone or through the contact page of this website, "
            "and a member of our team will be glad to help.",
            "What the bot says about reaching the clinic when it cannot answer, and in smalltalk replies "
            "that use `{contact}` (a visitor asking for a person)."),
    Setting("CHATBOT_NOTICE",
            "This is general information, not medical advice. Please talk to a qualified practitioner "
            "about your own situation.",
            "The short notice that goes with every answer."),
    Setting("CHATBOT_NO_ANSWER_TEXT",
            "I'm sorry, I don't have a reliable answer to that in the clinic's information.",
            "What the bot says when it cannot answer from the clinic's information (the contact text follows)."),
    Setting("CHATBOT_EMERGENCY_NUMBER", "911",
            "Emergency number given to a visitor who describes warning signs; `{emergency_number}` in "
            "the medical urgent reply. Outside the US set your own (112 in the EU, 999 in the UK) and "
            "reword the reply."),
    Setting("CHATBOT_CRISIS_NUMBER", "988",
            "Crisis line given to a visitor who mentions suicide or self-harm; `{crisis_number}` in the "
            "self-harm urgent reply. Outside the US set your local crisis line (e.g. 116 123, Samaritans, "
            "UK and Ireland) and reword the reply."),
    Setting("CHATBOT_URGENT_MEDICAL_REPLY",
            "What you describe can be a sign of a problem that needs medical care right away. "
            "Please call emergency services ({emergency_number} in the US) or go to the nearest emergency "
            "department now. Please don't wait for an acupuncture appointment.",
            "Reply to a message with medical warning signs (corpus/urgent.txt), instead of an answer."),
    Setting("CHATBOT_URGENT_SELF_HARM_REPLY",
            "I'm really sorry you're going through this. You matter, and you don't have to face "
            "it alone. Please call or text {crisis_number} (the Suicide & Crisis Lifeline in the US) or your "
            "local emergency number now. Outside the US, please call your local crisis line.",
            "Reply to a message about suicide or self-harm (corpus/urgent.txt), instead of an answer."),
    Setting("CHATBOT_CLINIC_NAME", "",
            "The clinic's name, used in greetings. Empty: the bot says 'the clinic'."),
    Setting("CHATBOT_WIDGET_TITLE", "Questions about acupuncture?",
            "Title of the chat panel (a page can set its own with `data-title`)."),
    Setting("CHATBOT_GREETING",
            "Hello! I can answer questions about acupuncture for back pain from our clinic's information.",
            "First message of the chat panel (a page can set its own with `data-greeting`)."),
    Setting("CHATBOT_STARTER_QUESTIONS",
            ("Does acupuncture hurt?", "How long do the needles stay in?",
             "What are the risks of acupuncture?", "Can acupuncture help lower back pain?"),
            "Questions offered as buttons under the greeting; in the environment, separated by `|`.",
            _questions),
    Setting("CHATBOT_FRAME_ANCESTORS", "'self'",
            "Sites allowed to show the chat panel, as a CSP `frame-ancestors` list, e.g. "
            "`'self' https://www.example-clinic.com`.", _frame_ancestors),
    Setting("CHATBOT_SECRET_KEY", "",
            "Key that signs staff session cookies. Empty: a random key is made once and kept in "
            "`instance/secret_key`. Set the same value on every server."),
    Setting("CHATBOT_SECURE_COOKIES", False,
            "Send staff cookies over HTTPS only; turn on when the site is served through TLS.", _bool),
    Setting("CHATBOT_LOGIN_RATE_LIMIT", "5/minute", "Staff login attempts allowed per address."),
    Setting("CHATBOT_LOGIN_ACCOUNT_RATE_LIMIT", "20/hour",
            "Failed staff logins allowed for one email address, from all visitor addresses together "
            "(besides the per-address limit and the backoff after repeated failures)."),
    Setting("CHATBOT_PASSWORD_CHECK_RATE_LIMIT", "5/10 seconds",
            "Staff password checks one server runs, whoever asks (each costs about 0.4 s of a core): "
            "bounds what a login flood from many addresses can take from chat."),
    Setting("CHATBOT_REDIS_URL", "",
            "Redis server that counts rate limits for every worker of every server, e.g. "
            "`redis://127.0.0.1:6379/0`. Empty: a SQLite file in `CHATBOT_SERVER_STATE_DIR` counts them "
            "for the workers of this server."),
    Setting("CHATBOT_SERVER_STATE_DIR", lambda instance: str(instance),
            "Folder through which the workers of one server share rate-limit counters (without Redis) "
            "and the password-hashing lock. Default: the instance folder."),
    Setting("CHATBOT_CHECK_FILE", "",
            "Evaluation questions every candidate index is checked on (JSON Lines like the dev file). "
            "Empty: `check_questions.jsonl` in the corpus folder. Staff add more in the workspace."),
    Setting("CHATBOT_GATE_MAX_HIT1_DROP", 0.05,
            "Safety gate: largest drop in the share of answerable check questions whose right passage "
            "is shown first (hit@1) a candidate may show before publishing needs a written override.",
            float),
    Setting("CHATBOT_GATE_MAX_HIT3_DROP", 0.05,
            "Safety gate: largest drop in the share of answerable check questions whose right passage "
            "is among the first three (hit@3) before publishing needs a written override.", float),
    Setting("CHATBOT_GATE_MAX_ANSWERED_DROP", 0.05,
            "Safety gate: largest drop in the share of answerable check questions that get an answer "
            "(rather than \"I don't know\") before publishing needs a written override.", float),
    Setting("CHATBOT_GATE_MAX_NO_ANSWER_DROP", 0.0,
            "Safety gate: largest drop in the share of out-of-scope check questions the bot declines "
            "(\"I don't know\") before publishing needs a written override. An urgent check question "
            "that is no longer sent to urgent care always needs one.", float),
    Setting("CHATBOT_INDEX_CHECK_SECONDS", 0.5,
            "How often each worker looks for a newly published index version (seconds).", float),
    Setting("CHATBOT_INDEX_KEEP_VERSIONS", 5, "How many index versions to keep for rollback.", int),
    Setting("CHATBOT_RETENTION_DAYS", 90,
            "Exchanges older than this are deleted by `flask --app wsgi purge`.", int),
    Setting("CHATBOT_MAX_BODY_BYTES", 16_384, "Largest request body accepted (bytes); larger gets 413.", int),
    Setting("CHATBOT_REQUEST_READ_SECONDS", 10.0,
            "Time a client has to send a whole request from its first byte (plus 1 s per 100 kB of "
            "declared body); slower gets 408. Enforced by the gunicorn worker, never by a thread waiting.",
            float),
    Setting("CHATBOT_TRUSTED_PROXIES", 0,
            "Number of proxies in front of the bot whose X-Forwarded-For and X-Forwarded-Proto are "
            "trusted (1 behind one TLS proxy). 0: the connection's address is the visitor's.", int),
    Setting("CHATBOT_LOG_LEVEL", "INFO", "Log level of the application (DEBUG, INFO, WARNING, ERROR); "
            "DEBUG adds a line per chat reply (its ids, kind, scores and time)."),
)

BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


class Settings(Mapping[str, Any]):
    """Every setting's value, resolved once and frozen: `settings["CHATBOT_RATE_LIMIT"]`.

    The same object reaches the web app (copied into app.config), train.py,
    the evaluation and the build process (through `as_environ`), so a
    clinic's instance/config.toml holds wherever the bot is driven from.
    """

    def __init__(self, values: Mapping[str, Any], instance_path: Path):
        self._values = MappingProxyType(dict(values))
        self.instance_path = Path(instance_path)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Settings({self.instance_path})"

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some values changed (command-line options over the resolved settings)."""
        unknown = [name for name in changes if name not in BY_NAME]
        if unknown:
            raise SettingsError(f"unknown setting(s) {', '.join(sorted(unknown))}")
        return Settings({**self._values, **changes}, self.instance_path)

    def as_environ(self) -> dict[str, str]:
        """The declared settings as environment variables that resolve to the same values
        (for a process started with them, such as a background build)."""
        return {s.name: s.format(self._values[s.name]) for s in SETTINGS if s.name in self._values}

    @property
    def corpus_dir(self) -> Path:
        return Path(self["CHATBOT_CORPUS_DIR"])

    @property
    def index_dir(self) -> Path:
        return Path(self["CHATBOT_INDEX_DIR"])

    @property
    def check_file(self) -> Path:
        """The check-question file: the setting, or check_questions.jsonl in the corpus folder."""
        return Path(self["CHATBOT_CHECK_FILE"] or self.corpus_dir / CHECK_QUESTIONS_FILE)


def default_settings(instance_path: Path = PROJECT_ROOT / "instance") -> Settings:
    """The built-in defaults alone (no config file, no environment): for figures that must not
    depend on one clinic's choices, such as `make eval`."""
    return Settings({s.name: s.default_for(instance_path) for s in SETTINGS}, instance_path)


def resolve_settings(instance_path: Path, environ: Mapping[str, str] | None = None,
                     test_config: dict | None = None) -> Settings:
    """Every setting's value after defaults, instance config, environment and test config."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default_for(instance_path) for s in SETTINGS}
    config_file = instance_path / CONFIG_FILE
    if config_file.is_file():
        try:
            loaded = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{config_file}: {exc}") from None
        values.update(_known(loaded, str(config_file)))
    for setting in SETTINGS:
        if setting.name in environ:
            try:
                values[setting.name] = setting.parse(environ[setting.name])
            except ValueError as exc:
                raise SettingsError(f"environment variable {setting.name}: {exc}") from None
    values.update(_known(test_config or {}, "test config", strict=False))
    return Settings(values, instance_path)


def _known(values: dict, where: str, strict: bool = True) -> dict:
    unknown = [k for k in values if k.startswith("CHATBOT_") and k not in BY_NAME]
    if unknown and strict:
        raise SettingsError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    return dict(values)
