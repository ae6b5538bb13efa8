"""The billing download route: formats, authorization hook, refusals."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import warnings

import pytest
from fastapi import FastAPI, HTTPException, Request
from openpyxl import load_workbook

from billing.web import default_settings, make_router, refuse_until_configured, router
from core.db import DocumentRow, PostingRow, init_db, session_scope
from core.settings import PROJECT_ROOT, Settings

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not pin
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def app(tmp_path):
    folder = tmp_path / "config" / "clients"
    folder.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "config" / "clients" / "default.yaml", folder / "default.yaml")
    settings = Settings(config_dir=tmp_path / "config", home=tmp_path / "home")
    with session_scope(init_db(settings.db_url)) as s:
        s.add(
            DocumentRow(
                id="d1",
                client="acme",
                source_uri="in/d1.pdf",
                filename="d1.pdf",
                size=1,
                status="posted",
                received_at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
            )
        )
        s.add(
            PostingRow(
                document_id="d1",
                client="acme",
                outbox_uri="o",
                posted_at=dt.datetime(2026, 11, 5, 2, tzinfo=dt.UTC),
            )
        )
    calls = []

    def finance_only(request: Request, client: str) -> None:
        calls.append(client)
        if request.headers.get("x-role") != "finance" or client != "acme":
            raise HTTPException(status_code=403, detail="finance of this client only")

    app = FastAPI()
    app.include_router(make_router(lambda: settings, finance_only))
    return TestClient(app), calls


FINANCE = {"x-role": "finance"}


def test_json_report(app):
    client, calls = app
    r = client.get(
        "/billing/report", params={"client": "acme", "period": "2026-11"}, headers=FINANCE
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["summary"]["documents"] == 1
    assert body["lines"][0]["document_id"] == "d1"
    assert calls == ["acme"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html", "json"])
def test_each_format_downloads(app, fmt):
    client, _ = app
    r = client.get(
        "/billing/report",
        params={"client": "acme", "period": "2026-11", "format": fmt},
        headers=FINANCE,
    )
    assert r.status_code == 200
    assert f'filename="billing-acme-2026-11.{fmt}"' in r.headers["content-disposition"]
    if fmt == "xlsx":
        assert load_workbook(io.BytesIO(r.content)).sheetnames[0] == "Summary"
    elif fmt == "html":
        assert "<svg" in r.text
    elif fmt == "csv":
        assert r.text.startswith("document_id,outcome,cost,price")


def test_authorization_hook_refuses(app):
    client, _ = app
    params = {"client": "acme", "period": "2026-11"}
    assert client.get("/billing/report", params=params).status_code == 403
    other = {"client": "globex", "period": "2026-11"}
    assert client.get("/billing/report", params=other, headers=FINANCE).status_code == 403


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"client": "acme", "period": "2026-13"}, 422),
        ({"client": "acme", "period": "2026-11", "format": "pdf"}, 422),
        ({"client": "acme"}, 422),
    ],
)
def test_bad_requests(app, params, status):
    client, _ = app
    assert client.get("/billing/report", params=params, headers=FINANCE).status_code == status


def test_the_shipped_router_refuses_until_the_app_authorizes(tmp_path):
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    params = {"client": "acme", "period": "2026-11"}
    assert client.get("/billing/report", params=params).status_code == 403
    settings = Settings(home=tmp_path)
    init_db(settings.db_url)
    app.dependency_overrides[refuse_until_configured] = lambda: None
    app.dependency_overrides[default_settings] = lambda: settings
    r = client.get("/billing/report", params=params)
    assert r.status_code == 200 and r.json()["summary"]["documents"] == 0
