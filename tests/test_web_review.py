"""The review web app through FastAPI's TestClient: sign-in, CSRF, tenancy, abuse, the flows."""

from __future__ import annotations

import re
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import AuditRow, CorrectionRow, DocumentRow, PostingRow, QueueItemRow, init_db
from core.settings import Settings
from exceptions_queue import users
from exceptions_queue.demo import make_invoice
from exceptions_queue.security import COOKIE, SessionCodec
from exceptions_queue.web import create_app

with warnings.catch_warnings():
    # Starlette asks for `httpx2` instead of `httpx`; the TestClient works the same with either.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "s3cret-pass"


class World:
    """Two clients' invoices and five users in a fresh SQLite database, behind a fresh app.

    The database is built once per module (argon2 hashing is deliberately slow) and copied.
    """

    def __init__(self, tmp_path: Path, template: tuple[Path, str, str]) -> None:
        db_file, self.acme, self.globex = template
        shutil.copy(db_file, tmp_path / "web.db")
        self.settings = Settings(home=tmp_path / "home", environment="test",
                                 database_url=f"sqlite:///{tmp_path / 'web.db'}",
                                 secret_key="test-secret-key-for-web", session_hours=1)
        self.engine = init_db(self.settings.db_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.app = create_app(self.settings)

    def client(self) -> TestClient:
        return TestClient(self.app)

    def db(self) -> Session:
        return self.sessions()

    def item(self, document_id: str) -> QueueItemRow:
        with self.db() as s:
            row = s.get(QueueItemRow, document_id)
            assert row is not None
            return row

    def count(self, model: Any) -> int:
        with self.db() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    base = tmp_path_factory.mktemp("web-template")
    engine = init_db(f"sqlite:///{base / 'template.db'}")
    with sessionmaker(engine)() as s, s.begin():
        acme, _ = make_invoice(s, "acme", base / "img", name="acme-1.pdf")
        globex, _ = make_invoice(s, "globex", base / "img", name="globex-1.pdf")
        for name, role, clients in (("ann", "reviewer", ["acme"]), ("amy", "reviewer", ["acme"]),
                                    ("gus", "reviewer", ["globex"]), ("fin", "finance", ["acme"]),
                                    ("root", "admin", [])):
            users.add_user(s, name, role, clients, PASSWORD)
        ids = (acme.id, globex.id)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return base / "template.db", ids[0], ids[1]


@pytest.fixture
def world(tmp_path: Path, template: tuple[Path, str, str]) -> Iterator[World]:
    yield World(tmp_path, template)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    token = client.get("/api/session").json()["csrf_token"]
    assert isinstance(token, str) and len(token) > 20
    return token


# --------------------------------------------------------------------------- sign-in


def test_sign_in_sets_a_protected_cookie(world: World) -> None:
    c = world.client()
    assert c.get("/queue", follow_redirects=False).status_code == 303
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token,
                               "next": "/queue"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=3600" in cookie
    page = c.get("/queue")
    assert page.status_code == 200 and "acme-1.pdf" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    c.get("/logout")
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused(world: World) -> None:
    c = world.client()
    token = csrf_of(c.get("/login").text)
    for user, password in (("ann", "wrong-password"), ("nobody", PASSWORD), ("", "")):
        r = c.post("/login", data={"username": user, "password": password, "csrf_token": token})
        assert r.status_code == 401
        assert "Wrong user name or password" in r.text
    assert c.get("/queue", follow_redirects=False).status_code == 303
    assert c.post("/api/login", json={"username": "ann", "password": "nope"}).status_code == 401


def test_login_form_needs_its_csrf_token(world: World) -> None:
    c = world.client()
    c.get("/login")
    r = c.post("/login", data={"username": "ann", "password": PASSWORD})
    assert r.status_code == 403
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_open_redirect_after_login_is_refused(world: World) -> None:
    c = world.client()
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token,
                               "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/queue"


def test_expired_session_is_refused_and_changes_nothing(world: World,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec(world.settings.secret_key, 3600)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 2 * 3600)
    cookie, data = codec.dump("ann")
    monkeypatch.setattr(time, "time", real)
    c = world.client()
    c.cookies.set(COOKIE, cookie)
    r = c.get("/queue", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    r = c.post(f"/items/{world.acme}/claim", data={"csrf_token": data.csrf})
    assert r.status_code == 401
    assert c.get(f"/api/items/{world.acme}").status_code == 401
    assert world.item(world.acme).state == "open"
    assert "session has expired" in c.get("/login?expired=1").text


def test_forged_cookie_is_ignored(world: World) -> None:
    forged, _ = SessionCodec("another-secret", 3600).dump("root")
    c = world.client()
    c.cookies.set(COOKIE, forged)
    assert c.get("/api/session").status_code == 401


# --------------------------------------------------------------------------- CSRF


def test_missing_or_wrong_csrf_token_changes_nothing(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    assert c.post(f"/items/{world.acme}/claim", data={}).status_code == 403
    assert c.post(f"/items/{world.acme}/claim", data={"csrf_token": "x" + token}).status_code == 403
    assert world.item(world.acme).state == "open"
    assert c.post(f"/items/{world.acme}/claim", data={"csrf_token": token},
                  follow_redirects=False).status_code == 303
    r = c.post(f"/items/{world.acme}/approve",
               data={"field:total_amount": "144.00", "override_note": "x"})
    assert r.status_code == 403
    assert world.item(world.acme).state == "claimed"
    assert world.count(CorrectionRow) == 0 and world.count(PostingRow) == 0
    # the API wants the token as a header
    assert c.post(f"/api/items/{world.acme}/release").status_code == 403
    assert c.post(f"/api/items/{world.acme}/release",
                  headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert world.item(world.acme).state == "claimed"


# --------------------------------------------------------------------------- tenancy and ids


def test_reviewer_never_sees_another_clients_item(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    assert "globex-1.pdf" not in c.get("/queue").text
    assert "globex-1.pdf" not in c.get("/queue?client=globex").text
    for path in (f"/items/{world.globex}", f"/items/{world.globex}/audit",
                 f"/items/{world.globex}/pages/0", f"/api/items/{world.globex}",
                 f"/api/items/{world.globex}/audit"):
        assert c.get(path).status_code == 404, path
    for action in ("claim", "save", "approve", "reject", "escalate", "release"):
        r = c.post(f"/items/{world.globex}/{action}",
                   data={"csrf_token": token, "reason": "x", "field:total_amount": "1"})
        assert r.status_code == 404, action
    r = c.post(f"/api/items/{world.globex}/claim", headers={"X-CSRF-Token": token})
    assert r.status_code == 404
    assert [i["client"] for i in c.get("/api/queue").json()] == ["acme"]
    assert world.item(world.globex).state == "open"
    # claim-next never reaches into another client's queue
    c.post("/queue/claim-next", data={"csrf_token": token})
    c.post(f"/items/{world.acme}/release", data={"csrf_token": token})
    c.post(f"/items/{world.acme}/claim", data={"csrf_token": token})
    assert c.post("/queue/claim-next", data={"csrf_token": token},
                  follow_redirects=False).headers["location"] == "/queue?done=empty"
    assert world.item(world.globex).state == "open"


@pytest.mark.parametrize("bad_id", ["0" * 64, "..%2F..%2Fetc%2Fpasswd", "abc'--", "x" * 65,
                                    "%3Cscript%3E"])
def test_tampered_ids_are_404(world: World, bad_id: str) -> None:
    c = world.client()
    token = login(c, "root")
    assert c.get(f"/items/{bad_id}").status_code == 404
    assert c.get(f"/api/items/{bad_id}").status_code == 404
    r = c.post(f"/items/{bad_id}/claim", data={"csrf_token": token})
    assert r.status_code == 404
    assert c.get(f"/items/{world.acme}/pages/7").status_code == 404
    assert c.post(f"/items/{world.acme}/delete", data={"csrf_token": token}).status_code == 404


def test_roles(world: World) -> None:
    c = world.client()
    token = login(c, "fin")
    assert c.get(f"/items/{world.acme}").status_code == 200
    assert c.post(f"/items/{world.acme}/claim", data={"csrf_token": token}).status_code == 403
    assert world.item(world.acme).state == "open"
    assert c.get("/billing").status_code == 200
    assert c.get("/billing/report?client=globex&period=2025-01").status_code == 403

    r = world.client()
    login(r, "ann")
    assert r.get("/billing").status_code == 403
    assert r.get("/billing/report?client=acme&period=2025-01").status_code == 403


# --------------------------------------------------------------------------- abuse


def test_oversized_post_is_413_and_changes_nothing(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    c.post(f"/items/{world.acme}/claim", data={"csrf_token": token})
    r = c.post(f"/items/{world.acme}/save",
               data={"csrf_token": token, "field:vendor_name": "A" * 2_000_000})
    assert r.status_code == 413
    r = c.post(f"/api/items/{world.acme}/save", headers={"X-CSRF-Token": token},
               json={"changes": {"vendor_name": "B" * 2_000_000}})
    assert r.status_code == 413
    assert world.count(CorrectionRow) == 0
    with world.db() as s:
        doc = s.get(DocumentRow, world.acme)
        assert doc is not None
        assert doc.extraction["fields"]["vendor_name"]["value"] == "ACME Office Supplies Ltd"  # type: ignore[index]


def test_html_in_a_field_is_escaped(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    c.post(f"/items/{world.acme}/claim", data={"csrf_token": token})
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = c.post(f"/items/{world.acme}/save",
               data={"csrf_token": token, "field:vendor_name": evil}, follow_redirects=False)
    assert r.status_code == 303
    for page in (c.get(f"/items/{world.acme}").text, c.get(f"/items/{world.acme}/audit").text):
        assert evil not in page
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    with world.db() as s:
        corr = s.scalars(select(CorrectionRow)).one()
        assert corr.new_value == evil  # stored as typed, escaped when shown


def test_unreadable_value_is_422_and_changes_nothing(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    c.post(f"/items/{world.acme}/claim", data={"csrf_token": token})
    r = c.post(f"/items/{world.acme}/save",
               data={"csrf_token": token, "field:total_amount": "lots",
                     "field:vendor_name": "Changed"})
    assert r.status_code == 422
    assert "is not an amount" in r.text and 'value="lots"' in r.text
    assert world.count(CorrectionRow) == 0


# --------------------------------------------------------------------------- the flows


def test_review_flow_in_pages(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    page = c.get(f"/items/{world.acme}")
    assert 'id="claim"' in page.text and 'id="approve"' not in page.text
    assert f'src="/items/{world.acme}/pages/0"' in page.text
    assert 'data-field="total_amount"' in page.text
    r = c.post(f"/items/{world.acme}/claim", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"] == f"/items/{world.acme}?done=claimed"

    other = world.client()
    other_token = login(other, "amy")
    assert other.post(f"/items/{world.acme}/claim",
                      data={"csrf_token": other_token}).status_code == 409
    assert "Being reviewed by" in other.get(f"/items/{world.acme}").text

    r = c.post(f"/items/{world.acme}/approve", data={"csrf_token": token})
    assert r.status_code == 409 and "cannot approve while errors remain" in r.text
    assert world.count(PostingRow) == 0

    image = c.get(f"/items/{world.acme}/pages/0")
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"

    form = {"csrf_token": token, "field:total_amount": "144.00", "table:line_items": "1",
            "row:line_items:0:description": "Paper A4, 5 reams", "row:line_items:0:quantity": "2",
            "row:line_items:0:unit_price": "25.00", "row:line_items:0:amount": "50.00",
            "row:line_items:1:description": "Toner cartridge", "row:line_items:1:quantity": "1",
            "row:line_items:1:unit_price": "70.00", "row:line_items:1:amount": "70.00"}
    r = c.post(f"/items/{world.acme}/approve", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    done = c.get(r.headers["location"])
    assert "Approved and posted." in done.text and "Posted</strong> by ann" in done.text
    with world.db() as s:
        assert s.get(PostingRow, world.acme) is not None
        assert [c.field for c in s.scalars(select(CorrectionRow))] == ["total_amount"]
    outbox = world.settings.home / "acme" / "outbox" / "invoice" / f"{world.acme}.json"
    assert outbox.is_file()
    audit = c.get(f"/items/{world.acme}/audit").text
    assert "corrected</span> by ann" in audit and "154.00" in audit
    assert "acme-1.pdf" not in c.get("/queue").text
    analytics = c.get("/analytics")
    assert analytics.status_code == 200 and 'id="chart-hourly"' in analytics.text


def test_reject_escalate_and_release_in_pages(world: World) -> None:
    c = world.client()
    token = login(c, "ann")
    c.post(f"/items/{world.acme}/claim", data={"csrf_token": token})
    assert c.post(f"/items/{world.acme}/reject",
                  data={"csrf_token": token, "reason": ""}).status_code == 422
    c.post(f"/items/{world.acme}/release", data={"csrf_token": token})
    assert world.item(world.acme).state == "open"
    c.post(f"/items/{world.acme}/claim", data={"csrf_token": token})
    r = c.post(f"/items/{world.acme}/escalate", data={"csrf_token": token, "note": "odd VAT"},
               follow_redirects=False)
    assert r.status_code == 303
    assert world.item(world.acme).queue == "senior"
    assert c.post(f"/items/{world.acme}/claim", data={"csrf_token": token}).status_code == 409

    root = world.client()
    root_token = login(root, "root")
    r = root.post("/queue/claim-next", data={"csrf_token": root_token}, follow_redirects=False)
    assert r.headers["location"].startswith(f"/items/{world.acme}")
    r = root.post(f"/items/{world.acme}/reject",
                  data={"csrf_token": root_token, "reason": "not a valid invoice"},
                  follow_redirects=False)
    assert r.status_code == 303
    with world.db() as s:
        doc = s.get(DocumentRow, world.acme)
        assert doc is not None and doc.status == "rejected"
        actions = list(s.scalars(select(AuditRow.action).where(
            AuditRow.document_id == world.acme).order_by(AuditRow.id)))
    assert actions == ["enqueue", "claim", "release", "claim", "escalate", "claim", "reject"]


def test_json_api_flow(world: World) -> None:
    c = world.client()
    r = c.post("/api/login", json={"username": "ann", "password": PASSWORD})
    assert r.status_code == 200
    headers = {"X-CSRF-Token": r.json()["csrf_token"]}
    assert c.get("/api/session").json()["username"] == "ann"
    queue = c.get("/api/queue").json()
    assert [i["document_id"] for i in queue] == [world.acme]
    assert queue[0]["reasons"] == ["total_mismatch"] and queue[0]["seconds_to_breach"] > 0
    assert c.post("/api/queue/claim-next", headers=headers).json() == {"document_id": world.acme}
    r = c.post(f"/api/items/{world.acme}/save", headers=headers,
               json={"changes": {"total_amount": "abc"}})
    assert r.status_code == 422 and "total_amount" in r.json()["errors"]
    r = c.post(f"/api/items/{world.acme}/approve", headers=headers, json={})
    assert r.status_code == 409
    r = c.post(f"/api/items/{world.acme}/approve", headers=headers,
               json={"changes": {"total_amount": "144.00"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "posted" and body["state"] == "done"
    assert body["fields"]["total_amount"]["value"] == "144.00"
    audit = c.get(f"/api/items/{world.acme}/audit").json()
    assert [f["name"] for f in audit["fields"] if f["corrected"]] == ["total_amount"]
    assert c.get("/api/analytics").json()["cleared"] == 1
    schema = c.get("/openapi.json").json()
    for path in ("/api/queue", "/api/items/{document_id}/approve",
                 "/api/items/{document_id}/claim"):
        assert path in schema["paths"]


def test_item_without_its_page_image_still_opens(world: World) -> None:
    with world.db() as s, s.begin():
        doc = s.get(DocumentRow, world.acme)
        assert doc is not None
        doc.pages = [{**doc.pages[0], "image_path": "gone/page-0001.jpg"}]  # type: ignore[index]
    c = world.client()
    login(c, "ann")
    page = c.get(f"/items/{world.acme}")
    assert page.status_code == 200 and "/pages/0" not in page.text
    assert 'data-field="total_amount"' in page.text
    assert c.get(f"/items/{world.acme}/pages/0").status_code == 404


def test_healthz(world: World) -> None:
    assert world.client().get("/healthz").json() == {"status": "ok"}


def test_the_parent_column_shows_only_for_sub_invoice_lines(world: World) -> None:
    """Most invoices have no sub-invoice lines: their item table has no empty ``parent`` column;
    one whose lines detail another line shows which."""
    c = world.client()
    login(c, "ann")
    assert "<th>parent</th>" not in c.get(f"/items/{world.acme}").text
    with world.db() as s, s.begin():
        document = s.get(DocumentRow, world.acme)
        assert document is not None and document.extraction is not None
        extraction = dict(document.extraction)
        fields = dict(extraction["fields"])
        items = [dict(r) for r in fields["line_items"]["value"]]
        items[1]["parent"] = "1"
        fields["line_items"] = {**fields["line_items"], "value": items}
        document.extraction = {**extraction, "fields": fields}
    page = c.get(f"/items/{world.acme}").text
    assert "<th>parent</th>" in page and 'name="row:line_items:1:parent" value="1"' in page
