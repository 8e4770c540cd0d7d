"""Files staff upload: pages (text, Markdown, HTML) and FAQ CSV files, read and checked.

    page = read_uploaded_page(request.files["page"])   # UploadError with a message for staff

A CSV file must be at most 2 MB, a page at most 500 kB (so that its preview
takes seconds, not the request's whole time budget); both UTF-8 (a
byte-order mark is allowed) and holding some text. A page read here is held
in the database until its preview is confirmed (staff/pages.py hold_upload).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from ..staff.pages import MAX_DOCUMENT_BYTES

MAX_UPLOAD_BYTES = MAX_DOCUMENT_BYTES  # the largest page the knowledge store keeps (2 MB)
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // 1_000_000
# A page is previewed as passages in the upload request: about 1.2 s for
# 500 kB of text, 4.6 s for 1.9 MB on 2 loaded cores, and some pages take
# far longer per byte. Larger pages are refused before they are parsed.
MAX_PAGE_BYTES = 500_000
# Room for the form around a 2 MB file.
UPLOAD_BODY_LIMIT = 4 * 1024 * 1024
PAGE_SUFFIXES = {".txt": ".txt", ".md": ".md", ".markdown": ".md", ".html": ".html", ".htm": ".html"}
CSV_SUFFIXES = {".csv": ".csv"}


class UploadError(ValueError):
    """An uploaded file cannot be used; the message says why, for staff."""


@dataclass(frozen=True)
class UploadedPage:
    """A page as it will be stored: safe file name with its canonical suffix, and its text."""
    filename: str
    suffix: str
    text: str


def read_uploaded_page(upload: FileStorage | None) -> UploadedPage:
    """The page in an uploaded .txt, .md or .html file; UploadError for anything else."""
    filename, suffix = _safe_name(upload, PAGE_SUFFIXES, "a text (.txt), Markdown (.md) or HTML (.html) page")
    text = _read_text(upload)
    too_large = too_large_to_preview(text)
    if too_large:
        raise UploadError(f"{too_large} Split it into smaller pages.")
    return UploadedPage(filename, suffix, text)


def submitted_file(form, field, reader):
    """What `reader` (read_uploaded_page, read_uploaded_csv) makes of the file in `field` of a
    submitted, valid `form`; None when there is none (a GET, an invalid form, or a file that cannot
    be read: the reason is then in the field's errors, so `form.errors` says whether to answer 422)."""
    if not form.validate_on_submit():
        return None
    try:
        return reader(field.data)
    except UploadError as error:
        field.errors.append(str(error))
        return None


def too_large_to_preview(text: str) -> str | None:
    """Why a page's passages cannot be shown within a request's time budget, or None when they can."""
    size = len(text.encode("utf-8"))
    if size <= MAX_PAGE_BYTES:
        return None
    return (f"The page is {_in_words(size)}; a page can be at most {_in_words(MAX_PAGE_BYTES)}, "
            "so that it can be previewed in a few seconds.")


def _in_words(size: int) -> str:
    """500 kB, 1.9 MB: sizes as staff read them."""
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1000))} kB"


def read_uploaded_csv(upload: FileStorage | None) -> str:
    """The text of an uploaded .csv file; UploadError for anything else."""
    _safe_name(upload, CSV_SUFFIXES, "a CSV (.csv) file")
    return _read_text(upload)


def _safe_name(upload: FileStorage | None, suffixes: dict[str, str], wanted: str) -> tuple[str, str]:
    if upload is None or not upload.filename:
        raise UploadError("Choose a file to upload.")
    name = PurePosixPath(secure_filename(upload.filename).lower())
    suffix = suffixes.get(name.suffix)
    if suffix is None or not name.stem:
        raise UploadError(f"Wrong type of file: upload {wanted}.")
    return name.stem + suffix, suffix


def _read_text(upload: FileStorage) -> str:
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is too large: at most {MAX_UPLOAD_MB} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("The file cannot be read as text: save it as UTF-8 and upload it again.") from None
    if "\x00" in text:
        raise UploadError("The file is not a text file: save it as UTF-8 text and upload it again.")
    if not text.strip():
        raise UploadError("The file is empty.")
    return text
