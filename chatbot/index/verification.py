"""Checking an index version's files against their checksums, once per server rather than once per process.

A publish used to hash the whole version three times on one server: the
publisher's check, then each worker's load (523 MB each at 64k passages,
about 1.7 CPU s in all, taken from the requests being served). Now the
process that saves a version into a store (it has just hashed what it
wrote), or else the first one that checks it, writes a record of what it
found, and later loads hash only the files that are not exactly as recorded.

The record (``INDEX_DIR/verified/<version>.json``, replaced atomically, one
per version) holds for each data file the checksum it matched and the file's
device, inode, size, mtime_ns and ctime_ns when it was read, plus this
machine's boot id. A file is trusted without hashing only if all of those are
unchanged and the manifest still expects that checksum. What that keeps:

- a file rewritten, truncated, renamed over or copied changes its inode,
  size or ctime (ctime cannot be set back, not even by utime), so it is
  hashed again: a corrupt or missing local copy is still found, and fetched
  again from the database (a fetched copy has new inodes, so it is hashed);
- after a reboot, when a crash may have lost writes, the boot id differs and
  every file is hashed once more;
- a record that is missing, unreadable or of another format is ignored.

What it trusts: damage that changes no metadata at all after the first
check, within one boot; the same trust a running worker already gives the
pages it mapped at its load. Whoever can write the record can also rewrite
the files and the manifest's checksums, so it opens nothing new to an
attacker.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

RECORD_FORMAT = 1
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at `path`, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def boot_id() -> str:
    """This boot's id (Linux); "" where the system has none, and then records outlive a reboot."""
    try:
        return BOOT_ID_FILE.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def file_stamp(path: Path) -> list[int]:
    """What changes whenever the file's contents are changed or replaced."""
    status = os.stat(path)
    return [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns]


def _read_record(record: Path) -> dict[str, dict]:
    """{file name: {"stamp", "sha256"}} from `record`; {} when absent, unreadable, foreign or from another boot."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT or data.get("boot_id") != boot_id():
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_record(record: Path, files: dict[str, dict]) -> None:
    """Replace `record` atomically (a reader sees the old record or the new one); failures are ignored:
    without a record the next load hashes in full, which is correct, only slower."""
    temporary = record.parent / f".{record.name}.{os.getpid()}.{secrets.token_hex(3)}"
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"format": RECORD_FORMAT, "boot_id": boot_id(), "files": files}),
                             encoding="utf-8")
        os.replace(temporary, record)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def first_mismatch(folder: Path, names: Iterable[str], expected: dict, record: Path | None = None) -> str | None:
    """The first of `names` (files in `folder`) whose SHA-256 is not `expected[name]`; None when all match.

    With a `record` path, files recorded there as matching, and unchanged
    since, are not read again; files hashed now and found whole are added to
    the record. Without one, every file is hashed.
    """
    trusted = _read_record(record) if record is not None else {}
    checked: dict[str, dict] = {}
    for name in names:
        path = folder / name
        want = expected.get(name)
        stamp = file_stamp(path)
        entry = {"stamp": stamp, "sha256": want}
        if want is not None and trusted.get(name) == entry:
            checked[name] = entry
            continue
        if want != sha256_of(path):
            return name
        if file_stamp(path) == stamp:  # not changed while it was read: what was hashed is what is there
            checked[name] = entry
    if record is not None and checked != trusted:
        _write_record(record, checked)
    return None


def record_as_written(folder: Path, checksums: dict[str, str], record: Path) -> None:
    """Record the files of `folder` as matching `checksums` without reading them again.

    Only for the process that has just written them, computed `checksums`
    from what it wrote and made them durable (IndexStore.add): the record then
    says no more than that process knows. Any later change is caught by the
    stamps, as for a record made by hashing.
    """
    _write_record(record, {name: {"stamp": file_stamp(folder / name), "sha256": checksum}
                           for name, checksum in checksums.items()})
