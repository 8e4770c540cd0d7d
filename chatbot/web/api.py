"""The JSON API the widget and other clients talk to (blueprint `api`)."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request

from ..answer.policy import Answer
from ..service import current_service
from ..storage import Exchange, Storage, StorageError
from ..storage.message_ids import MessageIds
from ..storage.spool import Spool
from ..storage.writer import ChatLogWriter
from .errors import ApiError
from .limits import visitor_limited
from .openapi import openapi_document
from .validation import parse_chat, parse_feedback

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)
_make_lock = threading.Lock()
# The chat log's own connections wait briefly: its writer retries, and a
# request never waits on them. Staff pages keep the service's patient storage.
CHAT_LOG_LOCK_TIMEOUT = 1.0
CHAT_LOG_STATEMENT_TIMEOUT = 5.0
HEALTH_WAIT = 0.5


@bp.post("/chat")
@visitor_limited
def chat():
    """Reply to a visitor's message (see the OpenAPI document for the contract)."""
    started = time.perf_counter()
    chat_request = parse_chat(request)
    service = current_service()
    served, responder = service.bot()
    answer = responder.respond(chat_request.message, served.index, chat_request.top_k)
    message_id = message_ids(current_app).new()
    stored = _store(Exchange(message_id, chat_request.session_id, chat_request.message, answer.kind,
                             tuple(p.id for p in answer.passages), tuple(p.score for p in answer.passages),
                             served.version, datetime.now(timezone.utc), answer.confidence))
    # Logs carry ids, sizes, kinds, scores and timings; never the visitor's words. DEBUG, not INFO:
    # the stored exchange holds the same ids, kind and scores, and the access log has a line per
    # request; at INFO this line was about 4% of a chat's server CPU (bench/README.md). Its
    # arguments are made only when the line is written.
    if log.isEnabledFor(logging.DEBUG):
        log.debug("chat message_id=%s length=%d kind=%s top_score=%.3f passages=%s index=%s logged=%s ms=%.1f",
                  message_id, len(chat_request.message), answer.kind,
                  answer.passages[0].score if answer.passages else 0.0,
                  ",".join(p.id for p in answer.passages), served.version, stored,
                  (time.perf_counter() - started) * 1000)
    return jsonify(answer_json(answer, message_id, served.version))


def _store(exchange: Exchange) -> bool:
    """Hand the exchange to the chat log (queued, written later); False when it could not even be kept."""
    try:
        chat_log(current_app).record_exchange(exchange)
        return True
    except StorageError as exc:
        log.error("exchange %s lost: %s", exchange.message_id, exc)
        return False


def chat_log(app: Flask) -> ChatLogWriter:
    """The app's chat-log writer, made on first use (its threads start per process, on first use too)."""
    writer = app.extensions.get("chatbot_chat_log")
    if writer is None:
        with _make_lock:
            writer = app.extensions.get("chatbot_chat_log")
            if writer is None:
                storage = Storage(app.config["CHATBOT_DATABASE_URL"], timeout=CHAT_LOG_LOCK_TIMEOUT,
                                  statement_timeout=CHAT_LOG_STATEMENT_TIMEOUT)
                writer = ChatLogWriter(storage, Spool(Path(app.config["CHATBOT_SPOOL_DIR"])))
                app.extensions["chatbot_chat_log"] = writer
    return writer


def message_ids(app: Flask) -> MessageIds:
    """Signs and checks message ids with the app's secret key (the same on every server)."""
    ids = app.extensions.get("chatbot_message_ids")
    if ids is None:
        ids = app.extensions["chatbot_message_ids"] = MessageIds(app.secret_key)
    return ids


def answer_json(answer: Answer, message_id: str, index_version: str) -> dict:
    """The chat response body."""
    return {
        "kind": answer.kind,
        "reply": answer.reply,
        "passages": [{
            "id": p.id, "text": p.text, "highlight": p.highlight, "score": round(p.score, 4),
            "question": p.question,
            "source": {"doc_id": p.source.doc_id, "title": p.source.title, "publisher": p.source.publisher,
                       "url": p.source.url, "section": p.source.section},
        } for p in answer.passages],
        "suggestions": list(answer.suggestions),
        "message_id": message_id,
        "index_version": index_version,
    }


@bp.post("/feedback")
@visitor_limited
def feedback():
    """Record whether a reply helped: 204 (queued), or 404 for an id this service never handed out.

    The id is checked by its signature, not in the database, so feedback on a
    reply made while the database was down is accepted and stored later.
    """
    feedback_request = parse_feedback(request)
    if not message_ids(current_app).is_genuine(feedback_request.message_id):
        raise ApiError(404, "unknown_message", "There is no reply with that message_id.")
    try:
        chat_log(current_app).record_feedback(
            feedback_request.message_id, feedback_request.helpful, feedback_request.comment)
    except StorageError as exc:
        log.error("feedback for %s not kept: %s", feedback_request.message_id, exc)
        raise ApiError(503, "storage_unavailable", "Feedback cannot be saved right now; please try later.") from None
    log.info("feedback message_id=%s helpful=%s comment_length=%d", feedback_request.message_id,
             feedback_request.helpful, len(feedback_request.comment or ""))
    return "", 204


@bp.get("/health")
def health():
    """Liveness and what is served: index version and counts, database and spool state.

    Never waits on the database for more than HEALTH_WAIT seconds: the
    writer's last result is used, refreshed by a ping when it is stale.
    "degraded" while the database fails or records wait in the spool.
    """
    service = current_service()
    served = service.live_index.get()
    log_state = chat_log(current_app).status(wait=HEALTH_WAIT)
    healthy = log_state.database == "ok" and log_state.spooled == 0 and served.source == "published"
    documents = served.manifest.get("build", {}).get("documents", 0)
    return jsonify({"status": "ok" if healthy else "degraded", "index_version": served.version,
                    "index_source": served.source,
                    "documents": documents, "passages": len(served.index.passages_),
                    "database": log_state.database, "spool": log_state.spooled})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app))
