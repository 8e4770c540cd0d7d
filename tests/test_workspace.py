"""The workspace core and its three doors (staff pages, `flask staff`, train.py) follow one set of rules.

Every door: an objection of the safety gate is overridden only with a reason
of at least MIN_OVERRIDE_CHARS characters, and a rollback to a version the
gate objects to needs one too. Urgent rules travel with the index version,
so an edit to urgent.txt reaches visitors only through a candidate and the
gate. The version a fresh server builds is registered and restorable.
train.py reads the instance's config.toml. staff/ imports no Flask.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from admin_client import EMAIL, PASSWORD, Staff
from chatbot import close_app, create_app
from chatbot.settings import resolve_settings
from chatbot.staff.roles import Actor, Role
from chatbot.staff.workspace import MIN_OVERRIDE_CHARS, PUBLISH, ROLLBACK, GateBlocked, NotAllowed, Workspace
from chatbot.storage import Storage
from scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_CORPUS = REPO_ROOT / "corpus"
STAFF = "staff@example.org"
PUBLISHER = Actor(STAFF, Role.PUBLISHER)  # who may publish and roll back
SHORT_REASON = "x" * (MIN_OVERRIDE_CHARS - 1)
GOOD_REASON = "Reviewed with the practitioner on duty"
FALL = "I fell off a ladder and now my back hurts terribly"
ARTICLE = ("# Needles\n\nAcupuncture needles are very fine, and most patients feel only a brief "
           "prick followed by a dull warmth around the point while they stay in place.\n\n"
           "# Sessions\n\nA typical session lasts thirty to forty minutes, and most people come "
           "once or twice a week for the first month.\n")


@pytest.fixture
def instance(tmp_path):
    """An instance folder whose config.toml points at a small corpus of its own (with the shipped
    urgent and smalltalk rules), its own index folder and database."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "needles.md").write_text(ARTICLE, encoding="utf-8")
    for name in ("urgent.txt", "smalltalk.txt", "synonyms.txt"):
        (corpus / name).write_bytes((SHIPPED_CORPUS / name).read_bytes())
    (corpus / "check_questions.jsonl").write_text(
        f'{{"q": "{FALL}", "expect": "urgent"}}\n'
        '{"q": "How long is a session?", "expect": "answer", "phrases": ["thirty to forty minutes"]}\n',
        encoding="utf-8")
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.toml").write_text(
        f'CHATBOT_CORPUS_DIR = "{corpus}"\n'
        f'CHATBOT_INDEX_DIR = "{folder / "index"}"\n'
        f'CHATBOT_DATABASE_URL = "sqlite:///{folder / "chatbot.db"}"\n'
        'CHATBOT_RATE_LIMIT = "off"\n'
        'CHATBOT_SECRET_KEY = "test-secret-key-not-for-production"\n', encoding="utf-8")
    return folder


@pytest.fixture
def workspace(instance):
    settings = resolve_settings(instance, environ={})
    storage = Storage(settings["CHATBOT_DATABASE_URL"])
    storage.migrate()
    yield Workspace(settings, storage)
    storage.dispose()


def objecting_version(workspace: Workspace) -> str:
    """A finished candidate the gate objects to: a staff check question expects an urgent reply
    to a message no rule flags."""
    workspace.knowledge.add_check("my back feels a little stiff today", "urgent", (), STAFF)
    version = workspace.build(STAFF)
    assert workspace.gate(version), "the gate should object to this candidate"
    return version


@pytest.fixture
def gated(workspace):
    """(older, live): `older` was never published and the gate objects to it; `live` was published
    over the gate with a reason. So `older` qualifies for a rollback, which needs an override."""
    older = objecting_version(workspace)
    live = workspace.build(STAFF)
    workspace.publish(live, PUBLISHER, GOOD_REASON)
    assert workspace.next_step(older) == ROLLBACK and workspace.gate(older)
    return older, live


@pytest.fixture
def app(workspace):
    """A server of the same instance (its settings given whole: create_app's instance folder is the project's)."""
    application = create_app(dict(workspace.settings))
    yield application
    close_app(application)


# -- the core ----------------------------------------------------------------------------

def test_the_core_refuses_a_short_override_and_takes_a_long_one(workspace):
    version = objecting_version(workspace)
    for reason in (None, "", SHORT_REASON, " " * 20):
        with pytest.raises(GateBlocked):
            workspace.publish(version, PUBLISHER, reason)
    assert workspace.published_version() != version
    workspace.publish(version, PUBLISHER, GOOD_REASON)
    assert workspace.published_version() == version
    entry = next(e for e in workspace.audit.recent() if e.action == "publish")
    assert entry.detail["override_reason"] == GOOD_REASON and entry.detail["gate"]


def test_a_rollback_to_a_version_the_gate_objects_to_needs_an_override(workspace, gated):
    older, live = gated
    for reason in (None, SHORT_REASON):
        with pytest.raises(GateBlocked):
            workspace.rollback(older, PUBLISHER, reason)
    assert workspace.published_version() == live
    workspace.rollback(older, PUBLISHER, GOOD_REASON)
    assert workspace.published_version() == older


def test_publish_and_rollback_each_apply_only_to_their_own_kind_of_version(workspace, gated):
    older, live = gated
    with pytest.raises(NotAllowed):
        workspace.publish(older, PUBLISHER, GOOD_REASON)  # older than the live one: a rollback
    with pytest.raises(NotAllowed):
        workspace.rollback(live, PUBLISHER, GOOD_REASON)  # already live
    with pytest.raises(NotAllowed):
        workspace.rollback("20990101T000000.000000Z-abcdef", PUBLISHER, GOOD_REASON)
    newer = workspace.build(STAFF)
    assert workspace.next_step(newer) == PUBLISH
    with pytest.raises(NotAllowed):
        workspace.rollback(newer, PUBLISHER, GOOD_REASON)  # a newer candidate is published, through the gate


# -- the doors ---------------------------------------------------------------------------

def test_the_staff_pages_refuse_a_short_override_for_publish_and_rollback(app, gated, workspace):
    older, live = gated
    newer = objecting_version(workspace)
    workspace.accounts.create(EMAIL, PASSWORD)
    staff = Staff(app)
    for version, step in ((newer, "publish"), (older, "rollback")):
        response = staff.post(f"/admin/versions/{version}/{step}", {"override_reason": SHORT_REASON})
        assert response.status_code == 422
        assert f"at least {MIN_OVERRIDE_CHARS} characters" in response.get_data(as_text=True)
        assert workspace.published_version() == live
    response = staff.post(f"/admin/versions/{older}/rollback", {"override_reason": GOOD_REASON})
    assert response.status_code == 302 and workspace.published_version() == older


def test_flask_staff_refuses_a_short_override_for_publish_and_rollback(app, gated, workspace):
    older, live = gated
    newer = objecting_version(workspace)
    runner = app.test_cli_runner()
    for version, step in ((newer, "publish"), (older, "rollback")):
        for args in ([], ["--override", SHORT_REASON]):
            result = runner.invoke(args=["staff", step, version, *args])
            assert result.exit_code != 0 and "safety checks object" in result.output
            assert "Traceback" not in result.output
            assert workspace.published_version() == live
    result = runner.invoke(args=["staff", "publish", newer, "--override", GOOD_REASON])
    assert result.exit_code == 0, result.output
    assert workspace.published_version() == newer


def test_train_py_refuses_a_short_override_for_publish_and_rollback(instance, gated, workspace, capsys):
    older, live = gated
    train = load_script("train.py")
    assert train.main(["--instance", str(instance), "--publish", "--override", SHORT_REASON]) == 1
    assert "safety gate" in capsys.readouterr().err
    assert workspace.published_version() == live
    for args in ([], ["--override", SHORT_REASON]):
        assert train.main(["--instance", str(instance), "--rollback", older, *args]) == 1
        assert "safety gate" in capsys.readouterr().err
        assert workspace.published_version() == live
    assert train.main(["--instance", str(instance), "--rollback", older, "--override", GOOD_REASON]) == 0
    assert workspace.published_version() == older


def test_train_py_refuses_to_roll_back_to_a_never_published_newer_candidate(instance, workspace, capsys):
    live = workspace.build(STAFF)
    workspace.publish(live, PUBLISHER)
    newer = objecting_version(workspace)
    train = load_script("train.py")
    assert train.main(["--instance", str(instance), "--rollback", newer, "--override", GOOD_REASON]) == 1
    assert "publish it instead" in capsys.readouterr().err
    assert workspace.published_version() == live


def test_train_py_builds_with_the_instance_config_toml(instance, workspace, capsys):
    assert load_script("train.py").main(["--instance", str(instance)]) == 0
    out = capsys.readouterr().out
    version = re.search(r"^index version\s+(\S+)", out, re.M).group(1)
    record = workspace.versions.get(version)  # registered in the database config.toml names
    assert record is not None and record.status == "candidate"
    assert (instance / "index" / "versions" / version).is_dir()  # in the index folder it names
    assert record.report["documents"] == 1  # built from the corpus it names
    assert record.evaluation["candidate"]["questions"] == 2  # checked on that corpus' questions


# -- urgent rules travel with the version -----------------------------------------------------

def test_an_urgent_txt_edit_reaches_visitors_only_through_a_gated_candidate(instance, workspace, app):
    first = workspace.build(STAFF)
    workspace.publish(first, PUBLISHER)
    service = app.extensions["chatbot"]
    service.live_index.refresh()
    served, responder = service.bot()
    assert served.version == first and responder.respond(FALL, served.index).kind == "urgent"

    urgent = Path(workspace.settings.corpus_dir) / "urgent.txt"
    kept = [line for line in urgent.read_text(encoding="utf-8").splitlines()
            if not re.search(r"\bfall|\bfell", line, re.I)]
    urgent.write_text("\n".join(kept) + "\n", encoding="utf-8")

    served, responder = service.bot()  # the edit changes nothing for visitors yet
    assert served.version == first and responder.respond(FALL, served.index).kind == "urgent"
    candidate = workspace.build(STAFF)
    reasons = workspace.gate(candidate)
    assert any(FALL in reason for reason in reasons), reasons
    with pytest.raises(GateBlocked):
        workspace.publish(candidate, PUBLISHER)
    assert workspace.published_version() == first


# -- every version is restorable -----------------------------------------------------------------

def test_the_version_a_fresh_server_builds_is_registered_and_can_be_restored(instance, workspace, app):
    first = app.extensions["chatbot"].live_index.get().version
    record = workspace.versions.get(first)
    assert record is not None and record.status == "candidate"
    assert workspace.versions.download_files(first, instance / "copy")  # its files are in the database
    newer = workspace.build(STAFF)
    workspace.publish(newer, PUBLISHER)
    assert workspace.next_step(first) == ROLLBACK
    workspace.rollback(first, PUBLISHER)
    assert workspace.published_version() == first


# -- layers ------------------------------------------------------------------------------

def test_the_staff_package_imports_no_flask():
    code = ("import pkgutil, importlib, sys, chatbot.staff as staff\n"
            "for module in pkgutil.iter_modules(staff.__path__):\n"
            "    importlib.import_module(f'chatbot.staff.{module.name}')\n"
            "loaded = sorted(m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'flask_')))\n"
            "print(len(list(pkgutil.iter_modules(staff.__path__))), loaded)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    count, loaded = run.stdout.strip().split(" ", 1)
    assert int(count) >= 10 and loaded == "[]"
