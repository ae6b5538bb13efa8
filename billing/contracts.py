"""Per-client contracts: what a document is billed, what it costs us, and the SLAs between.

A contract is data, not code: ``config/clients/default.yaml`` holds the defaults and
``config/clients/<client>.yaml`` what differs for one client; ``load_contract`` deep-merges the
two (mappings key by key; lists and scalars replace) and validates the ``contract:`` and
``costs:`` sections. The ``policy:`` section of those files belongs to the decision policy and is
not read here. Money is ``Decimal`` throughout; write it quoted in YAML (``"0.45"``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from core.errors import ConfigError
from core.settings import Settings


def money_str(value: Decimal) -> str:
    """At least two decimals, all the digits there are, never an exponent: ``0`` → ``0.00``,
    ``0.425`` → ``0.425``, ``0E-8`` → ``0.00000000``."""
    if value.as_tuple().exponent >= -1:  # type: ignore[operator]
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


def quantity_str(value: Decimal) -> str:
    """Without trailing zeros or exponent: ``4557.000000`` → ``4557``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


Money = Annotated[Decimal, PlainSerializer(money_str, return_type=str, when_used="json")]
Quantity = Annotated[Decimal, PlainSerializer(quantity_str, return_type=str, when_used="json")]
Share = Annotated[Quantity, Field(ge=0, le=1)]
Percent = Annotated[Quantity, Field(ge=0, le=100)]
NonNegMoney = Annotated[Money, Field(ge=0, max_digits=18, decimal_places=6)]

CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class BillOutcome(StrEnum):
    """What a document became, as billing sees it."""

    AUTO_POSTED = "auto_posted"
    REVIEWED = "reviewed"
    REJECTED = "rejected"
    PENDING = "pending"
    """Not finished when the report was built (in review, escalated…): not billed yet."""


BILLABLE = (BillOutcome.AUTO_POSTED, BillOutcome.REVIEWED, BillOutcome.REJECTED)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomePrices(_Strict):
    auto_posted: NonNegMoney
    reviewed: NonNegMoney
    rejected: NonNegMoney

    def of(self, outcome: BillOutcome) -> Decimal:
        if outcome is BillOutcome.PENDING:
            return Decimal("0")
        return getattr(self, outcome.value)  # type: ignore[no-any-return]


class PartialPrices(_Strict):
    auto_posted: NonNegMoney | None = None
    reviewed: NonNegMoney | None = None
    rejected: NonNegMoney | None = None


class VolumeTier(_Strict):
    """From the month's document number ``above + 1`` on, these prices; an outcome the tier does
    not list keeps the price of the tier below."""

    above: int = Field(gt=0)
    prices: PartialPrices


class CreditStep(_Strict):
    below: Share
    percent: Percent


class AccuracySLA(_Strict):
    target: Share
    unit: Literal["field", "document"] = "field"
    credit_when: Literal["point", "upper"] = "point"
    """``point``: credit when the point estimate is below the target; ``upper``: only when the
    whole 95 % interval is (the operator's reading; small samples then never earn a credit)."""
    credits: list[CreditStep] = []


class TurnaroundSLA(_Strict):
    hours: Quantity = Field(gt=0)
    target: Share
    credits: list[CreditStep] = []


class QASettings(_Strict):
    sample_rate: Share = Decimal("0.02")


class CostModel(_Strict):
    """What a unit of work costs the operator."""

    cpu_hour: NonNegMoney
    review_hour: NonNegMoney
    storage_gb_month: NonNegMoney
    storage_months: Quantity = Field(ge=0)
    ocr_page: NonNegMoney
    text_layer_page: NonNegMoney = Decimal("0")
    reprocess: NonNegMoney = Decimal("0")


class Contract(_Strict):
    """The ``contract:`` section of a client's YAML plus its ``costs:``."""

    client: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    prices: OutcomePrices
    tier_mode: Literal["graduated", "volume"] = "graduated"
    tiers: list[VolumeTier] = []
    monthly_minimum: NonNegMoney = Decimal("0")
    accuracy_sla: AccuracySLA | None = None
    turnaround_sla: TurnaroundSLA | None = None
    credit_cap_percent: Percent = Decimal("100")
    qa: QASettings = QASettings()
    costs: CostModel
    sources: tuple[str, ...] = ()
    """The names of the files it was merged from (``default.yaml``, ``acme.yaml``)."""

    @field_validator("tiers")
    @classmethod
    def _tiers_ascending(cls, tiers: list[VolumeTier]) -> list[VolumeTier]:
        bounds = [t.above for t in tiers]
        if bounds != sorted(set(bounds)):
            raise ValueError(f"tiers must have strictly increasing `above` values, got {bounds}")
        return tiers

    def prices_at(self, rank: int) -> OutcomePrices:
        """Prices for the ``rank``-th billable document of the month (1-based)."""
        merged = self.prices.model_dump()
        for tier in self.tiers:
            if rank > tier.above:
                merged.update({k: v for k, v in tier.prices.model_dump().items() if v is not None})
        return OutcomePrices(**merged)


def validate_client_name(client: str) -> str:
    if not CLIENT_NAME.match(client) or ".." in client:
        raise ConfigError(
            f"invalid client name {client!r}: use letters, digits, '-', '_' or '.' (max 100)"
        )
    return client


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top, got {type(data).__name__}")
    return data


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` wins; nested mappings merge key by key; lists and scalars replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if loc and not loc.startswith("costs"):
            loc = f"contract.{loc}"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        lines.append(f"  - {loc or 'contract'}: {err['msg']}{shown}")
    return "\n".join(lines)


def load_contract(settings: Settings, client: str) -> Contract:
    """The client's contract: ``default.yaml`` deep-merged with ``<client>.yaml`` if present.

    Raises ``ConfigError`` naming the files and every invalid key.
    """
    validate_client_name(client)
    folder = Path(settings.config_dir) / "clients"
    paths = [p for p in (folder / "default.yaml", folder / f"{client}.yaml") if p.is_file()]
    if not paths:
        raise ConfigError(f"no contract for client {client!r}: {folder}/default.yaml is missing")
    merged: dict[str, Any] = {}
    for path in paths:
        merged = deep_merge(merged, _read_yaml(path))
    names = " + ".join(str(p) for p in paths)
    terms = merged.get("contract")
    costs = merged.get("costs")
    if not isinstance(terms, dict):
        raise ConfigError(f"contract for client {client!r} ({names}): no `contract:` mapping")
    if not isinstance(costs, dict):
        raise ConfigError(f"contract for client {client!r} ({names}): no `costs:` mapping")
    if "client" in terms or "costs" in terms or "sources" in terms:
        raise ConfigError(
            f"contract for client {client!r} ({names}): `client`, `costs` and `sources` "
            "are not keys of `contract:`"
        )
    try:
        return Contract(client=client, costs=costs, sources=tuple(p.name for p in paths), **terms)
    except ValidationError as exc:
        raise ConfigError(
            f"contract for client {client!r} ({names}) is invalid:\n{_describe(exc)}"
        ) from exc
