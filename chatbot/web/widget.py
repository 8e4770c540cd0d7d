"""The website widget: the one-line embed, its iframe panel and the demo page (blueprint `widget`).

A clinic adds `<script src="https://BOT-HOST/widget.js" defer></script>` to its
pages. The script adds a launcher button and, on first open, an iframe served
from this origin, so the panel talks to the API same-origin and under this
server's security headers. Which sites may frame the panel is the
CHATBOT_FRAME_ANCESTORS setting.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, request, send_from_directory

from .validation import MAX_COMMENT_CHARS

bp = Blueprint("widget", __name__, static_folder="static")

ACCENT = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
DEFAULT_ACCENT = "#0f6b62"
MAX_OPTION_CHARS = 120


def _option(name: str, default: str) -> str:
    value = (request.args.get(name) or "").strip()
    return value[:MAX_OPTION_CHARS] if value else default


@bp.get("/")
def demo():
    """A made-up clinic page that embeds the widget exactly as a clinic site would."""
    return render_template("demo.html")


@bp.get("/widget/frame")
def frame():
    """The chat panel shown inside the iframe."""
    accent = _option("accent", DEFAULT_ACCENT)
    config = current_app.extensions["chatbot"].current_settings()  # with the clinic settings staff saved
    return render_template(
        "frame.html",
        title=_option("title", config["CHATBOT_WIDGET_TITLE"]),
        greeting=_option("greeting", config["CHATBOT_GREETING"]),
        accent=accent if ACCENT.match(accent) else DEFAULT_ACCENT,
        starters=config["CHATBOT_STARTER_QUESTIONS"],
        comment_max=MAX_COMMENT_CHARS,
    )


@bp.get("/widget.js")
def widget_js():
    return _static("widget.js")


@bp.get("/widget.css")
def widget_css():
    return _static("widget.css")


@bp.get("/favicon.ico")
def favicon():
    return _static("favicon.svg", "image/svg+xml")


def _static(name: str, mimetype: str | None = None):
    response = send_from_directory(bp.static_folder, name, mimetype=mimetype, max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"  # the loader and its CSS are public
    return response
