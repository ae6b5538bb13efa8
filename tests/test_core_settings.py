"""Settings as people write them in an environment."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import load_settings


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("", []),  # the README's "empty: one English reading per page"
        ("deu,fra", ["deu", "fra"]),
        ("deu, fra nld", ["deu", "fra", "nld"]),
        ('["deu", "ita"]', ["deu", "ita"]),
        ("[]", []),
    ],
)
def test_a_list_setting_reads_commas_spaces_json_or_nothing(
    monkeypatch: pytest.MonkeyPatch, written: str, read: list[str]
) -> None:
    monkeypatch.setenv("DOCFLOW_OCR_AUTO_LANGS", written)
    assert load_settings().ocr_auto_langs == read


def test_the_intake_ignore_list_reads_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCFLOW_INTAKE_IGNORE", "*.txt, *.csv")
    assert load_settings().intake_ignore == ["*.txt", "*.csv"]


def test_a_broken_json_list_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCFLOW_OCR_AUTO_LANGS", '["deu"')
    with pytest.raises(ConfigError, match=r"(?s)ocr_auto_langs.*not a JSON list"):
        load_settings()
