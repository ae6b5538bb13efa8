"""One settings object, built once at the edge (CLI, web app, flow entry) and passed down.

Values come from environment variables prefixed ``DOCFLOW_`` (``DOCFLOW_HOME``,
``DOCFLOW_DATABASE_URL``…). Stages receive a ``Settings``; they never read ``os.environ``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-only-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCFLOW_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    home: Path = Path(".docflow")
    database_url: str | None = None
    config_dir: Path = PROJECT_ROOT / "config"
    secret_key: str = DEFAULT_SECRET

    ocr_dpi: int = Field(300, ge=72, le=600)
    ocr_lang: str = "eng"
    ocr_auto_langs: Annotated[list[str], NoDecode] = ["deu", "fra", "nld", "spa", "ita"]
    """Languages an OCR page is read again in (that language's data alone) when its reading with
    ``ocr_lang`` looks like one of them and the data is installed; the surer reading is kept.
    Empty: never (one reading per page)."""
    force_ocr: bool = False
    vendor_library: bool = True
    """Name known sellers by invoice2data's community template library (where no template in
    ``extractors/templates`` matches); off: the invoice reader names every seller itself."""
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1, le=64)
    cpu_budget_seconds: float = Field(20.0, ge=0)
    """Extra CPU seconds per document the OCR cascade may spend on low-confidence fields."""

    max_file_mb: int = Field(100, ge=1)
    max_pages: int = Field(500, ge=1)
    max_image_pixels: int = Field(120_000_000, ge=1_000_000)
    stable_seconds: float = Field(2.0, ge=0)
    """An object must keep its size this long before intake takes it (partial uploads)."""
    intake_ignore: Annotated[list[str], NoDecode] = ["*.json", "*.md", "*.py", "*.pyc",
                                                     "*.reason.json"]
    """Sidecar files in an inbox that are not documents (labels, READMEs, the sample generator)."""
    keep_page_images: bool = True
    lease_minutes: int = Field(15, ge=1)
    dispatch_lease_seconds: float = Field(900.0, ge=1)
    """Distributed mode: a batch handed to a worker is handed out again after this long."""
    session_hours: int = Field(8, ge=1)

    @field_validator("ocr_auto_langs", "intake_ignore", mode="before")
    @classmethod
    def _list_from_text(cls, value: object) -> object:
        """A list setting as people write it in an environment: ``deu,fra``, ``deu fra``, a
        JSON list (``["deu","fra"]``), or nothing at all for an empty list."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list: {text!r} ({exc.msg})") from exc
        return [item for item in re.split(r"[,\s]+", text) if item]

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("DOCFLOW_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'docflow.db').resolve()}"

    @property
    def page_images_dir(self) -> Path:
        return self.home / "pages"

    def local_dir(self, client: str, area: str) -> Path:
        """``archive``, ``quarantine`` or ``outbox`` of ``client`` under ``DOCFLOW_HOME``."""
        return self.home / client / area


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc


def embedded_prefect_defaults() -> None:
    """Environment defaults for flows run in-process against Prefect's temporary server (the
    CLI and the tests); set before Prefect is imported, and only where the user set nothing."""
    # Prefect waits 20 s for that server; its first start on a fresh machine creates and
    # migrates its database, which takes longer than that on a busy 2-core box.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
