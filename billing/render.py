"""Billing report renderers: CSV (the lines), XLSX and HTML (summary, lines, charts), JSON (all).

Every format shows the same numbers from the same ``Report``; none computes anything of its own
beyond layout, so they cannot disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font

from billing import charts
from billing.contracts import BillOutcome, money_str, quantity_str
from billing.reports import LINE_COLUMNS, Report
from core.errors import ConfigError

Format = Literal["csv", "xlsx", "html", "json"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "html", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
OUTCOME_COLOURS = {
    BillOutcome.AUTO_POSTED.value: "#27ae60",
    BillOutcome.REVIEWED.value: "#f39c12",
    BillOutcome.REJECTED.value: "#c0392b",
    BillOutcome.PENDING.value: "#95a5a6",
}
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _text_rows(report: Report) -> list[list[Any]]:
    """The lines as their JSON values (money and quantities already as decimal strings)."""
    rows = []
    for line in report.lines:
        data = line.model_dump(mode="json")
        rows.append(["" if data[c] is None else data[c] for c in LINE_COLUMNS])
    return rows


def render_json(report: Report) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def render_csv(report: Report) -> str:
    """One row per document; the header is ``LINE_COLUMNS``. Totals live in the other formats."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LINE_COLUMNS)
    writer.writerows(_text_rows(report))
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, Enum):
        return value.value
    return value


def _summary_rows(report: Report) -> list[tuple[str, Any]]:
    s = report.summary
    acc = s.accuracy
    rows: list[tuple[str, Any]] = [
        ("Client", report.client),
        ("Period", report.period),
        ("Generated at (UTC)", _xlsx_value(report.generated_at)),
        ("Currency", s.currency),
        ("Documents", s.documents),
        *((f"  {o}", n) for o, n in s.volume.items()),
        ("Straight-through rate", s.stp_rate),
        ("Lines total", s.lines_total),
        ("Credits", s.credits),
        ("Minimum fee top-up", s.minimum_fee_topup),
        ("Amount due", s.amount_due),
        ("Cost total", s.cost_total),
        ("Margin total", s.margin_total),
        ("Accuracy", acc.value),
        ("Accuracy 95% low", acc.low),
        ("Accuracy 95% high", acc.high),
        ("Accuracy sample n", acc.n),
        ("Accuracy SLA", acc.sla),
        ("Accuracy status", acc.status.value),
        ("Accuracy note", acc.message),
        ("Turnaround within SLA", s.turnaround.rate),
        ("Turnaround status", s.turnaround.status),
    ]
    rows += [("Note", note) for note in s.notes]
    return rows


def render_xlsx(report: Report) -> bytes:
    wb = Workbook()
    summary = wb.worksheets[0]
    summary.title = "Summary"
    for key, value in _summary_rows(report):
        summary.append([key, _xlsx_value(value)])
    summary.column_dimensions["A"].width = 26
    summary.column_dimensions["B"].width = 40

    lines = wb.create_sheet("Lines")
    lines.append(list(LINE_COLUMNS))
    for cell in lines[1]:
        cell.font = Font(bold=True)
    for line in report.lines:
        lines.append([_xlsx_value(getattr(line, c)) for c in LINE_COLUMNS])
    lines.freeze_panes = "B2"

    daily = wb.create_sheet("Daily")
    outcomes = [o.value for o in BillOutcome]
    daily.append(["day", *outcomes, "cost", "price"])
    for row in report.daily:
        daily.append([row.day, *(row.volume[o] for o in outcomes), row.cost, row.price])

    trend = wb.create_sheet("Accuracy trend")
    trend.append(["period", "value", "low", "high", "n", "status"])
    for p in report.accuracy_trend:
        trend.append([p.period, p.value, p.low, p.high, p.n, p.status.value])

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _charts(report: Report) -> dict[str, Markup]:
    labels = [row.day.strftime("%d") for row in report.daily]
    volume = charts.stacked_bars(
        "chart-volume",
        "Documents per day by outcome",
        labels,
        [(o, OUTCOME_COLOURS[o], [row.volume[o] for row in report.daily]) for o in OUTCOME_COLOURS],
    )
    money = charts.lines(
        "chart-cost-price",
        f"Cost and price per day ({report.summary.currency})",
        labels,
        [
            ("price", "#2980b9", [float(row.price) for row in report.daily]),
            ("cost", "#c0392b", [float(row.cost) for row in report.daily]),
        ],
    )
    points = [
        None if p.value is None or p.low is None or p.high is None else (p.value, p.low, p.high)
        for p in report.accuracy_trend
    ]
    accuracy = charts.intervals(
        "chart-accuracy",
        "QA accuracy by month with 95% interval",
        [p.period for p in report.accuracy_trend],
        points,
        report.summary.accuracy.sla,
    )
    return {"volume": Markup(volume), "money": Markup(money), "accuracy": Markup(accuracy)}


def render_html(report: Report) -> str:
    template = _TEMPLATES.get_template("report.html")
    return template.render(
        report=report,
        s=report.summary,
        charts=_charts(report),
        columns=LINE_COLUMNS,
        rows=_text_rows(report),
        money=money_str,
        qty=quantity_str,
    )


def render(report: Report, fmt: str) -> bytes | str:
    if fmt == "csv":
        return render_csv(report)
    if fmt == "xlsx":
        return render_xlsx(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "json":
        return render_json(report)
    raise ConfigError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")


def write_report(report: Report, fmt: str, out: Path | None = None) -> bytes | str:
    """The rendered report (bytes for xlsx, text otherwise); also written to ``out`` if given."""
    content = render(report, fmt)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            out.write_bytes(content)
        else:
            out.write_text(content, encoding="utf-8")
    return content
