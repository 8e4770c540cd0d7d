"""The key that signs staff session cookies: the setting, or one made once per instance folder."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
KEY_BYTES = 32


def secret_key_for(setting: str, instance_path: Path) -> str:
    """CHATBOT_SECRET_KEY when set, else the key kept in `<instance>/secret_key` (made on first use)."""
    if setting and setting.strip():
        return setting.strip()
    return load_or_create_secret_key(Path(instance_path) / SECRET_KEY_FILE)


def load_or_create_secret_key(path: Path) -> str:
    """The key stored in `path`; a new random one, written with mode 0600, when the file is missing.

    The new key is written to a temporary file and linked into place, so
    workers starting together agree on one key and none reads half a file.
    """
    if path.is_file():
        return _read_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:  # another worker was first: use its key
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if len(key) < KEY_BYTES:
        raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one")
    return key
