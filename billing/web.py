"""``GET /billing/report?client=&period=&format=``: the billing report as a download.

The web app mounts it and decides who may see which client's bills::

    from billing.web import make_router

    def finance_only(request: Request, client: str, user: User = Depends(current_user)) -> None:
        if user.role not in ("finance", "admin") or not user.may_see(client):
            raise HTTPException(status_code=403)

    app.include_router(make_router(get_settings, finance_only))

``authorize`` is an ordinary FastAPI dependency: it receives the ``client`` query parameter by
that name, may declare its own dependencies, and refuses by raising (``HTTPException(403)``);
what it returns is ignored. ``get_settings`` is a dependency returning the ``Settings``.

``router`` is the same route built with ``default_settings`` and ``refuse_until_configured``,
for apps that prefer ``app.dependency_overrides[refuse_until_configured] = their_check``; as
shipped it refuses every request, so that mounting it without authorization exposes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from billing.contracts import validate_client_name
from billing.render import MEDIA_TYPES, render
from billing.reports import build_report
from core.db import get_engine, session_scope
from core.errors import ConfigError
from core.settings import Settings, load_settings


def make_router(get_settings: Callable[..., Settings], authorize: Callable[..., Any]) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["billing"])

    @router.get(
        "/report",
        summary="Billing report of one client for one month",
        response_class=Response,
        responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
    )
    def billing_report(
        client: str = Query(..., description="the client (tenant) name"),
        period: str = Query(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM"),
        format: Literal["csv", "xlsx", "html", "json"] = Query("json"),
        settings: Settings = Depends(get_settings),
        _allowed: Any = Depends(authorize),
    ) -> Response:
        try:
            validate_client_name(client)
        except ConfigError as exc:
            raise HTTPException(status_code=400, detail=exc.message) from exc
        try:
            with session_scope(get_engine(settings.db_url)) as session:
                report = build_report(session, settings, client, period)
        except ConfigError as exc:  # the client's contract is broken: ours to fix, say what
            raise HTTPException(status_code=500, detail=exc.message) from exc
        body = render(report, format)
        disposition = "inline" if format == "html" else "attachment"
        filename = f"billing-{client}-{period}.{format}"
        return Response(
            content=body,
            media_type=MEDIA_TYPES[format],
            headers={
                "Content-Disposition": f'{disposition}; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )

    return router


def default_settings() -> Settings:
    return load_settings()


def refuse_until_configured(request: Request, client: str) -> None:
    """The placeholder ``authorize`` of ``router``: the web app must override it."""
    raise HTTPException(status_code=403, detail="billing reports are not authorized here")


router = make_router(default_settings, refuse_until_configured)
