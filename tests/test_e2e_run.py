"""End to end: the real CLI, the real Prefect flow, real Tesseract, over the shipped samples."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_docflow

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

pytestmark = pytest.mark.slow


def _expected() -> dict[str, dict]:
    """file name → expected outcome (and reason) from the JSON beside each sample."""
    out = {}
    for label in SAMPLES.rglob("*.json"):
        data = json.loads(label.read_text())
        if "expected_outcome" not in data:
            continue
        for name in data.get("files") or [label.with_suffix(".pdf").name]:
            out[name] = data
    return out


def _docflow(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCFLOW_HOME": str(home), "DOCFLOW_STABLE_SECONDS": "0"}
    env.pop("DOCFLOW_DATABASE_URL", None)
    return run_docflow(*args, env=env, timeout=900)


@pytest.fixture(scope="module")
def first_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("e2e") / "home"
    proc = _docflow(home, "run", str(SAMPLES), "--json")
    assert proc.returncode == 0, proc.stderr
    return home, json.loads(proc.stdout), proc


def test_every_sample_ends_as_expected(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    """Bad files and seeded problems end exactly as labelled, with the labelled reason. A clean
    document may be held back for review (low confidence, or a check tripped by a misread scan:
    a cautious miss), but never rejected nor called a duplicate."""
    _, summary, _ = first_run
    expected = _expected()
    assert expected, "samples/ has no expectations"
    got = {d["file"]: d for d in summary["documents"]}
    missing = set(expected) - set(got)
    assert not missing, f"samples not processed: {missing}"
    wrong = {}
    for name, exp in expected.items():
        doc = got[name]
        codes = {r["code"] for r in doc["reasons"]}
        if exp["expected_outcome"] == "post":
            cautious = doc["outcome"] == "review" and "duplicate" not in codes
            if doc["outcome"] != "post" and not cautious:
                wrong[name] = ("post", doc["outcome"], doc["reasons"])
        elif doc["outcome"] != exp["expected_outcome"] or exp.get("expected_reason") not in codes:
            wrong[name] = (exp["expected_outcome"], exp.get("expected_reason"), doc["outcome"], codes)
    assert not wrong, wrong
    posted = [d for d in summary["documents"] if d["outcome"] == "post"]
    assert len(posted) >= 5, [(d["file"], d["reasons"]) for d in summary["documents"]]


def test_bad_files_are_quarantined_with_a_reason(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    home, summary, _ = first_run
    rejected = [d for d in summary["documents"] if d["outcome"] == "reject"]
    assert rejected
    quarantine = home / "default" / "quarantine"
    for doc in rejected:
        assert doc["reasons"] and doc["reasons"][0]["message"]
        kept = list(quarantine.glob(f"{doc['document_id'][:12]}-*"))
        originals = [p for p in kept if not p.name.endswith(".reason.json")]
        assert len(originals) == 1, f"original of {doc['file']} not kept in quarantine"


def test_normal_run_prints_no_tracebacks_or_errors(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    _, _, proc = first_run
    for noise in ("Traceback", "ERROR", "Exception"):
        assert noise not in proc.stderr, proc.stderr


def test_queue_list_json_holds_every_unposted_document(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    home, summary, _ = first_run
    proc = _docflow(home, "queue", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    unposted = {d["document_id"] for d in summary["documents"] if d["outcome"] != "post"}
    assert {i["document_id"] for i in items} == unposted
    for item in items:
        assert set(item) >= {"document_id", "client", "doc_type", "status", "source", "findings"}
        assert item["status"] in {"review", "rejected"}
        assert item["source"].startswith("file://")
        assert item["findings"], item


def test_posted_documents_are_in_the_outbox_once(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    home, summary, _ = first_run
    posted = [d for d in summary["documents"] if d["outcome"] == "post"]
    assert posted
    outbox = home / "default" / "outbox"
    files = {p.stem for p in outbox.rglob("*.json")}
    assert {d["document_id"] for d in posted} <= files
    rows = [r for f in (outbox / "batches").glob("*.csv") for r in csv.DictReader(f.open())]
    assert sorted(r["document_id"] for r in rows) == sorted(d["document_id"] for d in posted)


def test_second_run_processes_nothing_new(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    home, _summary, _ = first_run
    outbox = home / "default" / "outbox"
    before = sorted(ln for f in (outbox / "batches").glob("*.csv") for ln in f.read_text().splitlines())
    proc = _docflow(home, "run", str(SAMPLES))
    assert proc.returncode == 0, proc.stderr
    assert "nothing new" in proc.stdout
    after = sorted(ln for f in (outbox / "batches").glob("*.csv") for ln in f.read_text().splitlines())
    assert after == before


def test_review_pictures_of_pdf_pages_are_drawn_on_first_view(
    first_run: tuple[Path, dict, subprocess.CompletedProcess[str]],
) -> None:
    """A born-digital PDF gets no picture at run time (most are never opened, or once); the
    review page draws it from the archived original when it is first asked for, and keeps it."""
    from core.db import DocumentRow, get_engine, session_scope
    from core.settings import Settings
    from exceptions_queue.pictures import has_page_image, page_image_file

    home, summary, _ = first_run
    settings = Settings(home=home)
    reviewed = [d["document_id"] for d in summary["documents"]
                if d["outcome"] == "review" and d["file"].endswith(".pdf")]
    assert reviewed
    with session_scope(get_engine(settings.db_url)) as session:
        doc = session.get(DocumentRow, reviewed[0])
        assert doc is not None and doc.pages
        page = doc.pages[0]
        assert page["origin"] == "text-layer"
        planned = Path(page["image_path"])
        planned = planned if planned.is_absolute() else home / planned
        assert not planned.exists() and has_page_image(settings, page)
        drawn = page_image_file(settings, doc, page)
        assert drawn is not None and drawn.exists()
        assert drawn.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
        assert page_image_file(settings, doc, page) == drawn  # kept, not drawn again
        outside = {**page, "image_path": str(home.parent / "elsewhere.jpg")}
        assert not has_page_image(settings, outside)
        assert page_image_file(settings, doc, outside) is None
        # a posted PDF has one to draw too: QA re-keys posted documents from the picture
        posted = [d["document_id"] for d in summary["documents"]
                  if d["outcome"] == "post" and d["file"].endswith(".pdf")]
        assert posted
        done = session.get(DocumentRow, posted[0])
        assert done is not None and done.pages
        assert has_page_image(settings, done.pages[0])
