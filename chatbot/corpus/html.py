"""HTML pages: the main content is extracted by trafilatura, not by hand.

trafilatura drops navigation, footers and boilerplate using the page's markup
and returns Markdown, which then goes through the same parser and cleaning as
a text document, so the rules for headings, lists and tables stay in one place.
"""
from __future__ import annotations

import trafilatura


class HtmlError(ValueError):
    pass


def extract_html(html: str) -> tuple[dict[str, str | None], str]:
    """Return (metadata, markdown body) of an HTML page; raise HtmlError if it has no text."""
    body = trafilatura.extract(html, output_format="markdown", include_tables=True,
                               include_comments=False, include_images=False,
                               include_links=False, include_formatting=False,
                               favor_recall=True, with_metadata=False)
    if not body or not body.strip():
        raise HtmlError("no readable main content found in the HTML page")
    meta = trafilatura.extract_metadata(html)
    found = {
        "title": getattr(meta, "title", None),
        "publisher": getattr(meta, "sitename", None),
        "url": getattr(meta, "url", None),
    }
    if found["url"] and not str(found["url"]).startswith(("http://", "https://")):
        found["url"] = None
    return {k: v for k, v in found.items() if v}, body
