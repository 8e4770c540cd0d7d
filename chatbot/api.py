"""The JSON API the widget and other clients talk to (blueprint `api`)."""
from __future__ import annotations

import logging
import time
import uuid

from flask import Blueprint, current_app, jsonify, request

from .answer.policy import Answer
from .errors import ApiError
from .limits import limiter, visitor_limit, visitor_limit_off
from .openapi import openapi_document
from .service import current_service
from .storage import Exchange, StorageError
from .validation import parse_chat, parse_feedback

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


@bp.post("/chat")
@limiter.limit(visitor_limit, exempt_when=visitor_limit_off)
def chat():
    """Reply to a visitor's message (see the OpenAPI document for the contract)."""
    started = time.perf_counter()
    chat_request = parse_chat(request)
    service = current_service()
    served = service.live_index.get()
    answer = service.responder().respond(chat_request.message, served.index, chat_request.top_k)
    message_id = uuid.uuid4().hex
    stored = _store(service, Exchange(message_id, chat_request.session_id, chat_request.message, answer.kind,
                                      tuple(p.id for p in answer.passages),
                                      tuple(p.score for p in answer.passages), served.version))
    # Logs carry ids, sizes, kinds, scores and timings; never the visitor's words.
    log.info("chat message_id=%s length=%d kind=%s top_score=%.3f passages=%s index=%s stored=%s ms=%.1f",
             message_id, len(chat_request.message), answer.kind,
             answer.passages[0].score if answer.passages else 0.0,
             ",".join(p.id for p in answer.passages), served.version, stored,
             (time.perf_counter() - started) * 1000)
    return jsonify(answer_json(answer, message_id, served.version))


def _store(service, exchange: Exchange) -> bool:
    try:
        service.storage.record_exchange(exchange)
        return True
    except StorageError as exc:
        log.warning("exchange %s not stored: %s", exchange.message_id, exc)
        return False


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
@limiter.limit(visitor_limit, exempt_when=visitor_limit_off)
def feedback():
    """Record whether a reply helped: 204, or 404 for an unknown message id."""
    feedback_request = parse_feedback(request)
    try:
        known = current_service().storage.record_feedback(
            feedback_request.message_id, feedback_request.helpful, feedback_request.comment)
    except StorageError as exc:
        log.warning("feedback for %s not stored: %s", feedback_request.message_id, exc)
        raise ApiError(503, "storage_unavailable", "Feedback cannot be saved right now; please try later.") from None
    if not known:
        raise ApiError(404, "unknown_message", "There is no reply with that message_id.")
    log.info("feedback message_id=%s helpful=%s comment_length=%d", feedback_request.message_id,
             feedback_request.helpful, len(feedback_request.comment or ""))
    return "", 204


@bp.get("/health")
def health():
    """Liveness and what is served: index version and counts, database state."""
    service = current_service()
    served = service.live_index.get()
    try:
        service.storage.ping()
        database = "ok"
    except StorageError:
        database = "unavailable"
    documents = served.manifest.get("build", {}).get("documents", 0)
    return jsonify({"status": "ok" if database == "ok" else "degraded", "index_version": served.version,
                    "documents": documents, "passages": len(served.index.passages_), "database": database})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app))
