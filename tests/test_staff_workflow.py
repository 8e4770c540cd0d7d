"""Retrain, check, publish, roll back: the staff workflow end to end (no browser)."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from chatbot import close_app, create_app
from chatbot.staff import workspace as workspace_module
from chatbot.staff.checks import GateMargins, gate_reasons
from chatbot.staff.roles import Actor, Role
from chatbot.staff.workspace import GateBlocked

QUESTION = "Do you offer evening appointments for acupuncture?"
ANSWER = "Yes: we offer evening acupuncture appointments on Tuesdays and Thursdays until 8 pm."
STAFF = Actor("staff@example.org", Role.PUBLISHER)


def make_app(tmp_path, database_url, name="a", **settings):
    index_dir = tmp_path / f"index-{name}"
    return create_app({"CHATBOT_INDEX_DIR": str(index_dir), "CHATBOT_DATABASE_URL": database_url,
                       "CHATBOT_RATE_LIMIT": "off", "CHATBOT_INDEX_CHECK_SECONDS": 0.2,
                       "CHATBOT_LOG_LEVEL": "WARNING", **settings})


def wait_for_build(workflow, version, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record = workflow.build_status(version)
        if record.status != "building":
            return record
        time.sleep(0.2)
    raise AssertionError(f"build {version} did not finish")


def ask(app, message):
    return app.test_client().post("/api/chat", json={"message": message}).get_json()


@pytest.fixture
def staff_app(tmp_path, database_url):
    app = make_app(tmp_path, database_url)
    yield app
    close_app(app)


def test_retrain_then_publish_makes_the_chat_serve_the_new_answer(staff_app):
    workflow = staff_app.extensions["chatbot_workspace"]
    before = ask(staff_app, QUESTION)
    assert ANSWER not in str(before["passages"])
    workflow.knowledge.add_faq(QUESTION, ANSWER, ("Are you open in the evening?",), "Clinic hours",
                               "https://example.org/hours", author="staff@example.org")
    version = workflow.start_build("staff@example.org")
    record = wait_for_build(workflow, version)
    assert record.status == "candidate" and record.progress == 100 or record.status == "candidate"
    assert record.report["passages"] > 50
    assert record.evaluation["candidate"]["questions"] >= 40
    _, candidate = workflow.newest_candidate(workflow.published_version())
    assert candidate.responder.respond("Are you open in the evening?", candidate.index).passages[0].text == ANSWER
    workflow.publish(version, STAFF)
    reply = ask(staff_app, "Are you open in the evening?")
    assert reply["index_version"] == version and reply["passages"][0]["text"] == ANSWER
    actions = [entry.action for entry in workflow.audit.recent()]
    assert "retrain" in actions and "publish" in actions


def test_the_safety_gate_blocks_a_candidate_that_misses_an_urgent_question_until_overridden(staff_app):
    workflow = staff_app.extensions["chatbot_workspace"]
    # A check question the screen does not flag stands for an urgent question the candidate misses.
    workflow.knowledge.add_check("my back feels a little stiff today", "urgent", (), "staff@example.org")
    version = workflow.start_build("staff@example.org")
    wait_for_build(workflow, version)
    reasons = workflow.gate(version)
    assert reasons and "urgent" in reasons[0]
    with pytest.raises(GateBlocked):
        workflow.publish(version, STAFF)
    with pytest.raises(GateBlocked):
        workflow.publish(version, STAFF, override_reason="ok")  # too short to count
    workflow.publish(version, STAFF, override_reason="Known false alarm, reviewed by Dr. Lee")
    entry = next(e for e in workflow.audit.recent() if e.action == "publish")
    assert entry.detail["override_reason"] == "Known false alarm, reviewed by Dr. Lee" and entry.detail["gate"]


@pytest.mark.parametrize("published, candidate, blocked", [(0.95, 0.94, False), (0.95, 0.85, True)])
def test_the_gate_blocks_a_drop_in_hit_at_3_beyond_the_margin(published, candidate, blocked):
    evaluation = {"candidate": {"hit@3": candidate}, "published": {"hit@3": published}, "urgent_missed": []}
    assert bool(gate_reasons(evaluation, GateMargins(hit1=0.05, hit3=0.05, answered=0.05, no_answer=0.0))) is blocked


def test_rollback_serves_an_earlier_version_again(staff_app):
    workflow = staff_app.extensions["chatbot_workspace"]
    first = workflow.start_build("staff@example.org")
    wait_for_build(workflow, first)
    workflow.publish(first, STAFF)
    workflow.knowledge.add_faq(QUESTION, ANSWER, (), None, None, author="staff@example.org")
    second = workflow.start_build("staff@example.org")
    wait_for_build(workflow, second)
    workflow.publish(second, STAFF)
    assert ask(staff_app, QUESTION)["index_version"] == second
    workflow.rollback(first, STAFF)
    assert ask(staff_app, QUESTION)["index_version"] == first
    assert [p.version for p in workflow.versions.history()][:3] == [first, second, first]


def test_two_servers_sharing_one_database_both_switch_within_five_seconds(tmp_path, database_url):
    one = make_app(tmp_path, database_url, "one")
    two = make_app(tmp_path, database_url, "two")  # its own local disk
    try:
        workflow = one.extensions["chatbot_workspace"]
        workflow.knowledge.add_faq(QUESTION, ANSWER, (), None, None, author="staff@example.org")
        version = workflow.start_build("staff@example.org")
        wait_for_build(workflow, version)
        two.extensions["chatbot"].live_index.get()  # starts server two's watcher, as a request would
        workflow.publish(version, STAFF)
        published_at = time.monotonic()
        while ask(two, QUESTION)["index_version"] != version:
            assert time.monotonic() - published_at < 5.0, "server two did not switch within 5 s"
            time.sleep(0.1)
        assert ask(two, QUESTION)["passages"][0]["text"] == ANSWER
        assert (tmp_path / "index-two" / "versions" / version).is_dir()
    finally:
        for app in (one, two):
            close_app(app)


def test_a_build_killed_midway_is_discarded_and_the_live_version_keeps_serving(staff_app, monkeypatch):
    workflow = staff_app.extensions["chatbot_workspace"]
    live = ask(staff_app, "Are acupuncture needles sterile?")["index_version"]
    workflow.knowledge.add_faq(QUESTION, ANSWER, (), None, None, author="staff@example.org")
    version = workflow.start_build("staff@example.org")
    process = workflow.build_process(version)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    monkeypatch.setattr(workspace_module, "STALE_BUILD", timedelta(seconds=0))
    time.sleep(0.1)
    record = workflow.build_status(version)
    assert record.status == "failed"
    assert ask(staff_app, "Are acupuncture needles sterile?")["index_version"] == live
    assert [f.question for f in workflow.knowledge.list_faq()] == [QUESTION]  # nothing staff wrote is lost
    with pytest.raises(ValueError):
        workflow.publish(version, STAFF, override_reason="should never be possible")
    monkeypatch.setattr(workspace_module, "STALE_BUILD", timedelta(seconds=30))
    again = workflow.start_build("staff@example.org")  # a new build may start
    assert wait_for_build(workflow, again).status == "candidate"


def test_faq_export_then_import_round_trips_without_loss(tmp_path, staff_app):
    workflow = staff_app.extensions["chatbot_workspace"]
    workflow.knowledge.add_faq('Is it "safe"?', "Yes,\nwith a licensed practitioner; rarely, bruising.",
                               ("Is acupuncture dangerous?", "Any risks?"), "Safety, FAQ",
                               "https://example.org/faq?x=1", author="staff@example.org")
    workflow.knowledge.add_faq("Cost?", "Ask reception.", (), None, None, author="staff@example.org")
    exported = workflow.export_faq_csv()
    other = make_app(tmp_path, f"sqlite:///{tmp_path / 'other.db'}", "other")
    try:
        added, errors = other.extensions["chatbot_workspace"].import_faq_csv(exported, "staff@example.org")
        assert (added, errors) == (2, [])
        assert other.extensions["chatbot_workspace"].export_faq_csv() == exported
    finally:
        other.extensions["chatbot_workspace"].close()
        other.extensions["chatbot"].live_index.stop()


def test_import_reports_bad_rows_by_line(staff_app):
    workflow = staff_app.extensions["chatbot_workspace"]
    text = "question,answer,alternates,source_title,source_url\nGood?,Yes.,,,\nNo answer?,,,,\n"
    added, errors = workflow.import_faq_csv(text, "staff@example.org")
    assert added == 1 and [e.line for e in errors] == [3]


def test_faq_export_and_import_from_the_command_line(tmp_path, staff_app):
    workflow = staff_app.extensions["chatbot_workspace"]
    workflow.knowledge.add_faq("Cost?", "Ask reception, please.", ("Price?",), None, None, author="a@b.example")
    runner = staff_app.test_cli_runner()
    exported = tmp_path / "faq.csv"
    assert runner.invoke(args=["staff", "export-faq", str(exported)]).exit_code == 0
    workflow.knowledge.delete_faq(workflow.knowledge.list_faq()[0].id)
    result = runner.invoke(args=["staff", "import-faq", str(exported)])
    assert result.exit_code == 0 and "Added 1 FAQ entry" in result.output
    assert [(f.question, f.alternates) for f in workflow.knowledge.list_faq()] == [("Cost?", ("Price?",))]
