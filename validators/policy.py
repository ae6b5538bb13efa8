"""The decision policy of a client: when a document is posted, reviewed or rejected.

It is data: the ``policy:`` section of ``config/clients/default.yaml``, with
``config/clients/<client>.yaml`` deep-merged over it (mappings merge key by key; lists and
scalars replace). A bad file fails at start-up with a ``ConfigError`` that names the file and
the key. ``decide`` turns an extraction and its findings into a ``Decision`` that carries exactly
the findings that caused it.
"""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as PydField

from core.errors import ConfigError
from core.models import Decision, DocType, Extraction, Finding, Outcome, Severity
from core.settings import Settings
from validators.models import LIST_FIELDS, field_names, label
from validators.rules import RuleParams, money


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Decimal = PydField(Decimal("0.90"), ge=0, le=1)
    fields: dict[str, Decimal] = {}
    other_fields: Decimal | None = PydField(None, ge=0, le=1)
    """Minimum confidence of every other field a document delivers (present, neither required
    nor listed in ``fields``): what is posted is then right field by field, its address and
    line items too, not only in its required fields. None: those fields are not checked."""

    @model_validator(mode="after")
    def _in_range(self) -> Thresholds:
        bad = [name for name, value in self.fields.items() if not 0 <= value <= 1]
        if bad:
            raise ValueError(f"thresholds must be between 0 and 1: {', '.join(bad)}")
        return self

    def for_field(self, name: str, *, required: bool = True) -> Decimal | None:
        """The threshold of a field: its own, else ``default`` for a required field and
        ``other_fields`` (maybe None: not checked) for any other."""
        if name in self.fields:
            return self.fields[name]
        return self.default if required else self.other_fields


class MasterDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor_master: Path | None = None
    open_pos: Path | None = None
    vendor_match_score: float = PydField(88.0, ge=0, le=100)
    vendor_doc_types: list[DocType] = [DocType.INVOICE]


class Policy(BaseModel):
    """One client's decision policy (see the ``policy:`` section of config/clients/default.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: str = "default"
    required_fields: dict[DocType, list[str]] = {}
    thresholds: Thresholds = Thresholds()
    min_doc_type_confidence: Decimal = PydField(Decimal("0.5"), ge=0, le=1)
    blocking: list[str] = []
    warn_only: list[str] = []
    reject: list[str] = []
    approval_limits: dict[DocType, Decimal] = {}
    rules: RuleParams = RuleParams()
    master_data: MasterDataConfig = MasterDataConfig()
    suites_dir: Path | None = None

    @model_validator(mode="after")
    def _known_fields(self) -> Policy:
        for doc_type, names in self.required_fields.items():
            known = set(field_names(doc_type))
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ValueError(
                    f"required_fields.{doc_type}: unknown field(s) {', '.join(unknown)} "
                    f"(known: {', '.join(sorted(known))})"
                )
        return self

    def matches(self, code: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(code, p) for p in patterns)

    def is_reject(self, finding: Finding) -> bool:
        return self.matches(finding.code, self.reject)

    def graded(self, findings: list[Finding]) -> list[Finding]:
        """Findings with the policy's severity: a ``warn_only`` code is a warning for this
        client (so the review page and the queue treat it as one), a ``blocking`` code an error."""
        out = []
        for finding in findings:
            if self.matches(finding.code, self.blocking) and finding.severity != Severity.ERROR:
                finding = finding.model_copy(update={"severity": Severity.ERROR})
            elif self.matches(finding.code, self.warn_only) and finding.severity == Severity.ERROR:
                finding = finding.model_copy(update={"severity": Severity.WARNING})
            out.append(finding)
        return out

    def is_blocking(self, finding: Finding) -> bool:
        """Listed in ``blocking``; else not in ``warn_only`` and of severity ``error``."""
        if self.matches(finding.code, self.blocking):
            return True
        if self.matches(finding.code, self.warn_only):
            return False
        return finding.severity == Severity.ERROR


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML{at}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections at the top, got {type(data).__name__}"
        )
    return data


def client_config(settings: Settings, client: str) -> tuple[dict[str, Any], list[Path]]:
    """The merged client configuration (all sections) and the files it came from."""
    folder = settings.config_dir / "clients"
    default = folder / "default.yaml"
    if not default.is_file():
        raise ConfigError(f"{default}: missing (every client's configuration starts from it)")
    data, files = _read_yaml(default), [default]
    own = folder / f"{client}.yaml"
    if client != "default" and own.is_file():
        data, files = deep_merge(data, _read_yaml(own)), [*files, own]
    return data, files


def load_policy(settings: Settings, client: str) -> Policy:
    """The ``policy:`` section of ``client``'s configuration, checked; ConfigError when invalid."""
    data, files = client_config(settings, client)
    section = data.get("policy")
    where = " + ".join(str(f) for f in files)
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: no `policy:` mapping")
    try:
        policy = Policy.model_validate({**section, "client": client})
    except ValidationError as exc:
        problems = "; ".join(
            f"policy.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: invalid policy: {problems}") from exc
    base = settings.config_dir
    md = policy.master_data
    resolved = {
        k: (base / p if p is not None and not p.is_absolute() else p)
        for k, p in (("vendor_master", md.vendor_master), ("open_pos", md.open_pos))
    }
    suites = policy.suites_dir
    if suites is not None and not suites.is_absolute():
        suites = base / suites
    return policy.model_copy(
        update={"master_data": md.model_copy(update=resolved), "suites_dir": suites}
    )


# --- the decision ---------------------------------------------------------------------------


def present(value: Any) -> bool:
    """Whether a field's value was found: not None, not blank, not an empty list."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return True


def field_findings(extraction: Extraction, policy: Policy) -> list[Finding]:
    """``missing_field`` for each required field that is absent or empty, ``low_confidence`` for
    each present field below its threshold (a required field's, a field's own, or
    ``other_fields`` for the rest)."""
    out: list[Finding] = []
    required = policy.required_fields.get(extraction.doc_type, [])
    for name in required:
        field = extraction.fields.get(name)
        if field is None or not present(field.value):
            kind = "list" if name in LIST_FIELDS else "field"
            out.append(
                Finding(
                    code="missing_field",
                    severity=Severity.ERROR,
                    field=name,
                    message=f"Required {kind} {label(name).lower()} was not found on the document.",
                )
            )
    # required fields first, then those with a threshold of their own, then the rest
    for name in dict.fromkeys([*required, *policy.thresholds.fields, *extraction.fields]):
        field = extraction.fields.get(name)
        if field is None or not present(field.value):
            continue
        threshold = policy.thresholds.for_field(name, required=name in required)
        if threshold is not None and Decimal(str(field.confidence)) < threshold:
            out.append(
                Finding(
                    code="low_confidence",
                    severity=Severity.ERROR,
                    field=name,
                    message=f"{label(name)} was read with confidence {field.confidence:.2f}, "
                    f"below the {threshold:.2f} needed to post without review."
                    + (f" Unsure of {field.doubt}." if field.doubt else ""),
                )
            )
    return out


def decide(extraction: Extraction, findings: list[Finding], policy: Policy) -> Decision:
    """``reject`` on an unreadable-file finding; ``review`` when a required field is missing or
    unsure, a finding blocks, or the amount needs a person; else ``post``."""
    rejects = [f for f in findings if policy.is_reject(f)]
    if extraction.doc_type == DocType.UNKNOWN:
        findings = [f for f in findings if f.code != "unknown_doc_type"]
        unknown = Finding(
            code="unknown_doc_type",
            severity=Severity.ERROR,
            field=None,
            message="The document type (invoice, receipt or claim) could not be recognised.",
        )
        if policy.is_reject(unknown):
            rejects.append(unknown)
        elif not rejects:
            return Decision(
                outcome=Outcome.REVIEW,
                findings=[unknown, *[f for f in findings if policy.is_blocking(f)]],
            )
    if rejects:
        return Decision(outcome=Outcome.REJECT, findings=rejects)

    causes = field_findings(extraction, policy)
    if Decimal(str(extraction.doc_type_confidence)) < policy.min_doc_type_confidence:
        causes.append(
            Finding(
                code="uncertain_doc_type",
                severity=Severity.ERROR,
                field=None,
                message=f"Recognised as {extraction.doc_type.value} with confidence "
                f"{extraction.doc_type_confidence:.2f} only; confirm the document type.",
            )
        )
    causes += [f for f in findings if policy.is_blocking(f)]
    limit = policy.approval_limits.get(extraction.doc_type)
    total = extraction.value("total_amount")
    if limit is not None and isinstance(total, Decimal) and total > limit:
        currency = extraction.value("currency")
        unit = f" {currency}" if isinstance(currency, str) and currency else ""
        causes.append(
            Finding(
                code="amount_above_limit",
                severity=Severity.WARNING,
                field="total_amount",
                message=f"Total {money(total)}{unit} is above the {money(limit)} limit: a person "
                "must approve.",
            )
        )
    if causes:
        return Decision(outcome=Outcome.REVIEW, findings=causes)
    return Decision(outcome=Outcome.POST, findings=[])
