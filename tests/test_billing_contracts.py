"""Contracts: YAML deep-merged over the defaults, validated, and refused with a clear message."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from billing.contracts import BillOutcome, deep_merge, load_contract
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings


def settings_with(tmp_path: Path, **clients: str) -> Settings:
    folder = tmp_path / "config" / "clients"
    folder.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "config" / "clients" / "default.yaml", folder / "default.yaml")
    for name, text in clients.items():
        (folder / f"{name}.yaml").write_text(text)
    return Settings(config_dir=tmp_path / "config")


@pytest.mark.parametrize(
    "path", sorted((PROJECT_ROOT / "config" / "clients").glob("*.yaml")), ids=lambda p: p.stem
)
def test_shipped_contracts_load(path):
    contract = load_contract(Settings(), path.stem)
    assert contract.prices.auto_posted > 0
    assert contract.costs.cpu_hour > 0


def test_client_file_is_merged_over_the_defaults(tmp_path):
    settings = settings_with(
        tmp_path,
        acme='contract:\n  prices:\n    reviewed: "1.25"\ncosts:\n  review_hour: "30"\n'
        "policy:\n  anything: [the, decision, policy, is, not, read, here]\n",
    )
    default = load_contract(settings, "unknown-client")
    acme = load_contract(settings, "acme")
    assert acme.prices.reviewed == Decimal("1.25")
    assert acme.prices.auto_posted == default.prices.auto_posted  # inherited key by key
    assert acme.costs.review_hour == Decimal("30")
    assert acme.costs.cpu_hour == default.costs.cpu_hour
    assert isinstance(acme.prices.reviewed, Decimal)
    assert acme.sources == ("default.yaml", "acme.yaml")
    assert default.sources == ("default.yaml",)


def test_money_written_as_a_yaml_float_stays_exact(tmp_path):
    settings = settings_with(tmp_path, acme="contract:\n  prices:\n    auto_posted: 0.1\n")
    assert load_contract(settings, "acme").prices.auto_posted == Decimal("0.1")


def test_lists_replace_rather_than_append():
    base = {"a": {"tiers": [1, 2], "x": 1}}
    assert deep_merge(base, {"a": {"tiers": [3]}}) == {"a": {"tiers": [3], "x": 1}}
    assert base == {"a": {"tiers": [1, 2], "x": 1}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('contract:\n  prices:\n    reviewed: "abc"\n', "contract.prices.reviewed"),
        ('contract:\n  prices:\n    reviewed: "-1"\n', "greater than or equal to 0"),
        ("contract:\n  prices:\n    reviewd: 1\n", "contract.prices.reviewd"),
        ("contract:\n  currency: dollars\n", "contract.currency"),
        ('contract:\n  monthly_minimum: "1e400x"\n', "contract.monthly_minimum"),
        ('contract:\n  accuracy_sla:\n    target: "99.5"\n', "contract.accuracy_sla.target"),
        ("contract:\n  tier_mode: sliding\n", "contract.tier_mode"),
        (
            "contract:\n  tiers:\n    - {above: 500, prices: {reviewed: '1'}}\n"
            "    - {above: 100, prices: {reviewed: '2'}}\n",
            "strictly increasing",
        ),
        ('costs:\n  cpu_hour: "cheap"\n', "costs.cpu_hour"),
        ("costs:\n  gpu_hour: 3\n", "costs.gpu_hour"),
        ("contract: [1, 2]\n", "no `contract:` mapping"),
        ("contract:\n  prices: {auto_posted: '1'\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_invalid_contracts_fail_clearly(tmp_path, text, message):
    settings = settings_with(tmp_path, acme=text)
    with pytest.raises(ConfigError) as info:
        load_contract(settings, "acme")
    assert message in info.value.message
    assert "acme" in info.value.message
    assert info.value.exit_code == 2


def test_every_problem_is_listed_at_once(tmp_path):
    settings = settings_with(
        tmp_path, acme='contract:\n  prices:\n    reviewed: "x"\n    rejected: "y"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_contract(settings, "acme")
    assert "contract.prices.reviewed" in info.value.message
    assert "contract.prices.rejected" in info.value.message
    assert "acme.yaml" in info.value.message


@pytest.mark.parametrize("client", ["../etc/passwd", "a/b", "", ".hidden", "a" * 101])
def test_client_names_cannot_escape_the_config_folder(tmp_path, client):
    with pytest.raises(ConfigError, match="invalid client name"):
        load_contract(settings_with(tmp_path), client)


def test_missing_defaults_is_a_config_error(tmp_path):
    (tmp_path / "config" / "clients").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"default\.yaml is missing"):
        load_contract(Settings(config_dir=tmp_path / "config"), "acme")


def test_tiers_graduate_and_inherit(tmp_path):
    settings = settings_with(
        tmp_path,
        acme='contract:\n  prices: {auto_posted: "0.40", reviewed: "1.00", rejected: "0.10"}\n'
        '  tiers:\n    - {above: 100, prices: {auto_posted: "0.30", reviewed: "0.80"}}\n'
        '    - {above: 1000, prices: {auto_posted: "0.20"}}\n',
    )
    c = load_contract(settings, "acme")
    assert c.prices_at(100).of(BillOutcome.AUTO_POSTED) == Decimal("0.40")
    assert c.prices_at(101).of(BillOutcome.AUTO_POSTED) == Decimal("0.30")
    assert c.prices_at(1001).of(BillOutcome.AUTO_POSTED) == Decimal("0.20")
    assert c.prices_at(1001).of(BillOutcome.REVIEWED) == Decimal("0.80")
    assert c.prices_at(1001).of(BillOutcome.REJECTED) == Decimal("0.10")
    assert c.prices_at(5).of(BillOutcome.PENDING) == 0
