"""The safety gate: a candidate is compared with the published version on what visitors see
(right passage first, answered, declined, urgent), each side with its own rules, and the
check questions that got worse are named, on hand-made indexes and through the admin pages."""
from __future__ import annotations

import html
import re
import shutil
import time

import pytest

from admin_client import EMAIL, PASSWORD, Staff, upload
from chatbot import create_app
from chatbot.admin.check_report import evaluation_rows
from chatbot.answer.policy import PolicySettings, Responder
from chatbot.answer.urgent import UrgentScreen
from chatbot.evaluate import EvalQuestion, read_eval_file
from chatbot.index import PassageIndex
from chatbot.settings import resolve_settings
from chatbot.staff.checks import GateMargins, VersionBot, compare, gate_reasons
from chatbot.staff.versions import VersionRegistry
from conftest import DEFAULT_CORPUS

MARGINS = GateMargins(hit1=0.05, hit3=0.05, answered=0.05, no_answer=0.0)
FALL = "I fell off a ladder and now my back hurts terribly"
URGENT_RULES = "treatment: acup, needl\nmedical: back pain after a fall => fell, fall + back hurts, back pain\n"
# The same rule after an edit that asks for a height: the ladder question no longer matches.
EDITED_URGENT_RULES = "treatment: acup, needl\nmedical: back pain after a fall => fell from a roof + back pain\n"

TOPICS = {
    "effects": "Common side effects are mild soreness, small bruises and brief tiredness after a session; "
               "serious problems are rare.",
    "needles": "The needles are single-use, very fine and usually cause only a brief prick when they go in.",
    "cupping": "Cupping places glass or silicone cups on the skin and uses suction to loosen tight muscles "
               "of the back.",
    "plan": "Patients receive a written plan describing how many sessions are recommended and how often.",
}
ANSWERABLE = [EvalQuestion("effects", "What are the side effects?", "answer", ("mild soreness",)),
              EvalQuestion("needles", "Are the needles fine?", "answer", ("very fine",)),
              EvalQuestion("cupping", "How does cupping work?", "answer", ("glass or silicone cups",)),
              EvalQuestion("plan", "How many sessions are recommended?", "answer", ("written plan",))]
OUT_OF_SCOPE = EvalQuestion("phone", "Which phone should I buy?", "no_answer")
URGENT = EvalQuestion("fall", FALL, "urgent")
QUESTIONS = [*ANSWERABLE, OUT_OF_SCOPE, URGENT]


def responder(rules: str = URGENT_RULES) -> Responder:
    screen, errors = UrgentScreen.from_text(rules)
    assert not errors, errors
    # A fixed threshold: the scenarios are about what the gate does with the answers, and on
    # four hand-made passages "How does cupping work?" is answered at 0.45 (its "work" is in
    # no passage), below the shipped default fitted on real suites.
    return Responder(screen, PolicySettings(threshold=0.4))


@pytest.fixture
def published(make_passage) -> VersionBot:
    return VersionBot(responder(), PassageIndex().fit([make_passage(d, t) for d, t in TOPICS.items()]))


def candidate_with(make_passage, extra: dict[str, str], rules: str = URGENT_RULES, drop: str = "") -> VersionBot:
    """The published topics plus `extra` passages (doc_id -> text), less the topic `drop`."""
    texts = {**{d: t for d, t in TOPICS.items() if d != drop}, **extra}
    return VersionBot(responder(rules), PassageIndex().fit([make_passage(d, t) for d, t in texts.items()]))


def worse(changes: list) -> dict[str, list[str]]:
    return {c["question"]: c["why"] for c in changes if c["worse"]}


# -- compare and gate_reasons on hand-made versions ------------------------------------------

def test_the_same_version_on_both_sides_changes_nothing_and_passes(published):
    evaluation, changes = compare(published, published, QUESTIONS)
    assert changes == [] and evaluation["urgent_missed"] == []
    assert evaluation["candidate"] == evaluation["published"]
    assert evaluation["candidate"]["hit@1"] == 1.0
    assert evaluation["candidate"]["kinds"]["no_answer"]["correct"] == 1
    assert gate_reasons(evaluation, MARGINS) == []


def test_generic_short_answers_push_the_right_passage_down_and_hit_at_1_blocks(published, make_passage):
    generic = {f"quick-{n}": f"Ask your practitioner about {topic}." for n, topic in
               enumerate(("side effects", "cupping"))}
    evaluation, changes = compare(candidate_with(make_passage, generic), published, QUESTIONS)
    before, after = evaluation["published"], evaluation["candidate"]
    assert (before["hit@1"], after["hit@1"]) == (1.0, 0.5)
    assert before["hit@3"] == after["hit@3"] == 1.0  # the old hit@3-only gate saw no problem
    assert gate_reasons(evaluation, MARGINS)[0] == (
        "Right passage shown first on the check questions drops from 1.00 to 0.50 (more than 0.05 allowed).")
    assert set(worse(changes)) == {"What are the side effects?", "How does cupping work?"}
    assert all(any(reason.startswith("Right passage → wrong passage") for reason in why)
               for why in worse(changes).values()), worse(changes)


def test_an_answer_that_becomes_i_dont_know_is_worse_and_blocks_on_the_answered_share(published, make_passage):
    evaluation, changes = compare(candidate_with(make_passage, {}, drop="cupping"), published, QUESTIONS)
    assert evaluation["candidate"]["kinds"]["answer"]["correct"] == 3
    assert worse(changes)["How does cupping work?"][0].startswith("Answer → “I don't know”")
    reasons = gate_reasons(evaluation, MARGINS)
    assert ("Share of answerable check questions that get an answer drops from 1.00 to 0.75 "
            "(more than 0.05 allowed).") in reasons


def test_an_out_of_scope_question_that_gets_answered_is_worse_and_blocks(published, make_passage):
    voucher = {"vouchers": "Which gift should I buy? Buy a gift voucher for a session: "
                           "a phone call to the clinic is all it takes."}
    evaluation, changes = compare(candidate_with(make_passage, voucher), published, QUESTIONS)
    assert worse(changes)["Which phone should I buy?"][0].startswith("Declined → answered")
    assert changes[0]["question"] == "Which phone should I buy?" and changes[0]["after"]["kind"] == "answer"
    assert gate_reasons(evaluation, MARGINS) == [
        "Share of out-of-scope check questions the bot declines (“I don't know”) drops from 1.00 to 0.00 "
        "(no drop allowed)."]


def test_each_side_answers_with_its_own_urgent_rules_and_an_urgent_miss_blocks(published, make_passage):
    candidate = candidate_with(make_passage, {}, rules=EDITED_URGENT_RULES)
    evaluation, changes = compare(candidate, published, QUESTIONS)
    assert evaluation["urgent_missed"] == [FALL]
    assert evaluation["published"]["kinds"]["urgent"]["correct"] == 1
    assert worse(changes)[FALL][0].startswith("Urgent → not urgent")
    assert gate_reasons(evaluation, MARGINS)[0] == f"The urgent check question “{FALL}” is not sent to urgent care."


def test_an_urgent_miss_blocks_without_a_published_version_to_compare_with(make_passage):
    candidate = candidate_with(make_passage, {}, rules=EDITED_URGENT_RULES)
    evaluation, changes = compare(candidate, None, QUESTIONS)
    assert evaluation["published"] is None and changes == []
    assert evaluation["urgent_missed"] == [FALL]
    assert len(gate_reasons(evaluation, MARGINS)) == 1


def test_changes_that_got_worse_come_first_and_the_others_are_still_listed(published, make_passage):
    # The new passage takes "Are the needles fine?" first while still holding the expected words,
    # and pushes the cupping passage down: one change is worse, the other is not.
    extra = {"needles-faq": "Yes: the needles are very fine, finer than a hair.",
             "cupping-faq": "Ask your practitioner how cupping works for you."}
    _, changes = compare(candidate_with(make_passage, extra), published, QUESTIONS)
    flags = [c["worse"] for c in changes]
    assert flags == sorted(flags, reverse=True) and True in flags and False in flags
    unchanged_kind = next(c for c in changes if not c["worse"])
    assert unchanged_kind["why"] == [] and unchanged_kind["after"]["correct"]


@pytest.mark.parametrize("figure, margin_name, published, candidate, blocked", [
    ("hit@1", "hit1", 0.95, 0.90, False),  # exactly the margin: float noise must not block
    ("hit@1", "hit1", 0.95, 0.89, True),
    ("hit@3", "hit3", 0.97, 0.80, True),
    ("hit@3", "hit3", 0.80, 0.97, False),
])
def test_a_figure_blocks_only_when_it_drops_by_more_than_its_margin(figure, margin_name, published, candidate,
                                                                    blocked):
    evaluation = {"candidate": {figure: candidate}, "published": {figure: published}, "urgent_missed": []}
    assert bool(gate_reasons(evaluation, MARGINS)) is blocked
    loose = GateMargins(**{**MARGINS.__dict__, margin_name: 0.5})
    assert gate_reasons(evaluation, loose) == []


OLD_FIGURES = {"questions": 45, "hit@1": 0.8788, "hit@3": 0.9697, "mrr": 0.9286,
               "kinds": {"answer": {"questions": 33, "correct": 33, "rate": 1.0},
                         "urgent": {"questions": 4, "correct": 4, "rate": 1.0}}}


@pytest.mark.parametrize("evaluation", [
    {},
    {"candidate": None, "published": None},
    {"candidate": {"hit@3": 0.9}, "published": None, "urgent_missed": []},
    {"candidate": {"hit@3": 0.9}, "published": {"hit@3": 0.9}},
    {"candidate": OLD_FIGURES, "published": OLD_FIGURES, "urgent_missed": []},
    {"candidate": {**OLD_FIGURES, "kinds": {}}, "published": {"questions": 45}, "urgent_missed": []},
])
def test_an_evaluation_stored_in_an_older_shape_is_read_and_its_missing_figures_not_judged(evaluation):
    assert gate_reasons(evaluation, MARGINS) == []
    rows = evaluation_rows(evaluation)
    assert all(isinstance(cell, str) for row in rows for cell in row[1:])


def test_the_figures_table_has_plain_labels_with_counts_and_shares():
    evaluation = {"candidate": {**OLD_FIGURES, "hit@1": 0.5758},
                  "published": {**OLD_FIGURES, "kinds": {"answer": {"questions": 33, "correct": 30, "rate": 0.9091}}}}
    rows = {label: (candidate, before) for label, candidate, before in evaluation_rows(evaluation)}
    assert rows["Right answer shown first"] == ("0.576", "0.879")
    assert rows["Answerable questions that get an answer"] == ("33 of 33 (1.00)", "30 of 33 (0.91)")
    assert rows["Urgent questions sent to urgent care"] == ("4 of 4 (1.00)", "—")


def test_the_margins_come_from_the_settings(tmp_path):
    (tmp_path / "config.toml").write_text("CHATBOT_GATE_MAX_HIT1_DROP = 0.1\nCHATBOT_GATE_MAX_NO_ANSWER_DROP = 0.2\n")
    settings = resolve_settings(tmp_path, environ={"CHATBOT_GATE_MAX_ANSWERED_DROP": "0.3"})
    assert GateMargins.from_settings(settings) == GateMargins(hit1=0.1, hit3=0.05, answered=0.3, no_answer=0.2)


# -- through the admin pages ---------------------------------------------------------------

BUILD_TIMEOUT_SECONDS = 180
# A page of short "ask your practitioner" answers on the topics the check questions ask about:
# each passage matches many questions and is short, so it outranks the passage that answers.
GENERIC_TOPICS = ("acupuncture for back pain", "risks and bruising", "the needles", "acupoints",
                  "electroacupuncture", "cupping", "studies and research", "Chinese medicine", "placebo",
                  "medication and cost", "nerves", "moxa")
GENERIC_PAGE = ("---\ntitle: Quick answers\npublisher: Evergreen Acupuncture Clinic\n---\n"
                + "".join(f"# {topic.capitalize()}\n\nPlease ask your practitioner about {topic}.\n\n"
                          for topic in GENERIC_TOPICS))


@pytest.fixture
def gate_app(tmp_path, shared_index_dir):
    """An app over its own copy of the index, with a staff account made through `flask staff create`."""
    index_dir = tmp_path / "index"
    shutil.copytree(shared_index_dir, index_dir)
    app = create_app({"CHATBOT_INDEX_DIR": str(index_dir), "CHATBOT_RATE_LIMIT": "off",
                      "CHATBOT_LOG_LEVEL": "WARNING", "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'gate.db'}"})
    created = app.test_cli_runner().invoke(args=["staff", "create", EMAIL], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    yield app
    app.extensions["chatbot_workspace"].close()  # waits for the build process it started
    app.extensions["chatbot"].live_index.stop()
    app.extensions["chatbot"].storage.dispose()


def finished(staff: Staff, version: str) -> dict:
    """The build's status once it is no longer building (followed as a script would, over HTTP)."""
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    while (status := staff.get(f"/admin/versions/{version}/status.json").get_json())["status"] == "building":
        assert time.monotonic() < deadline, f"build {version} did not finish"
        time.sleep(0.2)
    return status


def test_a_page_of_generic_answers_is_blocked_and_the_page_lists_the_questions_that_got_worse(gate_app):
    staff = Staff(gate_app)
    preview = upload(staff, "quick-answers.md", GENERIC_PAGE.encode()).get_data(as_text=True)
    token = re.search(r'name="upload" type="hidden" value="([^"]+)"', preview).group(1)
    assert staff.post("/admin/pages/confirm", {"upload": token}).status_code == 302

    version = staff.post("/admin/versions/retrain").headers["Location"].rsplit("/", 1)[1]
    assert finished(staff, version)["status"] == "candidate"
    page = staff.text(f"/admin/versions/{version}")

    assert "The safety checks object to this version" in page
    assert re.search(r"Right passage shown first on the check questions drops from 0\.\d\d to 0\.\d\d", page)
    worse_section = page[page.index("Check questions that got worse"):]
    others_at = worse_section.find("Other replies that changed")
    worse_items = worse_section[:others_at if others_at >= 0 else None]
    assert worse_items.count('class="change is-worse"') >= 3
    assert "Right passage → wrong passage" in worse_items and "Please ask your practitioner about" in worse_items
    check_questions = [q.question for q in read_eval_file(DEFAULT_CORPUS / "check_questions.jsonl")]
    assert any(html.escape(q) in worse_items for q in check_questions)  # the clinic's own check questions

    refused = staff.post(f"/admin/versions/{version}/publish", {"override_reason": ""})
    assert refused.status_code == 422
    assert "Check questions that got worse" in refused.get_data(as_text=True)
    assert staff.get("/api/health").get_json()["index_version"] != version


OLD_CHANGE = {"question": "Are acupuncture needles sterile?", "expect": "answer",
              "before": {"kind": "answer", "passage": "p1", "text": "Needles are sterile and single-use.",
                         "score": 0.5, "correct": True},
              "after": {"kind": "no_answer", "passage": None, "text": None, "score": None, "correct": False}}


def test_a_candidate_recorded_in_the_older_shape_still_shows_its_page(gate_app):
    registry = VersionRegistry(gate_app.extensions["chatbot"].storage)
    version = gate_app.extensions["chatbot"].live_index.store.new_version_id()
    registry.start(version, EMAIL)
    evaluation = {"candidate": {**OLD_FIGURES, "hit@3": 0.80}, "published": OLD_FIGURES, "urgent_missed": []}
    registry.finish(version, {"documents": 3, "passages": 40}, evaluation, [OLD_CHANGE])
    text = Staff(gate_app).text(f"/admin/versions/{version}")
    assert "Right passage among the first three on the check questions drops from 0.97 to 0.80" in text
    assert "Replies that changed (1)" in text and "Are acupuncture needles sterile?" in text
    assert "Check questions that got worse" not in text  # an older record did not judge its changes
