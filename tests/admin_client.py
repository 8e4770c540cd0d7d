"""A signed-in staff member for the admin page tests: a test client that sends the CSRF token.

    accounts.create(EMAIL, PASSWORD); staff = Staff(app)
    staff.post("/admin/faq/new", {...}); staff.text("/admin/knowledge")
"""
from __future__ import annotations

import io
import re

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

EMAIL = "anna@example.com"
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Staff:
    """A logged-in test client that sends the CSRF token with every form."""

    def __init__(self, app, email: str = EMAIL, password: str = PASSWORD):
        self.client = app.test_client()
        page = self.client.get("/admin/login").get_data(as_text=True)
        response = self.client.post("/admin/login", data={"csrf_token": TOKEN.search(page).group(1),
                                                          "email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = TOKEN.search(self.client.get("/admin/").get_data(as_text=True)).group(1)

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)


def actions(workspace) -> list[str]:
    """The audit log's actions, newest first."""
    return [entry.action for entry in workspace.audit.recent()]


PAGE_UPLOAD = "/admin/pages/upload"


def upload(staff: Staff, name: str, content: bytes, url: str = PAGE_UPLOAD, field: str = "page"):
    """POST `content` as the file `name` (the body is built in memory: the test client's own
    encoder would leave a temporary file open for a large one). A page upload's answer is its
    preview, the page the upload redirects to."""
    boundary, body = encode_multipart({"csrf_token": staff.token, field: FileStorage(io.BytesIO(content), name)})
    return staff.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                             follow_redirects=url == PAGE_UPLOAD)
