"""Staff imports and previews too large for one request are refused up front, in plain words;
an import is written all at once or not at all, and audited either way."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import create_engine, text

from admin_client import EMAIL, PASSWORD, Staff, actions, upload
from chatbot.staff.faq_csv import MAX_IMPORT_ROWS
from chatbot.storage import StorageError


@pytest.fixture
def staff(app, wf) -> Staff:
    wf.accounts.create(EMAIL, PASSWORD)
    return Staff(app)


def faq_csv(rows: int, poison_at: int | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "answer", "alternates", "source_title", "source_url"])
    for i in range(rows):
        question = "Poison?" if i == poison_at else f"Question {i}?"
        writer.writerow([question, f"Answer {i}.", "", "", ""])
    return out.getvalue()


def test_a_40000_row_import_is_refused_before_anything_is_written(staff, wf):
    data = faq_csv(40_000).encode()
    assert len(data) < 2_000_000  # within the upload size limit: the row count is what refuses it
    response = upload(staff, "faq.csv", data, url="/admin/faq/import", field="csv_file")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The file has 40,000 rows; one import takes at most 5,000." in page
    assert "Nothing was imported." in page
    assert wf.knowledge.list_faq() == []
    assert "import_faq_refused" in actions(wf)


def test_an_import_at_the_limit_is_written_whole_and_audited(wf):
    added, errors = wf.import_faq_csv(faq_csv(MAX_IMPORT_ROWS), "staff@example.org")
    assert (added, errors) == (MAX_IMPORT_ROWS, [])
    assert len(wf.knowledge.list_faq()) == MAX_IMPORT_ROWS
    assert actions(wf)[0] == "import_faq"


def test_an_import_the_database_fails_half_way_leaves_nothing_behind(app, wf):
    engine = create_engine(app.config["CHATBOT_DATABASE_URL"])
    with engine.begin() as connection:  # the database refuses one row in the middle of the file
        connection.execute(text("CREATE TRIGGER poison BEFORE INSERT ON faq_entries "
                                "WHEN NEW.question = 'Poison?' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"))
    engine.dispose()
    with pytest.raises(StorageError):
        wf.import_faq_csv(faq_csv(300, poison_at=150), "staff@example.org")
    assert wf.knowledge.list_faq() == []
    assert actions(wf)[0] == "import_faq_failed"


def test_the_command_line_import_refuses_a_file_too_large(runner, wf, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text(faq_csv(MAX_IMPORT_ROWS + 1), encoding="utf-8")
    result = runner.invoke(args=["staff", "import-faq", str(path)])
    assert result.exit_code != 0
    assert f"The file has {MAX_IMPORT_ROWS + 1:,} rows" in result.output
    assert wf.knowledge.list_faq() == []


def test_a_page_too_large_to_preview_is_refused_with_the_limit(staff, wf):
    paragraph = "Acupuncture sessions for lower back pain last about thirty minutes each. " * 10
    page = ("# A long page\n\n" + "\n\n".join([paragraph] * 1200)).encode()
    assert 500_000 < len(page) < 2_000_000
    response = upload(staff, "long.md", page)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "a page can be at most 500 kB" in body and "Split it into smaller pages." in body
    assert wf.knowledge.list_documents() == []


def test_a_page_under_the_preview_limit_is_previewed(staff):
    paragraph = "Acupuncture sessions for lower back pain last about thirty minutes each. "
    page = ("# A page\n\n" + "\n\n".join(paragraph * (3 + i % 5) + f"Point {i}." for i in range(400))).encode()
    assert 100_000 < len(page) < 500_000
    response = upload(staff, "page.md", page)
    assert response.status_code == 200 and "Point 7." in response.get_data(as_text=True)


def test_a_stored_page_too_large_to_preview_is_shown_without_its_passages(staff, wf):
    paragraph = "Acupuncture sessions for lower back pain last about thirty minutes each. " * 10
    page = wf.knowledge.add_document("long.md", ".md", "# A long page\n\n" + "\n\n".join([paragraph] * 1200),
                                     "staff@example.org")
    response = staff.get(f"/admin/pages/{page.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "a page can be at most 500 kB" in body and "Its passages are not shown." in body
