"""Shared fixtures: small made-up corpora, hand-made passages and the default corpus built once."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

from chatbot.build import BuildResult, build_index
from chatbot.index import PassageIndex
from chatbot.passages import Passage, Source, passage_id
from chatbot.storage import Storage

# Apps made by tests sign staff cookies with a fixed key instead of writing
# instance/secret_key into the project folder.
os.environ.setdefault("CHATBOT_SECRET_KEY", "test-secret-key-not-for-production")


@pytest.fixture(autouse=True)
def own_server_state(tmp_path, monkeypatch):
    """Each test's apps keep rate-limit counters and the hashing lock in a folder of their own,
    as one server does: no test (or concurrent test run) counts another's logins."""
    monkeypatch.setenv("CHATBOT_SERVER_STATE_DIR", str(tmp_path / "server-state"))
    # Tests sign in far more often than staff do; tests/test_login_flood.py tests the budget itself.
    monkeypatch.setenv("CHATBOT_PASSWORD_CHECK_RATE_LIMIT", "1000/minute")


REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT / "corpus"
DEV_FILE = Path(__file__).resolve().parent / "data" / "dev.jsonl"

# One topic per document, so a test can say which document a query must find
# without depending on how documents are cut into passages.
TOPIC_DOCUMENTS = {
    "acupuncture.md": (
        "# How acupuncture works\n\n"
        "Acupuncture uses thin sterile needles placed at chosen points to relieve chronic "
        "lower back pain and stiffness over a course of several weekly sessions.\n"),
    "side-effects.md": (
        "# Side effects\n\n"
        "Common side effects are mild soreness, small bruises and brief tiredness after a "
        "session, while serious problems are rare when a trained practitioner does the work.\n"),
    "cupping.md": (
        "# Cupping\n\n"
        "Cupping places glass or silicone cups on the skin and uses gentle suction to loosen "
        "tight muscles of the back and shoulders for a few minutes at a time.\n"),
    "needles.md": (
        "# The needles\n\n"
        "The needles are single-use, very fine and flexible, and usually cause only a brief "
        "prick followed by a dull warmth when they go into the skin.\n"),
}


@pytest.fixture
def topic_files() -> dict[str, str]:
    """The files of a small corpus with one topic per document (a fresh copy per test)."""
    return dict(TOPIC_DOCUMENTS)


@pytest.fixture
def make_corpus(tmp_path):
    """Factory: write `files` (relative path -> text or bytes) into a new corpus folder."""
    counter = iter(range(1_000))

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        root = tmp_path / (name or f"corpus{next(counter)}")
        root.mkdir()
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


def _make_passage(doc_id: str, text: str, section: str | None = None,
                  question: str | None = None, alternates: tuple[str, ...] = ()) -> Passage:
    key = f"{question}\n{text}" if question else text
    return Passage(passage_id(doc_id, key), text, Source(doc_id, doc_id.title(), section=section),
                   "faq" if question else "text", question, tuple(alternates))


@pytest.fixture(scope="session")
def make_passage():
    """Factory: a passage built by hand, independent of cleaning and segmentation (a plain
    function, so module- and session-scoped fixtures may use it too)."""
    return _make_passage


@pytest.fixture
def topic_passages() -> list[Passage]:
    """One hand-made passage per topic; the doc_id names the topic."""
    texts = {
        "acupuncture": "Acupuncture uses thin sterile needles placed at chosen points to relieve "
                       "chronic lower back pain and stiffness.",
        "effects": "Common side effects are mild soreness, small bruises and brief tiredness after "
                   "a session; serious problems are rare.",
        "cupping": "Cupping places glass or silicone cups on the skin and uses suction to loosen "
                   "tight muscles of the back.",
        "needles": "The needles are single-use, very fine and usually cause only a brief prick "
                   "when they go in.",
        "plan": "Patients receive a written plan describing how many sessions are recommended "
                "and how often.",
    }
    return [_make_passage(doc_id, text) for doc_id, text in texts.items()]


@pytest.fixture
def topic_index(topic_passages) -> PassageIndex:
    return PassageIndex().fit(topic_passages)


@pytest.fixture(scope="session")
def default_build() -> BuildResult:
    """The index of the project's own corpus/ folder, built once per test session."""
    return build_index(DEFAULT_CORPUS)


@pytest.fixture(scope="session")
def default_index(default_build) -> PassageIndex:
    return default_build.index


@pytest.fixture(scope="session")
def dev_questions() -> list[str]:
    """The visitor questions of the dev evaluation file (all kinds, answerable or not)."""
    lines = DEV_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


# -- the Flask app ---------------------------------------------------------------

@pytest.fixture(scope="session")
def shared_index_dir(tmp_path_factory) -> Path:
    """An index folder with the default corpus published once; apps only read it."""
    from chatbot.build import publish_build
    folder = tmp_path_factory.mktemp("index")
    publish_build(build_index(DEFAULT_CORPUS), folder, DEFAULT_CORPUS)
    return folder


@pytest.fixture
def app(tmp_path, shared_index_dir):
    """An app over the shared index with its own SQLite database and no rate limit."""
    from chatbot import close_app, create_app
    application = create_app({"CHATBOT_INDEX_DIR": str(shared_index_dir), "CHATBOT_RATE_LIMIT": "off",
                              "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chatbot.db'}",
                              "CHATBOT_SPOOL_DIR": str(tmp_path / "spool"),
                              "CHATBOT_SECRET_KEY": "test-secret-key-not-for-production"})
    yield application
    close_app(application)


@pytest.fixture
def wf(app):
    """The app's staff workspace (accounts, audit, knowledge, versions)."""
    return app.extensions["chatbot_workspace"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- databases -------------------------------------------------------------------

POSTGRES_URL = os.environ.get("CHATBOT_TEST_POSTGRES_URL")
NO_POSTGRES = "set CHATBOT_TEST_POSTGRES_URL=postgresql+psycopg://user@127.0.0.1:5432/db to test PostgreSQL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason=NO_POSTGRES))])
def database_url(request, tmp_path):
    """URL of an empty database: a new SQLite file, or a new schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chatbot.db'}"
        return
    schema = f"test_{secrets.token_hex(6)}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def make_storage():
    """Factory: a Storage whose connections are closed after the test."""
    made: list[Storage] = []

    def make(url: str, **options) -> Storage:
        made.append(Storage(url, **options))
        return made[-1]

    yield make
    for storage in made:
        storage.dispose()


@pytest.fixture
def storage(make_storage, database_url):
    """A migrated Storage on an empty database."""
    storage = make_storage(database_url)
    storage.migrate()
    return storage


@pytest.fixture
def raw(database_url):
    """Run SQL on the test database past the stores, to see exactly what was written."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    engine = create_engine(database_url, poolclass=NullPool)

    def query(sql: str, **params) -> list[tuple]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    yield query
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (browser tests only: their module imports tests/browser.py, which skips without it)."""
    from browser import CHROMIUM, LAUNCH_ARGS, sync_api
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()
