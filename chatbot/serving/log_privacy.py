"""No IP address in any log line: a filter that replaces addresses with "[ip]".

    install_log_privacy()                       # the app's log handlers and Flask-Limiter's logger
    logger_class = "chatbot.serving.log_privacy.PrivateGunicornLogger"   # gunicorn.conf.py

Addresses reach logs from libraries we do not control: Flask-Limiter's
"ratelimit ... (203.0.113.7) exceeded" line, gunicorn's error log. Rather
than chase each message, every record passing these handlers is scrubbed.
"""
from __future__ import annotations

import logging

from gunicorn.glogging import Logger as GunicornLogger

from ..storage.redaction import redact_ip_addresses

LIMITER_LOGGER = "flask-limiter"


class AddressScrubber(logging.Filter):
    """Rewrites a record's message with IP addresses replaced; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        # The record keeps the message formatted once: handlers format it
        # again from msg and args otherwise (the same text, twice the work).
        record.msg, record.args = redact_ip_addresses(message), None
        if record.exc_info and not record.exc_text:
            # A traceback's messages name addresses too ("connection to 127.0.0.1 refused");
            # handlers print exc_text when it is set.
            record.exc_text = redact_ip_addresses(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()


_SCRUBBER = AddressScrubber()


def scrub(target) -> None:
    """Add the scrubber to a logger or handler once."""
    if _SCRUBBER not in target.filters:
        target.addFilter(_SCRUBBER)


def install_log_privacy() -> None:
    """Scrub the root logger's handlers and, at the source, Flask-Limiter's records
    (a logger's own filter also covers handlers added later, such as a test's)."""
    for handler in logging.getLogger().handlers:
        scrub(handler)
    scrub(logging.getLogger(LIMITER_LOGGER))


class PrivateGunicornLogger(GunicornLogger):
    """gunicorn's logger with addresses scrubbed from its error and access logs."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                scrub(handler)
