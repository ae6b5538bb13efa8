"""A reviewer in a real browser (Debian's headless Chromium via Playwright) against uvicorn.

Sign in, open an item, fix a field, approve, see it posted. Screenshots of the list and the item
pages are saved in ``test-artifacts/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from core.db import PostingRow, init_db
from core.settings import PROJECT_ROOT, Settings
from exceptions_queue import users
from exceptions_queue.demo import make_invoice
from exceptions_queue.web import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
PASSWORD = "browser-pass-1"


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the browser test must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    import uvicorn

    settings = Settings(home=tmp_path / "home", environment="test",
                        database_url=f"sqlite:///{tmp_path / 'browser.db'}",
                        secret_key="browser-test-secret")
    engine = init_db(settings.db_url)
    with sessionmaker(engine)() as s, s.begin():
        document, _ = make_invoice(s, "acme", tmp_path / "img", name="acme-invoice-0117.pdf")
        make_invoice(s, "acme", tmp_path / "img", name="acme-invoice-0118.pdf", total="99.00")
        make_invoice(s, "globex", tmp_path / "img", name="globex-invoice-7.pdf")
        users.add_user(s, "ann", "reviewer", ["acme"], PASSWORD)
        document_id = document.id
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "document_id": document_id,
               "settings": settings, "engine": engine}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_reviewer_fixes_a_field_and_approves(server: dict[str, Any]) -> None:
    _need(CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _need(False, "playwright is not installed")
        raise
    ARTIFACTS.mkdir(exist_ok=True)
    base, document_id = server["url"], server["document_id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)

            page.goto(f"{base}/queue")
            expect(page).to_have_url(f"{base}/login?next=/queue")
            page.fill("#username", "ann")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/queue")
            expect(page.locator(".queue-table tbody tr")).to_have_count(2)
            expect(page.locator("body")).not_to_contain_text("globex-invoice-7.pdf")
            page.screenshot(path=str(ARTIFACTS / "queue-list.png"), full_page=True)

            page.click("text=acme-invoice-0117.pdf")
            expect(page).to_have_url(f"{base}/items/{document_id}")
            page.click("#claim")
            expect(page.locator(".flash.ok")).to_contain_text("You hold this item")
            image = page.locator(".page img").first
            expect(image).to_be_visible()
            assert page.evaluate("document.querySelector('.page img').naturalWidth") == 1240

            # clicking a field highlights where it was read
            page.click("#f-total_amount")
            expect(page.locator('rect.box[data-field="total_amount"]')).to_have_class(
                "box flagged active")
            expect(page.locator('.field-row[data-field="total_amount"] .finding')).to_contain_text(
                "total_mismatch")
            # keyboard: Esc leaves the field, j moves to the next one
            page.keyboard.press("Escape")
            page.keyboard.press("k")
            selected = page.locator(".field-row.selected")
            expect(selected).to_have_attribute("data-field", "tax_amount")
            expect(page.locator('rect.box[data-field="tax_amount"]')).to_have_class("box active")
            page.keyboard.press("j")
            page.keyboard.press("Enter")
            expect(page.locator("#f-total_amount")).to_be_focused()
            page.screenshot(path=str(ARTIFACTS / "item-page.png"), full_page=False)

            page.fill("#f-total_amount", "144.00")
            page.click("#save")
            expect(page.locator(".flash.ok")).to_contain_text("Corrections saved")
            expect(page.locator('.field-row[data-field="total_amount"] .finding')).to_have_count(0)
            expect(page.locator("#f-total_amount")).to_have_value("144.00")

            page.keyboard.press("a")  # approve shortcut
            expect(page.locator(".flash.ok")).to_contain_text("Approved and posted.")
            expect(page.locator(".status")).to_have_text("posted")
            expect(page.locator(".done-card")).to_contain_text("Posted by ann")
            page.screenshot(path=str(ARTIFACTS / "item-posted.png"), full_page=False)

            page.click("text=Audit trail")
            expect(page.locator("table.grid").first).to_contain_text("corrected by ann")
            page.screenshot(path=str(ARTIFACTS / "item-audit.png"), full_page=True)

            page.goto(f"{base}/queue")
            expect(page.locator(".queue-table tbody tr")).to_have_count(1)
            page.goto(f"{base}/analytics")
            expect(page.locator("#chart-hourly")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "analytics.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()

    with sessionmaker(server["engine"])() as s:
        posting = s.get(PostingRow, document_id)
        assert posting is not None and posting.posted_by == "ann"
    outbox = server["settings"].home / "acme" / "outbox" / "invoice" / f"{document_id}.json"
    assert '"total_amount": "144.00"' in outbox.read_text()
