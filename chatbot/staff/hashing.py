"""At most a few password hashes at once on one server, whichever worker runs them.

A password hash (scrypt, n = 2**17) takes about 0.4 s of a core and 128 MiB.
Unbounded, a flood of failed logins spread over many addresses, each within
its limit, took every core and cut chat from about 280 to 4 requests/s. The
gate holds one `fcntl.flock` slot file per allowed hash in a folder every
worker of the server sees; a login that finds every slot taken is refused
with `HashingBusy` (the caller answers 503 "try again") instead of piling up
behind the others.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Half the cores, at least one: on a 2-core server one hash runs while the
# other core keeps answering chat.
DEFAULT_SLOTS = max(1, (os.cpu_count() or 2) // 2)
# Refuse at once: a login waiting for a slot holds a worker thread that chat
# needs. With a 0.5 s wait, a flood's waiting logins took most of the threads
# and chat fell to a third (bench/bench_login.py); staff retry a 503 instead.
DEFAULT_WAIT_SECONDS = 0.0
POLL_SECONDS = 0.02
LOCK_NAME = "password-hashing-{slot}.lock"


class HashingBusy(Exception):
    """Every hashing slot stayed taken for the whole wait; try again in a moment."""


class HashingGate:
    """A server-wide limit on concurrent password hashes, through lock files in `folder`.

    Each `hold()` takes one slot (do not nest them). The kernel releases a
    lock when its worker dies, so a crash never leaves a slot taken.
    `waits` counts the times a caller found every slot taken (tests observe
    queueing through it, not through timing).
    """

    def __init__(self, folder: Path | str, slots: int = DEFAULT_SLOTS,
                 wait_seconds: float = DEFAULT_WAIT_SECONDS):
        if slots < 1:
            raise ValueError("a hashing gate needs at least one slot")
        self.folder = Path(folder)
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.waits = 0

    def _try_slots(self) -> int | None:
        """An open, locked slot file descriptor, or None when every slot is taken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for slot in range(self.slots):
            # A new open file description each time: flock excludes other
            # descriptions, so threads of one worker exclude each other too.
            descriptor = os.open(self.folder / LOCK_NAME.format(slot=slot), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return descriptor
            except BlockingIOError:
                os.close(descriptor)
        return None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Run the body holding one slot; HashingBusy when none frees up within `wait_seconds`."""
        descriptor = self._try_slots()
        if descriptor is None:
            self.waits += 1
            deadline = time.monotonic() + self.wait_seconds
            while descriptor is None and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
                descriptor = self._try_slots()
            if descriptor is None:
                raise HashingBusy("every password-hashing slot is taken")
        try:
            yield
        finally:
            os.close(descriptor)  # closing the only descriptor releases the lock


class NoGate:
    """No limit (tools and tests that hash outside a server)."""

    waits = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        yield
