"""Great Expectations suites (data files) run once per batch, mapped back to documents.

Suites live in ``validators/suites/<doc_type>.json`` (or a client's ``suites_dir``), one file per
document type, in a small schema checked by ``load_suite`` (see ``SuiteFile``). For a batch, the
suites of the document types present are combined into one GX suite whose expectations carry a
row condition on ``doc_type``, and validated in one run over a DataFrame with one row per
document. A failing row becomes a finding on its document (code ``gx:<expectation type>``);
``scope: batch`` expectations (drift: share without PO number, mean confidence) become batch
findings.

GX is imported lazily (about 2-3 s) and runs in an ephemeral context: nothing is written to
disk, no progress bar, no analytics.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import string
import threading
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as PydField

from core.errors import ConfigError
from core.models import DocType, Extraction, Finding, Severity
from validators.models import LIST_FIELDS, MODELS, Document
from validators.rules import CREDIT_AMOUNTS, is_credit

if TYPE_CHECKING:
    import pandas as pd

PACKAGE_SUITES = Path(__file__).resolve().parent / "suites"
SUITE_DOC_TYPES = (DocType.INVOICE, DocType.RECEIPT, DocType.CLAIM)
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
_GX_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "warning", Severity.INFO: "info"}


# --- the frame ------------------------------------------------------------------------------


@cache
def scalar_fields() -> tuple[str, ...]:
    names: dict[str, None] = {}
    for model in MODELS.values():
        for name in model.model_fields:
            if name not in LIST_FIELDS:
                names[name] = None
    return tuple(names)


DERIVED_COLUMNS = (
    "document_id",
    "doc_type",
    "doc_type_confidence",
    "n_fields",
    "conf_mean",
    "conf_min",
    "n_line_items",
    "n_service_lines",
    "n_diagnoses",
)


@cache
def frame_columns() -> tuple[str, ...]:
    """Every column of the batch DataFrame: derived ones, each scalar field, its confidence."""
    return (*DERIVED_COLUMNS, *scalar_fields(), *(f"{n}_confidence" for n in scalar_fields()))


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def frame_row(document_id: str, extraction: Extraction, doc: Document | None) -> dict[str, Any]:
    """One document as a row: typed values from the coerced model (bad values left empty); a
    credit note's amounts (``validators.rules.is_credit``) as their size, above zero."""
    confidences = [f.confidence for f in extraction.fields.values()]
    row: dict[str, Any] = {
        "document_id": document_id,
        "doc_type": extraction.doc_type.value,
        "doc_type_confidence": extraction.doc_type_confidence,
        "n_fields": len(extraction.fields),
        "conf_mean": sum(confidences) / len(confidences) if confidences else None,
        "conf_min": min(confidences) if confidences else None,
    }
    if doc is not None:
        credit = is_credit(doc)
        for name in scalar_fields():
            if name in type(doc).model_fields:
                value = getattr(doc, name)
                if credit and name in CREDIT_AMOUNTS and value is not None:
                    value = -value  # a credit note's sums are judged by their size
                row[name] = _cell(value)
        for name, column in (
            ("line_items", "n_line_items"),
            ("service_lines", "n_service_lines"),
            ("diagnosis_codes", "n_diagnoses"),
        ):
            if name in type(doc).model_fields:
                row[column] = len(getattr(doc, name))
    for name, f in extraction.fields.items():
        if name in row or name in scalar_fields():
            row[f"{name}_confidence"] = f.confidence
    return row


def build_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(frame_columns()))
    return frame.astype(object).where(frame.notna(), None) if rows else frame


# --- suite files ----------------------------------------------------------------------------


class ExpectationSpec(BaseModel):
    """One expectation of a suite file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = PydField(min_length=1)
    type: str = PydField(pattern=r"^expect_[a-z0-9_]+$")
    kwargs: dict[str, Any] = {}
    scope: Literal["document", "batch"] = "document"
    severity: Severity = Severity.ERROR
    message: str | None = None
    """Sentence for a reviewer; may use {value}, {column}, {observed}, {count} and row columns."""
    min_rows: int = PydField(20, ge=1)
    """Batch scope: judge drift only on batches with at least this many documents of the type."""

    @model_validator(mode="after")
    def _columns_exist(self) -> ExpectationSpec:
        known = set(frame_columns())
        named: list[str] = []
        for key in _COLUMN_KWARGS:
            value = self.kwargs.get(key)
            if isinstance(value, str):
                named.append(value)
            elif isinstance(value, list):
                named += [str(v) for v in value]
        if not named:
            raise ValueError("kwargs must name a column (column, column_A/column_B or column_list)")
        unknown = [c for c in named if c not in known]
        if unknown:
            raise ValueError(
                f"unknown column(s) {', '.join(unknown)}; columns are: {', '.join(frame_columns())}"
            )
        return self

    @property
    def columns(self) -> list[str]:
        out: list[str] = []
        for key in _COLUMN_KWARGS:
            value = self.kwargs.get(key)
            out += [value] if isinstance(value, str) else list(value or [])
        return out


class SuiteFile(BaseModel):
    """``validators/suites/<doc_type>.json``; bump ``version`` on every change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_type: DocType
    version: int = PydField(ge=1)
    description: str = ""
    expectations: list[ExpectationSpec]

    @model_validator(mode="after")
    def _unique_names(self) -> SuiteFile:
        names = [e.name for e in self.expectations]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"expectation names must be unique: {', '.join(dupes)}")
        return self


def load_suite(path: Path) -> SuiteFile:
    """Read and check one suite file; ConfigError naming the file and the bad entry."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read suite ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    try:
        suite = SuiteFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: invalid expectation suite: {problems}") from exc
    if path.stem != suite.doc_type.value:
        raise ConfigError(
            f"{path}: file name must be {suite.doc_type.value}.json for doc_type {suite.doc_type.value}"
        )
    return suite


def load_suites(folder: Path | None = None) -> dict[DocType, SuiteFile]:
    folder = folder or PACKAGE_SUITES
    suites: dict[DocType, SuiteFile] = {}
    for doc_type in SUITE_DOC_TYPES:
        path = folder / f"{doc_type.value}.json"
        if path.is_file():
            suites[doc_type] = load_suite(path)
    if not suites:
        raise ConfigError(f"{folder}: no expectation suite (invoice.json, receipt.json, claim.json)")
    return suites


# --- running --------------------------------------------------------------------------------


@dataclass
class GxOutcome:
    """What one batch validation gave: findings per document and for the batch, and GX's result."""

    per_document: dict[str, list[Finding]] = field(default_factory=dict)
    batch: list[Finding] = field(default_factory=list)
    result: Any = None
    """GX's ``ExpectationSuiteValidationResult`` (numbers as plain Python types), for data docs."""


class _Formatter(string.Formatter):
    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        value = kwargs.get(key) if isinstance(key, str) else None
        if value is None:
            return "(empty)"
        if isinstance(value, float):
            return f"{value:.2f}"
        return value


def _say(template: str, values: dict[str, Any]) -> str:
    try:
        return _Formatter().format(template, **values)
    except (ValueError, IndexError, AttributeError):
        return template


def _import_gx() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx

    return gx


class GxRunner:
    """An ephemeral GX context with one suite per combination of document types, built once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: Any = None
        self._batch_definition: Any = None
        self._definitions: dict[str, Any] = {}

    def _ensure_context(self) -> None:
        if self._context is not None:
            return
        gx = _import_gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        asset = context.data_sources.add_pandas("docflow").add_dataframe_asset("batch")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        self._context = context

    def build_expectation(
        self, doc_type: DocType, index: int, spec: ExpectationSpec, conditioned: bool = True
    ) -> Any:
        """The GX expectation of ``spec``; ConfigError when GX does not accept it."""
        from great_expectations.exceptions import ExpectationNotFoundError
        from great_expectations.expectations.expectation import (
            ColumnMapExpectation,
            ColumnPairMapExpectation,
            MulticolumnMapExpectation,
        )
        from great_expectations.expectations.metadata_types import FailureSeverity
        from great_expectations.expectations.registry import get_expectation_impl
        from great_expectations.expectations.row_conditions import Column

        where = f"suite {doc_type.value}, expectation {index} ({spec.name!r})"
        try:
            cls = get_expectation_impl(spec.type)
        except ExpectationNotFoundError as exc:
            raise ConfigError(f"{where}: Great Expectations has no expectation {spec.type!r}") from exc
        is_row_level = issubclass(
            cls, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
        )
        if spec.scope == "document" and not is_row_level:
            raise ConfigError(f'{where}: {spec.type} judges the whole batch; give it scope "batch"')
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                condition: dict[str, Any] = (
                    {"row_condition": Column("doc_type") == doc_type.value} if conditioned else {}
                )
                return cls(
                    **spec.kwargs,
                    **condition,
                    severity=FailureSeverity(_GX_SEVERITY[spec.severity]),
                    meta={
                        "name": spec.name,
                        "doc_type": doc_type.value,
                        "scope": spec.scope,
                        "index": index,
                    },
                )
        except (ValueError, TypeError) as exc:
            problem = " ".join(str(exc).split())
            raise ConfigError(f"{where}: Great Expectations rejects it: {problem}") from exc

    def _definition(
        self, suites: dict[DocType, SuiteFile], doc_types: list[DocType], conditioned: bool
    ) -> Any:
        """One GX suite for the types present; rows are filtered by ``doc_type`` only when the
        batch mixes types (the filter costs a pandas query per expectation)."""
        key_src = json.dumps(
            [conditioned, *([t.value, suites[t].model_dump(mode="json")] for t in doc_types)],
            sort_keys=True,
            default=str,
        )
        key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
        if key in self._definitions:
            return self._definitions[key]
        gx = _import_gx()
        name = "docflow-" + "-".join(t.value for t in doc_types) + f"-{key}"
        versions = {t.value: suites[t].version for t in doc_types}
        suite = gx.ExpectationSuite(name=name, meta={"docflow_suite_versions": versions})
        for doc_type in doc_types:
            for index, spec in enumerate(suites[doc_type].expectations):
                suite.add_expectation(self.build_expectation(doc_type, index, spec, conditioned))
        suite = self._context.suites.add(suite)
        definition = self._context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=self._batch_definition, suite=suite)
        )
        self._definitions[key] = definition
        return definition

    def check(self, suites: dict[DocType, SuiteFile]) -> None:
        """Build every expectation once (operators: checks a suite edit without running it)."""
        with self._lock:
            self._ensure_context()
            for doc_type, suite in suites.items():
                for index, spec in enumerate(suite.expectations):
                    self.build_expectation(doc_type, index, spec)

    def run(self, suites: dict[DocType, SuiteFile], rows: list[dict[str, Any]]) -> GxOutcome:
        present = [t for t in SUITE_DOC_TYPES if t in suites and any(r["doc_type"] == t.value for r in rows)]
        outcome = GxOutcome(per_document={r["document_id"]: [] for r in rows})
        if not present:
            return outcome
        frame = build_frame(rows)
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._ensure_context()
            mixed = len({r["doc_type"] for r in rows}) > 1
            definition = self._definition(suites, present, conditioned=mixed)
            result = definition.run(
                batch_parameters={"dataframe": frame},
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["document_id"],
                },
            )
        for res in result.results:
            res.result = _plain(res.result)
        outcome.result = result
        counts = {t: sum(1 for r in rows if r["doc_type"] == t.value) for t in present}
        for res in result.results:
            meta = res.expectation_config.meta
            doc_type = DocType(meta["doc_type"])
            spec = suites[doc_type].expectations[int(meta["index"])]
            self._map(res, spec, doc_type, counts[doc_type], outcome)
        return outcome

    def _map(self, res: Any, spec: ExpectationSpec, doc_type: DocType, rows: int, outcome: GxOutcome) -> None:
        code = f"gx:{spec.type}"
        column = spec.columns[0]
        info = res.exception_info or {}
        if info.get("raised_exception"):
            message = " ".join(str(info.get("exception_message") or "").split())[:200]
            outcome.batch.append(
                Finding(
                    code="gx_error",
                    severity=Severity.ERROR,
                    field=column,
                    message=f"Check {spec.name!r} ({doc_type.value}) could not run: {message}",
                )
            )
            return
        if res.success:
            return
        result = res.result or {}
        if spec.scope == "batch":
            if rows < spec.min_rows:
                return
            observed = result.get("observed_value")
            if observed is None and result.get("unexpected_percent") is not None:
                observed = f"{result['unexpected_percent']:.0f}%"
            values = {
                "observed": observed,
                "count": rows,
                "column": column,
                "doc_type": doc_type.value,
            }
            text = _say(spec.message, values) if spec.message else f"{spec.name}: observed {observed}"
            outcome.batch.append(
                Finding(
                    code=code,
                    severity=spec.severity,
                    field=column,
                    message=f"{text} (batch of {rows} {doc_type.value}s).",
                )
            )
            return
        for entry in result.get("unexpected_index_list") or []:
            document_id = entry.get("document_id")
            if document_id not in outcome.per_document:
                continue
            values = {k: _count(k, v) for k, v in entry.items()}
            values.update(value=values.get(column), column=column)
            text = (
                _say(spec.message, values) if spec.message else f"{spec.name}: {column} = {values['value']!r}"
            )
            outcome.per_document[document_id].append(
                Finding(code=code, severity=spec.severity, field=_field_of(column), message=text)
            )


def _plain(value: Any) -> Any:
    """numpy scalars → Python ones (GX's own renderer fails on numpy floats)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _count(column: str, value: Any) -> Any:
    if column.startswith("n_") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _field_of(column: str) -> str:
    return re.sub(r"_confidence$", "", column)


_RUNNER = GxRunner()


def run_suites(suites: dict[DocType, SuiteFile], rows: list[dict[str, Any]]) -> GxOutcome:
    """Validate the batch's rows with the suites (one GX run); the shared runner is reused."""
    return _RUNNER.run(suites, rows)


def check_suites(suites: dict[DocType, SuiteFile]) -> None:
    """Raise ConfigError when GX would not accept an expectation (imports GX)."""
    _RUNNER.check(suites)


# --- data docs ------------------------------------------------------------------------------


_PAGE_VIEW_LOCK = threading.Lock()


@cache
def _page_view() -> Any:
    """GX's page view, one per process: each view builds a Jinja environment of its own, which
    compiles GX's templates again for every page (a third of the main process's validation
    CPU in a run of 300 documents). Renders share it under ``_PAGE_VIEW_LOCK``."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def write_data_docs(result: Any, out_dir: Path, name: str = "validation.html") -> Path:
    """Write GX's Data Docs page for one validation run into ``out_dir``; returns its path.

    ``result`` is ``BatchResult.gx_result`` (or an object with a ``gx_result``). The page is
    rendered by GX's own renderer and page view (what its site builder uses), without a site
    store: an ephemeral context has no place to build a site in.
    """
    result = getattr(result, "gx_result", result)
    if result is None:
        raise ValueError("no Great Expectations result to render (the batch had no document to validate)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _import_gx()
        from great_expectations.render.renderer import ValidationResultsPageRenderer

        document = ValidationResultsPageRenderer().render(result)
        with _PAGE_VIEW_LOCK:
            html = _page_view().render(document)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(html, encoding="utf-8")
    return path
