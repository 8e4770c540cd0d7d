"""The inbox of questions to review (chatbot/staff/inbox.py): what goes in, how it is grouped and
ordered, and the staff actions, each checked after a retrain of a small clinic."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chatbot.passages.questions_file import NO_PASSAGE
from chatbot.settings import resolve_settings
from chatbot.staff.audit import AuditLog
from chatbot.staff.inbox import Inbox
from chatbot.staff.knowledge import KnowledgeStore
from chatbot.staff.workspace import Workspace
from chatbot.storage import Exchange, Storage

SHIPPED_CORPUS = Path(__file__).resolve().parents[1] / "corpus"
STAFF = "staff@example.org"
NOW = datetime.now(timezone.utc)
SETTINGS = {"CHATBOT_INBOX_LOW_CONFIDENCE": 0.65}
ARTICLE = ("# Needles\n\nAcupuncture needles are very fine, and most patients feel only a brief "
           "prick followed by a dull warmth around the point while they stay in place.\n\n"
           "# Sessions\n\nA typical session lasts thirty to forty minutes, and most people come "
           "once or twice a week for the first month.\n\n"
           "# Parking\n\nFree parking is available behind the building, and the entrance has a ramp "
           "for wheelchairs.\n")
INSURANCE_Q = "Do you accept insurance?"
INSURANCE_A = "We accept most major insurance plans; please bring your card to the first visit."
# Visitors' wordings the small clinic cannot answer at first (asserted in each test).
FEEL = ["what will I feel during treatment", "what sensation should I expect during treatment",
        "what will I feel during the treatment?"]
FEEL_NEW = "what do I feel while being treated"
COVER = ["will my health plan cover it", "is it covered by my health plan", "does my health plan cover this"]
COVER_NEW = "would my health plan cover the cost"
OFF_TOPIC = ["can you fix my car engine", "can you repair my car engine?"]
SMOKING = ["can acupuncture needles help me quit smoking", "will acupuncture help me stop smoking",
           "acupuncture sessions to quit smoking?"]
SMOKING_NEW = "could acupuncture help me quit cigarettes and smoking"
_ids = itertools.count()


def record(storage: Storage, text: str, kind: str = "no_answer", confidence: float | None = 0.2,
           age: timedelta = timedelta(0)) -> str:
    message_id = f"m{next(_ids)}"
    storage.record_exchange(Exchange(message_id, None, text, kind, (), (), None, NOW - age, confidence))
    return message_id


def asked(storage: Storage, bot, text: str) -> str:
    """Ask the bot as a visitor would and log the exchange; its message id."""
    answer = bot.responder.respond(text, bot.index)
    return record(storage, text, str(answer.kind), answer.confidence)


@pytest.fixture
def inbox(storage) -> Inbox:
    return Inbox(storage, KnowledgeStore(storage), AuditLog(storage), SETTINGS)


# -- what goes in ------------------------------------------------------------------------

def test_no_answer_low_confidence_and_not_helpful_go_in_the_rest_stays_out(storage, inbox):
    no_answer = record(storage, "do you treat migraines")
    low = record(storage, "does it hurt much", "answer", 0.55)
    sure = record(storage, "how long is a session", "answer", 0.95)
    disliked = record(storage, "where can I park", "answer", 0.9)
    storage.record_feedback(disliked, False, "Not what I asked, call me on 555-123-4567")
    changed_mind = record(storage, "how much is it", "answer", 0.9)
    storage.record_feedback(changed_mind, False)
    storage.record_feedback(changed_mind, True)  # the newest verdict is the visitor's last word
    urgent = record(storage, "I fell and cannot feel my legs", "urgent", None)
    storage.record_feedback(urgent, False)
    record(storage, "hello there", "smalltalk", None)
    groups = inbox.groups()
    found = {message_id: group for group in groups for message_id in group.message_ids}
    assert set(found) == {no_answer, low, disliked}
    assert sure not in found and changed_mind not in found
    assert found[no_answer].reasons == ("no_answer",)
    assert found[low].reasons == ("low_confidence",)
    assert found[disliked].reasons == ("not_helpful",)
    assert found[disliked].comments == ("Not what I asked, call me on [phone]",)  # redacted


def test_the_newest_open_questions_only_with_since(storage, inbox):
    old = record(storage, "do you treat migraines", age=timedelta(days=30))
    new = record(storage, "do you treat sciatica")
    ids = {m for g in inbox.groups(since=NOW - timedelta(days=1)) for m in g.message_ids}
    assert new in ids and old not in ids


def test_grouping_is_deterministic_for_a_fixed_log(storage, inbox):
    for text in FEEL + COVER + OFF_TOPIC:
        record(storage, text)
    first, second = inbox.groups(), inbox.groups()
    assert [(g.key, g.message_ids) for g in first] == [(g.key, g.message_ids) for g in second]
    assert sorted(len(g.message_ids) for g in first) == [2, 3, 3]
    for group in first:
        assert len({text.split()[0] for text in group.examples}) >= 1
        assert group.size == len(group.message_ids) and group.first_seen <= group.last_seen


def test_groups_come_by_size_times_recency_with_the_most_frequent_wording_first(storage, inbox):
    for _ in range(3):
        record(storage, "do you treat migraines", age=timedelta(days=60))
    twice = [record(storage, "is there parking"), record(storage, "is there parking?"),
             record(storage, "Is there parking")]
    record(storage, "can you fix my car engine")
    groups = inbox.groups()
    assert groups[0].message_ids == tuple(sorted(twice))   # 3 today beat 3 two months ago
    assert groups[0].examples == ("Is there parking", "is there parking?")  # one wording (newest spelling) twice
    assert groups[-1].examples == ("do you treat migraines",)
    assert len(inbox.groups(limit=1)) == 1


def test_group_of_given_ids_ignores_unknown_and_handled_ones(storage, inbox):
    a, b = record(storage, "do you treat migraines"), record(storage, "do you treat migraine")
    assert inbox.group([a, b, "unknown"]).message_ids == tuple(sorted([a, b]))
    assert inbox.dismiss([a], STAFF) == 1
    assert inbox.group([a, b]).message_ids == (b,)
    assert inbox.group([a, "unknown"]) is None


# -- actions, without a retrain -------------------------------------------------------------

def test_dismiss_takes_exactly_the_ids_seen_and_is_audited(storage, inbox):
    seen = [record(storage, "do you treat migraines"), record(storage, "do you treat migraine")]
    later = record(storage, "do you treat migraines?")   # arrived after staff opened the group
    assert inbox.dismiss(seen + ["never-handed-out"], STAFF) == 2
    assert inbox.dismiss(seen, STAFF) == 0                   # handled already: ignored
    assert [g.message_ids for g in inbox.groups()] == [(later,)]
    entry = inbox.audit.recent(1)[0]
    assert (entry.actor, entry.action, entry.detail) == (STAFF, "inbox.dismiss", {"questions": 2})


def test_draft_answer_prefills_the_faq_form(storage, inbox):
    ids = [record(storage, "do you treat migraines"), record(storage, "Do you treat migraines"),
           record(storage, "can you help with migraine")]
    assert inbox.draft_answer(ids) == {"question": "Do you treat migraines",  # asked twice, newest spelling
                                       "alternates": ["can you help with migraine"]}
    assert inbox.draft_answer(["unknown"]) == {"question": "", "alternates": []}


def test_bad_input_raises_value_error(storage, inbox):
    ids = [record(storage, "do you treat migraines")]
    for bad in ("m1", None, [1, 2]):
        with pytest.raises(ValueError):
            inbox.dismiss(bad, STAFF)
    with pytest.raises(ValueError):
        inbox.answer_with_entry(ids, 999, STAFF)              # no such entry
    with pytest.raises(ValueError):
        inbox.answer_with_entry(ids, "one", STAFF)
    with pytest.raises(ValueError):
        inbox.answer_with_passage(ids, "no-such-passage", STAFF)  # nothing published to find it in
    with pytest.raises(ValueError):
        inbox.dismiss(ids, None)
    with pytest.raises(ValueError):
        inbox.groups(since=datetime(2026, 1, 1))              # naive
    assert [g.message_ids for g in inbox.groups()] == [tuple(ids)]  # nothing happened


def test_purging_the_chat_log_takes_the_decisions_along(storage, inbox, raw):
    old = record(storage, "do you treat migraines", age=timedelta(days=100))
    inbox.dismiss([old], STAFF)
    assert raw("SELECT count(*) FROM inbox_decisions") == [(1,)]
    assert storage.purge(timedelta(days=90)) == 1
    assert raw("SELECT count(*) FROM inbox_decisions") == [(0,)]


# -- actions, after a retrain -----------------------------------------------------------------

@pytest.fixture
def clinic(tmp_path):
    """A workspace over a small clinic (one article, the shipped rules, one staff FAQ entry),
    its first version built; (workspace, bot of that version, the FAQ entry)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "needles.md").write_text(ARTICLE, encoding="utf-8")
    for name in ("urgent.txt", "smalltalk.txt", "synonyms.txt"):
        (corpus / name).write_bytes((SHIPPED_CORPUS / name).read_bytes())
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.toml").write_text(
        f'CHATBOT_CORPUS_DIR = "{corpus}"\nCHATBOT_INDEX_DIR = "{folder / "index"}"\n'
        f'CHATBOT_DATABASE_URL = "sqlite:///{folder / "chatbot.db"}"\n', encoding="utf-8")
    settings = resolve_settings(folder, environ={})
    storage = Storage(settings["CHATBOT_DATABASE_URL"])
    storage.migrate()
    workspace = Workspace(settings, storage)
    entry = workspace.knowledge.add_faq(INSURANCE_Q, INSURANCE_A, author=STAFF)
    bot = workspace.bot(workspace.build(STAFF))
    yield workspace, bot, entry
    storage.dispose()


def retrained(workspace: Workspace):
    return workspace.bot(workspace.build(STAFF))


def test_answered_by_an_entry_its_wordings_are_answered_by_it_after_a_retrain(clinic):
    workspace, bot, entry = clinic
    assert bot.responder.respond(COVER_NEW, bot.index).kind == "no_answer"
    ids = [asked(workspace.storage, bot, text) for text in COVER]
    (group,) = workspace.inbox.groups(bot)
    assert set(group.message_ids) == set(ids) and group.reply_kind == "no_answer"
    assert workspace.inbox.answer_with_entry(group.message_ids, entry.id, STAFF) == 3
    assert sorted(workspace.knowledge.get_faq(entry.id).alternates) == sorted(COVER)
    checks = workspace.knowledge.list_checks()
    assert sorted((c.question, c.expect, c.phrases) for c in checks) == sorted((t, "answer", (INSURANCE_Q,))
                                                                                for t in COVER)
    assert workspace.inbox.groups(bot) == []
    assert workspace.audit.recent(1)[0].detail == {"faq_id": entry.id, "questions": 3, "wordings_added": 3,
                                                   "check_questions_added": 3}
    after = retrained(workspace)
    reply = after.responder.respond(COVER_NEW, after.index)   # a wording nobody taught
    assert reply.kind == "answer" and reply.passages[0].question == INSURANCE_Q


def test_answered_by_a_passage_the_next_build_answers_its_wordings_with_it(clinic):
    workspace, bot, _ = clinic
    needles = next(p for p in bot.index.passages_ if p.section == "Needles")
    before = bot.responder.respond(FEEL_NEW, bot.index)
    assert before.kind == "no_answer"
    ids = [asked(workspace.storage, bot, text) for text in FEEL]
    candidates = workspace.inbox.search("needles feel", bot)
    assert candidates[0].passage_id == needles.id and candidates[0].faq_id is None
    assert workspace.inbox.answer_with_passage(ids, needles.id, STAFF, bot=bot) == 3
    assert {k: sorted(v) for k, v in workspace.knowledge.taught_questions().items()} == {needles.id: sorted(FEEL)}
    assert {c.expect for c in workspace.knowledge.list_checks()} == {"answer"}
    after = retrained(workspace)
    for text in FEEL:
        reply = after.responder.respond(text, after.index)
        assert reply.kind == "answer" and reply.passages[0].id == needles.id, text
    # A wording nobody taught: the taught passage comes first, and the bot is surer of it than before.
    reply = after.responder.respond(FEEL_NEW, after.index)
    assert reply.passages[0].id == needles.id and reply.confidence > before.confidence
    assert after.index.passages_[0].question is None   # what the visitor reads is unchanged
    assert workspace.versions.get(workspace.versions.list()[0].version).evaluation["candidate"]["hit@1"] == 1.0


def test_not_ours_keeps_saying_it_does_not_know_and_guards_it_with_check_questions(clinic):
    workspace, bot, _ = clinic
    ids = [asked(workspace.storage, bot, text) for text in OFF_TOPIC]
    assert workspace.inbox.not_ours(ids, STAFF) == 2
    checks = workspace.knowledge.list_checks()
    assert sorted((c.question, c.expect) for c in checks) == sorted((t, "no_answer") for t in OFF_TOPIC)
    assert workspace.inbox.groups() == []
    after = retrained(workspace)
    for text in OFF_TOPIC:
        assert after.responder.respond(text, after.index).kind == "no_answer"
    kinds = workspace.versions.get(workspace.versions.list()[0].version).evaluation["candidate"]["kinds"]
    assert kinds["no_answer"] == {"questions": 2, "correct": 2, "rate": 1.0}


def test_not_ours_teaches_the_bot_to_doubt_questions_like_them(clinic):
    workspace, bot, _ = clinic
    before = {text: bot.responder.respond(text, bot.index).confidence for text in (*SMOKING, SMOKING_NEW)}
    ids = [asked(workspace.storage, bot, text) for text in SMOKING]
    workspace.inbox.not_ours(ids, STAFF)
    assert sorted(workspace.knowledge.taught_questions()[NO_PASSAGE]) == sorted(SMOKING)
    assert workspace.audit.recent(1)[0].detail["wordings_added"] == len(SMOKING)
    after = retrained(workspace)
    assert set(SMOKING) <= set(after.index.unanswered)
    for text in (*SMOKING, SMOKING_NEW):  # SMOKING_NEW: a wording nobody marked
        reply = after.responder.respond(text, after.index)
        assert reply.kind == "no_answer" and reply.confidence < before[text], text


def test_a_question_marked_not_ours_then_answered_is_no_longer_counted_unanswered(clinic):
    workspace, bot, entry = clinic
    workspace.inbox.not_ours([asked(workspace.storage, bot, COVER[0])], STAFF)
    assert COVER[0] in retrained(workspace).index.unanswered
    workspace.knowledge.update_faq(entry.id, question=INSURANCE_Q, answer=INSURANCE_A, alternates=(COVER[0],),
                                   source_title=None, source_url=None, editor=STAFF)
    assert COVER[0] not in retrained(workspace).index.unanswered


def test_a_group_shows_the_closest_entries_with_their_faq_ids(clinic):
    workspace, bot, entry = clinic
    asked(workspace.storage, bot, "do you take insurance from my employer")
    (group,) = workspace.inbox.groups(bot)
    assert any(c.faq_id == entry.id and c.title == INSURANCE_Q for c in group.closest)


def test_the_chat_api_stores_each_reply_s_answer_probability(app, client):
    client.post("/api/chat", json={"message": "How long do the needles stay in?"})
    client.post("/api/chat", json={"message": "I fell off a ladder and cannot feel my legs"})
    assert app.extensions["chatbot_chat_log"].flush()
    storage = app.extensions["chatbot"].storage
    answered, urgent = sorted(storage.recent_exchanges(2), key=lambda e: e.kind)
    assert answered.kind == "answer" and 0.5 <= answered.confidence <= 1.0
    assert urgent.kind == "urgent" and urgent.confidence is None


def test_taught_questions_can_be_forgotten_and_change_the_staff_fingerprint(storage):
    knowledge = KnowledgeStore(storage)
    empty = knowledge.fingerprint()
    assert knowledge.add_taught_questions("p1", ["what will I feel", "  "], STAFF) == 1
    assert knowledge.taught_questions() == {"p1": ("what will I feel",)}
    assert knowledge.fingerprint() != empty           # a build from this content could differ
    assert knowledge.forget_taught_questions("p1") == 1
    assert knowledge.taught_questions() == {} and knowledge.fingerprint() == empty
    with pytest.raises(ValueError):
        knowledge.add_taught_questions("", ["q"], STAFF)


def test_a_spooled_exchange_from_before_the_confidence_column_is_stored_without_one(storage):
    from chatbot.storage.records import exchange_record, exchange_row
    record = exchange_record(Exchange("old-1", None, "do you treat migraines", "no_answer", (), (), None, NOW))
    del record["confidence"]
    assert exchange_row(record)["confidence"] is None
    storage.store_records([record], [])
    assert storage.get_exchange("old-1").confidence is None
    for bad in (float("nan"), 1.5, "high"):
        with pytest.raises(ValueError):
            exchange_row({**record, "confidence": bad})
