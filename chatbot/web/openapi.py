"""The OpenAPI 3 description of the JSON API (served at /api/openapi.json).

Tests validate real responses against these schemas, so the document and
the endpoints cannot drift apart.
"""
from __future__ import annotations

from flask import Flask

from .. import __version__
from ..answer.kinds import ReplyKind
from .validation import MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS

_NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS = {
    "ChatRequest": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                        "description": "The visitor's message; 1-1000 characters after trimming."},
            "session_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                           "description": "Optional id that groups one visitor's messages."},
            "top_k": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3,
                      "description": "How many passages to return."},
        },
    },
    "Source": {
        "type": "object",
        "required": ["doc_id", "title", "publisher", "url", "section"],
        "properties": {"doc_id": {"type": "string"}, "title": {"type": "string"},
                       "publisher": _NULLABLE_STRING, "url": _NULLABLE_STRING, "section": _NULLABLE_STRING},
    },
    "Passage": {
        "type": "object",
        "required": ["id", "text", "highlight", "score", "question", "source"],
        "properties": {
            "id": {"type": "string", "description": "Stable id: the same text from the same source keeps it."},
            "text": {"type": "string"},
            "highlight": {"type": "string", "description": "The sentence(s) of text that best match."},
            "score": {"type": "number", "minimum": 0, "maximum": 4,
                      "description": "Relevance, higher is closer, comparable across questions to one index "
                                     "version: a match in [0, 1], plus up to 3 when the passage's written "
                                     "questions say it is the one asked for."},
            "question": {**_NULLABLE_STRING, "description": "The FAQ question when the passage is an FAQ entry."},
            "source": {"$ref": "#/components/schemas/Source"},
        },
    },
    "ChatResponse": {
        "type": "object",
        "required": ["kind", "reply", "passages", "suggestions", "message_id", "index_version"],
        "properties": {
            "kind": {"type": "string", "enum": [kind.value for kind in ReplyKind]},
            "reply": {"type": "string", "description": "Plain text (never HTML)."},
            "passages": {"type": "array", "items": {"$ref": "#/components/schemas/Passage"}, "maxItems": 10},
            "suggestions": {"type": "array", "items": {"type": "string"}},
            "message_id": {"type": "string", "pattern": "^[0-9a-f]{48}$",
                           "description": "Signed id of this reply, to send feedback on it."},
            "index_version": {"type": "string"},
        },
    },
    "FeedbackRequest": {
        "type": "object",
        "required": ["message_id", "helpful"],
        "properties": {"message_id": {"type": "string", "description": "The message_id of a chat response."},
                       "helpful": {"type": "boolean"},
                       "comment": {"type": "string", "maxLength": MAX_COMMENT_CHARS}},
    },
    "Health": {
        "type": "object",
        "required": ["status", "index_version", "index_source", "documents", "passages", "database", "spool"],
        "properties": {"status": {"type": "string", "enum": ["ok", "degraded"],
                                  "description": "degraded while the database fails, the spool holds records "
                                                 "or a corpus-only fallback index is served"},
                       "index_version": {"type": "string"},
                       "index_source": {"type": "string", "enum": ["published", "corpus-fallback"],
                                        "description": "corpus-fallback: no copy of the published version could "
                                                       "be loaded, so an index of the corpus alone (without "
                                                       "staff content) is served"},
                       "documents": {"type": "integer"},
                       "passages": {"type": "integer"},
                       "database": {"type": "string", "enum": ["ok", "unavailable"],
                                    "description": "whether the last write or ping (at most a few seconds "
                                                   "old) worked within half a second"},
                       "spool": {"type": "integer", "minimum": 0,
                                 "description": "exchanges and feedback kept on local disk until the "
                                                "database takes them"}},
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
                                 "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(schema: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def openapi_document(app: Flask | None = None) -> dict:
    """The API description as a dict."""
    common_errors = {"400": _error("Invalid request (see error.code)"),
                     "413": _error("Request body too large"),
                     "415": _error("Body is not JSON"),
                     "429": _error("Rate limit reached; see the Retry-After header")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Acupuncture back-pain chatbot API", "version": __version__,
                 "description": "Answers visitors' questions from the clinic's documents, with sources."},
        "paths": {
            "/api/chat": {"post": {
                "summary": "Reply to a visitor's message",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
                "responses": {"200": _json("ChatResponse", "The reply"), **common_errors},
            }},
            "/api/feedback": {"post": {
                "summary": "Say whether a reply helped",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/FeedbackRequest"}}}},
                "responses": {"204": {"description": "Accepted: stored now, or once the database takes it "
                                                     "(feedback on a reply made while the database was down "
                                                     "is kept and stored after it recovers)"},
                              "404": _error("Not a message_id this service handed out (checked by its "
                                            "signature, without the database)"),
                              "503": _error("Neither the database nor the local spool can keep it"),
                              **common_errors},
            }},
            "/api/health": {"get": {"summary": "Service state",
                                    "responses": {"200": _json("Health", "What is served")}}},
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": {"description": "OpenAPI 3 document"}}}},
        },
        "components": {"schemas": SCHEMAS},
    }
