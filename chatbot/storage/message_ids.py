"""Reply ids that prove themselves: a random part and an HMAC tag made with the app's secret key.

Feedback may arrive before its exchange is in the database (the database was
down, or another worker still holds the exchange in its queue). Any worker on
any server sharing the secret key can still tell an id the bot handed out
from a made-up one, without asking the database.

    ids = MessageIds(secret_key)
    message_id = ids.new()         # 48 hex characters
    ids.is_genuine(message_id)     # True; False for anything not made with this key
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

RANDOM_BYTES = 16   # 128 bits: never repeats
TAG_BYTES = 8       # 64 bits: guessing a tag takes 2**63 tries on average
# Derived key: the app's secret key also signs staff cookies; a tag made for
# one use must never be valid for the other.
PURPOSE = b"chatbot message id v1"


class MessageIds:
    """Makes and checks message ids; thread-safe (no state besides the key)."""

    def __init__(self, secret_key: str | bytes):
        if not secret_key:
            raise ValueError("a secret key is needed to sign message ids")
        key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        self._key = hmac.new(key, PURPOSE, hashlib.sha256).digest()

    def new(self) -> str:
        """A fresh id: 32 hex characters of randomness, then 16 of tag."""
        random_part = secrets.token_hex(RANDOM_BYTES)
        return random_part + self._tag(random_part)

    def is_genuine(self, message_id: str) -> bool:
        """True when `message_id` was made by new() with the same secret key."""
        if not isinstance(message_id, str) or len(message_id) != 2 * (RANDOM_BYTES + TAG_BYTES):
            return False
        random_part, tag = message_id[:2 * RANDOM_BYTES], message_id[2 * RANDOM_BYTES:]
        return hmac.compare_digest(tag, self._tag(random_part))

    def _tag(self, random_part: str) -> str:
        digest = hmac.new(self._key, random_part.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return digest[:2 * TAG_BYTES]
