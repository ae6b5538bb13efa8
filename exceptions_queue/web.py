"""The review web app: server-rendered pages and a JSON API over ``exceptions_queue.store``.

Paths (the contract in ARCHITECTURE.md): ``GET/POST /login``, ``GET /logout``, ``GET /queue``,
``GET /items/{id}``, ``POST /items/{id}/{claim|save|approve|reject|escalate|release}``,
``GET /items/{id}/audit``, ``GET /analytics``, ``/api/…`` (OpenAPI at ``/openapi.json``),
``/healthz``; ``/billing`` is reserved for the billing reports (see ``_mount_billing``).

Every user is limited to their clients: an item of another client answers 404, exactly like an id
that does not exist. Every POST needs the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``). Errors from the store become statuses here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel
from pydantic import Field as PydField
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.templating import Jinja2Templates

from core.db import DocumentRow, PostingRow, QueueItemRow, init_db, utcnow
from core.errors import ConflictError, NotFoundError
from core.models import Finding
from core.settings import Settings
from exceptions_queue import fields as fv
from exceptions_queue import reports, store
from exceptions_queue.pictures import has_page_image, page_image_file
from exceptions_queue.security import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SessionCodec,
    SessionData,
    csrf_ok,
)
from exceptions_queue.users import User, get_user, verify
from storage.areas import areas_for

PAGE_SIZE = 100
"""Items per page of the queue list."""

HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 256 * 1024
ACTIONS = ("claim", "save", "approve", "reject", "escalate", "release")
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
T = TypeVar("T")

FLASH = {
    "claimed": "You hold this item. Correct the fields, then approve or reject.",
    "saved": "Corrections saved and re-validated.",
    "approved": "Approved and posted.",
    "rejected": "Rejected.",
    "escalated": "Escalated to the senior queue.",
    "released": "Released back to the queue.",
    "empty": "Nothing left to claim in your queue.",
}
LABELS = {
    "vendor_name": "Vendor",
    "address": "Address",
    "vendor_vat": "Vendor VAT no.",
    "buyer_name": "Buyer",
    "invoice_number": "Invoice no.",
    "invoice_date": "Invoice date",
    "due_date": "Due date",
    "po_number": "PO number",
    "currency": "Currency",
    "subtotal": "Subtotal",
    "tax_amount": "Tax",
    "total_amount": "Total",
    "line_items": "Line items",
    "patient_name": "Patient",
    "patient_birth_date": "Patient born",
    "insured_id": "Insured ID",
    "payer_name": "Payer",
    "billing_provider_npi": "Billing NPI",
    "federal_tax_id": "Federal tax ID",
    "patient_account_number": "Patient account no.",
    "diagnosis_codes": "Diagnosis codes",
    "service_lines": "Service lines",
    "amount_paid": "Amount paid",
    "service_date_from": "Service from",
    "service_date_to": "Service to",
}


class LoginRequired(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


class Forbidden(Exception):
    pass


class CsrfFailed(Exception):
    pass


class Ctx:
    """The signed-in user and their session for one request."""

    def __init__(self, user: User, session: SessionData) -> None:
        self.user = user
        self.session = session

    @property
    def clients(self) -> list[str] | None:
        return self.user.visible_clients()


# --------------------------------------------------------------------------- API bodies


class LoginBody(BaseModel):
    username: str = PydField(max_length=100)
    password: str = PydField(max_length=1000)


class SaveBody(BaseModel):
    changes: dict[str, Any]


class ApproveBody(BaseModel):
    changes: dict[str, Any] = {}
    override_note: str | None = PydField(default=None, max_length=2000)


class ReasonBody(BaseModel):
    reason: str = PydField(min_length=1, max_length=2000)


class NoteBody(BaseModel):
    note: str = PydField(default="", max_length=2000)


# --------------------------------------------------------------------------- formatting


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < 86400:
        return f"{sign}{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{sign}{s // 86400}d {s % 86400 // 3600}h"


def when(value: dt.datetime | None, seconds: bool = False) -> str:
    value = store.aware(value)
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["duration"] = duration
    env.filters["when"] = when
    env.filters["label"] = lambda name: LABELS.get(name, name.replace("_", " ").capitalize())
    env.filters["pct"] = lambda x: "—" if x is None else f"{100 * x:.0f}%"
    return env


# --------------------------------------------------------------------------- the app


def create_app(settings: Settings, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    engine = init_db(settings.db_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    codec = SessionCodec(settings.secret_key, settings.session_hours * 3600)
    templates = Jinja2Templates(env=_env())
    secure_cookie = settings.environment == "production"

    app = FastAPI(title="docflow review", version="1", docs_url="/api/docs", redoc_url=None)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=max_body_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.settings = settings
    app.state.engine = engine

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.url.path not in ("/healthz",) and not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # ----------------------------------------------------------------- plumbing

    @contextmanager
    def db() -> Iterator[Session]:
        with factory() as session, session.begin():
            yield session

    def in_db(fn: Callable[[Session], T]) -> T:
        with db() as session:
            return fn(session)

    def set_cookie(response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE,
            value,
            max_age=codec.max_age,
            httponly=True,
            samesite="lax",
            secure=secure_cookie,
            path="/",
        )

    def current(request: Request) -> Ctx:
        data = codec.load(request.cookies.get(COOKIE))
        if data is None or data.username is None:
            raise LoginRequired(expired=bool(data and data.expired))
        user = in_db(lambda s: get_user(s, data.username or ""))
        if user is None:
            raise LoginRequired(expired=False)
        return Ctx(user, data)

    def reviewer(ctx: Ctx) -> None:
        if not ctx.user.can_review:
            raise Forbidden()

    def check_id(document_id: str) -> None:
        if not _ID.fullmatch(document_id):
            raise NotFoundError("no such item")

    def render(
        request: Request, name: str, ctx: Ctx | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        context.update(
            user=ctx.user if ctx else None, csrf=ctx.session.csrf if ctx else "", csrf_field=CSRF_FIELD
        )
        return templates.TemplateResponse(request, name, context, status_code=status)

    async def form_of(request: Request, ctx: Ctx) -> FormData:
        form = await request.form(max_fields=2000, max_part_size=64 * 1024)
        token = form.get(CSRF_FIELD)
        if not csrf_ok(ctx.session, token if isinstance(token, str) else None):
            raise CsrfFailed()
        return form

    def api_csrf(request: Request, ctx: Ctx) -> None:
        if not csrf_ok(ctx.session, request.headers.get(CSRF_HEADER)):
            raise CsrfFailed()

    def outbox_for(document: DocumentRow) -> Any:
        return areas_for(document.inbox or "", document.client, settings).outbox

    # ----------------------------------------------------------------- errors → statuses

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        message = "Your session has expired; please sign in again." if exc.expired else "Please sign in."
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=401)
        if request.method == "GET":
            return RedirectResponse(
                f"/login?next={request.url.path}" + ("&expired=1" if exc.expired else ""), status_code=303
            )
        return render(request, "error.html", None, 401, title="Signed out", message=message)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        message = "The form's security token is missing or wrong. Reload the page and try again."
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return render(request, "error.html", None, 403, title="Forbidden", message=message)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        message = "Your role does not allow this action."
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return render(request, "error.html", None, 403, title="Forbidden", message=message)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return render(
            request,
            "error.html",
            None,
            404,
            title="Not found",
            message="There is no such item, or it is not one of your clients'.",
        )

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        return JSONResponse({"detail": exc.message}, status_code=409)

    @app.exception_handler(store.InvalidCorrectionError)
    async def _invalid(request: Request, exc: store.InvalidCorrectionError) -> Response:
        return JSONResponse({"detail": exc.message, "errors": exc.errors}, status_code=422)

    # ----------------------------------------------------------------- sign-in

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        in_db(lambda s: s.execute(text("SELECT 1")))
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/queue", status_code=303)

    def login_page(
        request: Request, status: int = 200, error: str | None = None, next_path: str = "/queue"
    ) -> HTMLResponse:
        data = codec.load(request.cookies.get(COOKIE))
        if data is None or data.expired or not data.csrf:
            cookie, data = codec.dump(None)
        else:
            cookie, data = codec.dump(None, data.csrf)
        expired = request.query_params.get("expired") == "1"
        response = templates.TemplateResponse(
            request,
            "login.html",
            {
                "csrf": data.csrf,
                "csrf_field": CSRF_FIELD,
                "error": error,
                "user": None,
                "next": _safe_next(next_path),
                "notice": "Your session has expired; please sign in again." if expired else None,
            },
            status_code=status,
        )
        set_cookie(response, cookie)
        return response

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/queue") -> HTMLResponse:
        return login_page(request, next_path=next)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form(max_fields=10, max_part_size=4096)
        data = codec.load(request.cookies.get(COOKIE))
        token = form.get(CSRF_FIELD)
        next_path = _safe_next(str(form.get("next") or "/queue"))
        if not csrf_ok(data, token if isinstance(token, str) else None):
            return login_page(request, 403, "The sign-in form expired. Please try again.", next_path)
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        user = await run_in_threadpool(in_db, lambda s: verify(s, username[:100], password[:1000]))
        if user is None:
            return login_page(request, 401, "Wrong user name or password.", next_path)
        cookie, _ = codec.dump(user.username)
        response = RedirectResponse(next_path, status_code=303)
        set_cookie(response, cookie)
        return response

    @app.get("/logout", include_in_schema=False)
    def logout() -> RedirectResponse:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # ----------------------------------------------------------------- pages

    @app.get("/queue", include_in_schema=False)
    def queue_page(
        request: Request,
        ctx: Ctx = Depends(current),
        client: str = "",
        doc_type: str = "",
        reason: str = "",
        age: str = "",
        queue: str = "",
        done: str = "",
        page: int = 1,
    ) -> HTMLResponse:
        min_age = {"4h": 4.0, "24h": 24.0, "3d": 72.0}.get(age)
        page = max(1, page)

        def load(s: Session) -> dict[str, Any]:
            summary = store.queue_summary(s, ctx.clients)
            items = store.list_items(
                s,
                ctx.clients,
                client=client or None,
                doc_type=doc_type or None,
                reason=reason or None,
                min_age_hours=min_age,
                queue=queue or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
            return {
                "items": items,
                "now": utcnow(),
                "page": page,
                "has_more": len(items) == PAGE_SIZE,
                "clients": sorted(set(summary.clients) | {c for c in ctx.clients or [] if c != "*"}),
                "doc_types": summary.doc_types,
                "reasons": summary.reasons,
                "total": summary.total,
                "breached": summary.breached,
            }

        data = in_db(load)
        return render(
            request,
            "queue.html",
            ctx,
            flash=FLASH.get(done),
            filters={"client": client, "doc_type": doc_type, "reason": reason, "age": age, "queue": queue},
            **data,
        )

    @app.post("/queue/claim-next", include_in_schema=False)
    async def claim_next_form(request: Request, ctx: Ctx = Depends(current)) -> Response:
        await form_of(request, ctx)
        reviewer(ctx)
        queues = ("senior", "review") if ctx.user.is_senior else ("review",)
        document_id = await run_in_threadpool(in_db, lambda s: _claim_next(s, ctx, queues))
        if document_id is None:
            return RedirectResponse("/queue?done=empty", status_code=303)
        return RedirectResponse(f"/items/{document_id}?done=claimed", status_code=303)

    def _claim_next(s: Session, ctx: Ctx, queues: tuple[str, ...]) -> str | None:
        item = store.claim_next(s, ctx.user.username, ctx.clients, settings.lease_minutes, queues=queues)
        return None if item is None else item.document_id

    @app.get("/items/{document_id}", include_in_schema=False)
    def item_page(
        request: Request, document_id: str, ctx: Ctx = Depends(current), done: str = ""
    ) -> HTMLResponse:
        check_id(document_id)
        view = in_db(lambda s: _item_view(s, ctx, document_id))
        return render(request, "item.html", ctx, flash=FLASH.get(done), **view)

    @app.get("/items/{document_id}/pages/{index}", include_in_schema=False)
    def page_image(document_id: str, index: int, ctx: Ctx = Depends(current)) -> FileResponse:
        check_id(document_id)

        # drawn, if need be, after the database session is closed (the original may come from S3)
        document = in_db(lambda s: store.get_item(s, document_id, ctx.clients)[1])
        page = next((p for p in document.pages or []
                     if isinstance(p, dict) and p.get("index") == index), None)
        path = None if page is None else page_image_file(settings, document, page)
        if path is None:
            raise NotFoundError("no such page image")
        return FileResponse(path, headers={"Cache-Control": "private, max-age=300"})

    @app.post("/items/{document_id}/{action}", include_in_schema=False)
    async def item_action(
        request: Request, document_id: str, action: str, ctx: Ctx = Depends(current)
    ) -> Response:
        check_id(document_id)
        if action not in ACTIONS:
            raise NotFoundError("no such action")
        form = await form_of(request, ctx)
        reviewer(ctx)

        def act() -> str:
            if action == "approve":
                changes = _changes(form)
                if changes:  # saved even if the approval is then refused
                    in_db(lambda s: _save(s, ctx, document_id, changes))
            return in_db(lambda s: _do(s, ctx, document_id, action, form))

        try:
            done = await run_in_threadpool(act)
        except (ConflictError, store.InvalidCorrectionError) as exc:
            status = 409 if isinstance(exc, ConflictError) else 422
            errors = getattr(exc, "errors", {})
            view = await run_in_threadpool(in_db, lambda s: _item_view(s, ctx, document_id))
            if action in ("save", "approve"):
                view["submitted"] = _form_values(form)
            view.update(error=exc.message, field_errors=errors)
            return render(request, "item.html", ctx, status, **view)
        return RedirectResponse(f"/items/{document_id}?done={done}", status_code=303)

    def _do(s: Session, ctx: Ctx, document_id: str, action: str, form: FormData) -> str:
        _visible(s, ctx, document_id)
        username = ctx.user.username
        if action == "claim":
            _claim(s, ctx, document_id)
            return "claimed"
        if action == "save":
            store.save(s, document_id, username, _changes(form), settings=settings)
            return "saved"
        if action == "approve":
            note = str(form.get("override_note") or "").strip() or None
            _approve(s, ctx, document_id, note)
            return "approved"
        if action == "reject":
            store.reject(s, document_id, username, str(form.get("reason") or ""))
            return "rejected"
        if action == "escalate":
            store.escalate(s, document_id, username, str(form.get("note") or ""))
            return "escalated"
        store.release(s, document_id, username)
        return "released"

    def _claim(s: Session, ctx: Ctx, document_id: str) -> None:
        item = s.get(QueueItemRow, document_id)
        if item is not None and item.queue == "senior" and not ctx.user.is_senior:
            raise ConflictError("escalated items are cleared by a senior reviewer (admin)")
        store.claim(s, document_id, ctx.user.username, settings.lease_minutes)

    def _save(s: Session, ctx: Ctx, document_id: str, changes: dict[str, Any]) -> None:
        _visible(s, ctx, document_id)
        store.save(s, document_id, ctx.user.username, changes, settings=settings)

    def _approve(s: Session, ctx: Ctx, document_id: str, note: str | None) -> None:
        document = s.get(DocumentRow, document_id)
        if document is None:
            raise NotFoundError("no such item")
        store.approve(
            s, document_id, ctx.user.username, outbox_for(document), override_note=note, settings=settings
        )

    def _visible(s: Session, ctx: Ctx, document_id: str) -> None:
        store.get_item(s, document_id, ctx.clients)

    def _item_view(s: Session, ctx: Ctx, document_id: str) -> dict[str, Any]:
        item, document = store.get_item(s, document_id, ctx.clients)
        now = utcnow()
        extraction = store.extraction_of(document)
        typed = store.typed_fields(extraction)
        findings = [Finding.model_validate(f) for f in (document.findings or []) if isinstance(f, dict)]
        by_field: dict[str, list[Finding]] = {}
        general: list[Finding] = []
        for finding in findings:
            if finding.field:
                by_field.setdefault(finding.field.split(".")[0].split("[")[0], []).append(finding)
            else:
                general.append(finding)
        rows = []
        for name in fv.catalog(document.doc_type, list(typed)):
            f = typed.get(name)
            value = f.value if f else None
            entry: dict[str, Any] = {
                "name": name,
                "confidence": f.confidence if f else None,
                "method": f.method if f else None,
                "page": f.page if f else None,
                "has_box": bool(f and f.box),
                "findings": by_field.get(name, []),
                "list": fv.is_list_field(name),
            }
            if entry["list"]:
                items = [r for r in (value if isinstance(value, list) else []) if isinstance(r, dict)]
                # a column most documents leave empty (a sub-invoice line's parent) only when used
                cols = tuple(c for c in fv.columns(name)
                             if c not in fv.SPARSE_COLUMNS or any(r.get(c) for r in items))
                entry["columns"] = cols
                entry["rows"] = [{c: fv.display(r.get(c)) for c in cols} for r in items]
            else:
                entry["value"] = fv.display(value)
            rows.append(entry)
        pages = []
        for page in document.pages or []:
            if not isinstance(page, dict):
                continue
            index = int(page.get("index", 0))
            boxes = []
            for name, f in typed.items():
                if f.box and (f.page or 0) == index:
                    x0, y0, x1, y1 = f.box
                    boxes.append(
                        {
                            "name": name,
                            "x": x0,
                            "y": y0,
                            "w": max(1.0, x1 - x0),
                            "h": max(1.0, y1 - y0),
                            "flagged": name in by_field,
                        }
                    )
            pages.append(
                {
                    "index": index,
                    "width": float(page.get("width") or 1000),
                    "height": float(page.get("height") or 1400),
                    "has_image": has_page_image(settings, page),
                    "boxes": boxes,
                }
            )
        lease = store.aware(item.lease_expires_at)
        holder = item.claimed_by if item.state == store.CLAIMED else None
        mine = holder == ctx.user.username and item.state == store.CLAIMED
        lease_live = lease is not None and lease > now
        can_claim = (
            ctx.user.can_review
            and item.state != store.DONE
            and not mine
            and (holder is None or not lease_live)
            and (item.queue != "senior" or ctx.user.is_senior)
        )
        posting = s.get(PostingRow, document_id)
        return {
            "item": item,
            "document": document,
            "fields": rows,
            "pages": pages,
            "general_findings": general,
            "mine": mine and ctx.user.can_review,
            "holder": holder,
            "lease_expires_at": lease,
            "lease_live": lease_live,
            "can_claim": can_claim,
            "posting": posting,
            "has_errors": any(f.severity == "error" for f in findings),
            "age": (now - (store.aware(item.created_at) or now)).total_seconds(),
            "to_breach": None
            if item.due_at is None
            else ((store.aware(item.due_at) or now) - now).total_seconds(),
            "field_errors": {},
            "submitted": {},
            "error": None,
        }

    @app.get("/items/{document_id}/audit", include_in_schema=False)
    def audit_page(request: Request, document_id: str, ctx: Ctx = Depends(current)) -> HTMLResponse:
        check_id(document_id)
        view = in_db(lambda s: reports.audit_view(s, document_id, ctx.clients))
        return render(request, "audit.html", ctx, audit=view)

    @app.get("/analytics", include_in_schema=False)
    def analytics_page(request: Request, ctx: Ctx = Depends(current), days: int = 7) -> HTMLResponse:
        days = min(max(days, 1), 90)
        data = in_db(lambda s: reports.analytics(s, ctx.clients, hours=24 * days))
        peak = max([n for _h, n in data.cleared_by_hour] + [1])
        return render(request, "analytics.html", ctx, a=data, days=days, peak=peak)

    # ----------------------------------------------------------------- JSON API

    api = APIRouter(prefix="/api", tags=["review"])

    @api.post("/login")
    def api_login(body: LoginBody) -> JSONResponse:
        """Sign in; returns the CSRF token to send as ``X-CSRF-Token`` on every POST."""
        user = in_db(lambda s: verify(s, body.username, body.password))
        if user is None:
            return JSONResponse({"detail": "wrong user name or password"}, status_code=401)
        cookie, data = codec.dump(user.username)
        response = JSONResponse(
            {
                "username": user.username,
                "role": user.role,
                "clients": list(user.clients),
                "csrf_token": data.csrf,
            }
        )
        set_cookie(response, cookie)
        return response

    @api.get("/session")
    def api_session(ctx: Ctx = Depends(current)) -> dict[str, Any]:
        return {
            "username": ctx.user.username,
            "role": ctx.user.role,
            "clients": list(ctx.user.clients),
            "csrf_token": ctx.session.csrf,
        }

    @api.get("/queue")
    def api_queue(
        ctx: Ctx = Depends(current),
        client: str | None = None,
        doc_type: str | None = None,
        reason: str | None = None,
        min_age_hours: float | None = None,
        queue: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Open items, most urgent first, a page at a time (``limit`` ≤ 500)."""
        limit, offset = min(max(limit, 1), 500), max(offset, 0)
        items = in_db(
            lambda s: store.list_items(
                s,
                ctx.clients,
                client=client,
                doc_type=doc_type,
                reason=reason,
                min_age_hours=min_age_hours,
                queue=queue,
                limit=limit,
                offset=offset,
            )
        )
        return [_entry_json(i) for i in items]

    @api.post("/queue/claim-next")
    def api_claim_next(request: Request, ctx: Ctx = Depends(current)) -> dict[str, Any]:
        api_csrf(request, ctx)
        reviewer(ctx)
        queues = ("senior", "review") if ctx.user.is_senior else ("review",)
        document_id = in_db(lambda s: _claim_next(s, ctx, queues))
        return {"document_id": document_id}

    @api.get("/items/{document_id}")
    def api_item(document_id: str, ctx: Ctx = Depends(current)) -> dict[str, Any]:
        check_id(document_id)
        return in_db(lambda s: _item_json(s, ctx, document_id))

    def api_action(
        request: Request, ctx: Ctx, document_id: str, fn: Callable[[Session], Any]
    ) -> dict[str, Any]:
        check_id(document_id)
        api_csrf(request, ctx)
        reviewer(ctx)

        def run(s: Session) -> None:
            _visible(s, ctx, document_id)
            fn(s)

        in_db(run)
        return in_db(lambda s: _item_json(s, ctx, document_id))

    @api.post("/items/{document_id}/claim")
    def api_claim(request: Request, document_id: str, ctx: Ctx = Depends(current)) -> dict[str, Any]:
        return api_action(request, ctx, document_id, lambda s: _claim(s, ctx, document_id))

    @api.post("/items/{document_id}/save")
    def api_save(
        request: Request, document_id: str, body: SaveBody, ctx: Ctx = Depends(current)
    ) -> dict[str, Any]:
        return api_action(request, ctx, document_id, lambda s: _save(s, ctx, document_id, body.changes))

    @api.post("/items/{document_id}/approve")
    def api_approve(
        request: Request, document_id: str, body: ApproveBody, ctx: Ctx = Depends(current)
    ) -> dict[str, Any]:
        check_id(document_id)
        api_csrf(request, ctx)
        reviewer(ctx)
        if body.changes:  # saved even if the approval is then refused
            in_db(lambda s: _save(s, ctx, document_id, body.changes))
        return api_action(
            request, ctx, document_id, lambda s: _approve(s, ctx, document_id, body.override_note)
        )

    @api.post("/items/{document_id}/reject")
    def api_reject(
        request: Request, document_id: str, body: ReasonBody, ctx: Ctx = Depends(current)
    ) -> dict[str, Any]:
        return api_action(
            request, ctx, document_id, lambda s: store.reject(s, document_id, ctx.user.username, body.reason)
        )

    @api.post("/items/{document_id}/escalate")
    def api_escalate(
        request: Request, document_id: str, body: NoteBody, ctx: Ctx = Depends(current)
    ) -> dict[str, Any]:
        return api_action(
            request, ctx, document_id, lambda s: store.escalate(s, document_id, ctx.user.username, body.note)
        )

    @api.post("/items/{document_id}/release")
    def api_release(request: Request, document_id: str, ctx: Ctx = Depends(current)) -> dict[str, Any]:
        return api_action(
            request, ctx, document_id, lambda s: store.release(s, document_id, ctx.user.username)
        )

    @api.get("/items/{document_id}/audit")
    def api_audit(document_id: str, ctx: Ctx = Depends(current)) -> dict[str, Any]:
        check_id(document_id)
        view = in_db(lambda s: reports.audit_view(s, document_id, ctx.clients))
        return _jsonable_dict(view.__dict__)

    @api.get("/analytics")
    def api_analytics(ctx: Ctx = Depends(current), days: int = 7) -> dict[str, Any]:
        data = in_db(lambda s: reports.analytics(s, ctx.clients, hours=24 * min(max(days, 1), 90)))
        out = _jsonable_dict(data.__dict__)
        out["reviewers"] = [
            {**_jsonable(r.__dict__), "per_hour": r.per_hour, "mean_handle_seconds": r.mean_handle_seconds}
            for r in data.reviewers
        ]
        return out

    def _item_json(s: Session, ctx: Ctx, document_id: str) -> dict[str, Any]:
        item, document = store.get_item(s, document_id, ctx.clients)
        extraction = store.extraction_of(document)
        return {
            "document_id": document.id,
            "client": document.client,
            "doc_type": document.doc_type,
            "status": document.status,
            "source": document.source_uri,
            "queue": item.queue,
            "state": item.state,
            "claimed_by": item.claimed_by if item.state == "claimed" else None,
            "lease_expires_at": _jsonable(store.aware(item.lease_expires_at)),
            "due_at": _jsonable(store.aware(item.due_at)),
            "resolution": item.resolution,
            "findings": document.findings or [],
            "fields": {
                n: {
                    "value": fv.as_text(f.value)
                    if isinstance(f.value, list)
                    else fv.display(f.value) or None,
                    "confidence": f.confidence,
                    "page": f.page,
                    "box": f.box,
                    "method": f.method,
                }
                for n, f in store.typed_fields(extraction).items()
            },
        }

    def known_clients(ctx: Ctx) -> list[str]:
        if ctx.clients is not None:
            return sorted(ctx.clients)
        return in_db(lambda s: sorted(set(s.scalars(select(DocumentRow.client).distinct()))))

    app.include_router(api)
    _mount_billing(app, current, settings, render, known_clients)
    return app


def _mount_billing(
    app: FastAPI,
    current: Callable[[Request], Ctx],
    settings: Settings,
    render: Callable[..., HTMLResponse],
    clients_of: Callable[[Ctx], list[str]],
) -> None:
    """``/billing``: finance's billing reports, built by ``billing.web.make_router``.

    The billing package owns the report route (``GET /billing/report?client=&period=&format=``);
    this app decides who may use it: the ``finance`` and ``admin`` roles, for their own clients.
    ``GET /billing`` is the page with the form that links there.
    """

    def authorize(request: Request, client: str) -> None:
        ctx = current(request)
        if ctx.user.role not in ("finance", "admin") or not ctx.user.sees(client):
            raise Forbidden()

    try:
        from billing.web import make_router
    except ImportError:  # billing's web part not installed: the page says so
        billing_available = False
    else:
        billing_available = True
        app.include_router(make_router(lambda: settings, authorize))

    @app.get("/billing", include_in_schema=False)
    def billing_page(request: Request, ctx: Ctx = Depends(current)) -> HTMLResponse:
        if ctx.user.role not in ("finance", "admin"):
            raise Forbidden()
        today = dt.date.today()
        last = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        return render(
            request, "billing.html", ctx, clients=clients_of(ctx), period=last, available=billing_available
        )


# --------------------------------------------------------------------------- helpers


def _safe_next(path: str) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/queue"
    return path


def _changes(form: FormData) -> dict[str, Any]:
    """Field values from the item form: ``field:NAME`` scalars, ``row:NAME:I:COL`` table cells."""
    changes: dict[str, Any] = {}
    tables: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if key.startswith("field:"):
            changes[key[6:]] = value
        elif key.startswith("table:"):
            tables.setdefault(key[6:], {})
        elif key.startswith("row:"):
            parts = key.split(":")
            if (
                len(parts) == 4
                and parts[2].isdigit()
                and fv.is_list_field(parts[1])
                and parts[3] in fv.columns(parts[1])
            ):
                tables.setdefault(parts[1], {}).setdefault(int(parts[2]), {})[parts[3]] = value
    for name, rows in tables.items():
        if fv.is_list_field(name):
            changes[name] = [rows[i] for i in sorted(rows)]
    return {k: v for k, v in changes.items() if _ID.fullmatch(k)}


def _form_values(form: FormData) -> dict[str, str]:
    return {k[6:]: v for k, v in form.multi_items() if k.startswith("field:") and isinstance(v, str)}


def _entry_json(e: store.QueueEntry) -> dict[str, Any]:
    return {
        "document_id": e.document_id,
        "client": e.client,
        "doc_type": e.doc_type,
        "queue": e.queue,
        "state": e.state,
        "reasons": e.reason_codes,
        "claimed_by": e.claimed_by,
        "filename": e.filename,
        "source": e.source,
        "created_at": e.created_at.isoformat(),
        "due_at": e.due_at.isoformat() if e.due_at else None,
        "age_seconds": round(e.age_seconds, 1),
        "seconds_to_breach": None if e.seconds_to_breach is None else round(e.seconds_to_breach, 1),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return _jsonable_dict(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(value.__dict__)
    return value


def _jsonable_dict(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in value.items()}
