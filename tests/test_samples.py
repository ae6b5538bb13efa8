"""The sample documents: the generator is reproducible, and every label tells the truth.

The committed ``samples/`` must be exactly what ``python -m samples.generate`` writes; each label's
amounts add up (except where a mismatch is the point), its identifiers pass their check digits,
born-digital PDFs carry their numbers in a text layer, and each bad file is bad the stated way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageSequence, UnidentifiedImageError
from pypdf import PdfReader
from stdnum import get_cc_module, luhn
from stdnum.us import ein

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
DEFAULT_SEED = 1500
GENERATED_DIRS = ("invoices", "claims", "receipts", "bad")
REASONS = {
    "total_mismatch",
    "duplicate",
    "empty_file",
    "corrupt",
    "encrypted",
    "unsupported_format",
}
COMMON = ("vendor_name", "invoice_number", "invoice_date", "total_amount", "currency", "address")
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
CPT_HCPCS = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$")


def run_generator(out: Path, seed: int = DEFAULT_SEED) -> None:
    subprocess.run(
        [sys.executable, "-m", "samples.generate", "--out", str(out), "--seed", str(seed)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for d in GENERATED_DIRS
        for p in sorted((root / d).glob("*"))
        if p.is_file()
    } | {"manifest.json": (root / "manifest.json").read_bytes()}


def labels(root: Path = SAMPLES) -> list[Path]:
    return sorted(p for d in GENERATED_DIRS for p in (root / d).glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def document_of(label_path: Path) -> Path:
    [name] = load(label_path)["files"]
    return label_path.parent / name


def by_type(doc_type: str) -> list[Path]:
    return [p for p in labels() if load(p)["doc_type"] == doc_type]


def dec(value: str) -> Decimal:
    assert AMOUNT.match(value), value
    return Decimal(value)


def npi_ok(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi[0] in "12" and luhn.is_valid("80840" + npi)


def vat_ok(number: str) -> bool:
    module = get_cc_module(number[:2].lower(), "vat")
    return module is not None and module.is_valid(number)


# -- the generator ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples-a")
    run_generator(out)
    return out


def test_same_seed_gives_identical_files(generated: Path, tmp_path: Path) -> None:
    run_generator(tmp_path)
    first, second = tree(generated), tree(tmp_path)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_another_seed_gives_other_values(generated: Path, tmp_path: Path) -> None:
    run_generator(tmp_path, seed=7)
    a = load(generated / "invoices" / "northwind_classic.json")["fields"]
    b = load(tmp_path / "invoices" / "northwind_classic.json")["fields"]
    assert a["invoice_number"] != b["invoice_number"] or a["total_amount"] != b["total_amount"]


def test_committed_samples_are_the_generator_output(generated: Path) -> None:
    committed, fresh = tree(SAMPLES), tree(generated)
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if committed.get(name) != fresh.get(name)
    )
    assert stale == [], "samples/ is out of date: run `.venv/bin/python -m samples.generate`"


def test_manifest_lists_every_document_with_its_hash() -> None:
    manifest = load(SAMPLES / "manifest.json")
    listed = {entry["path"]: entry for entry in manifest["documents"]}
    assert set(listed) == {document_of(p).relative_to(SAMPLES).as_posix() for p in labels()}
    for path, entry in listed.items():
        data = (SAMPLES / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)


def test_samples_stay_small() -> None:
    size = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert size < 3_000_000


def test_the_set_covers_the_demo_scenarios() -> None:
    outcomes = [
        (load(p)["doc_type"], load(p)["expected_outcome"], load(p)["expected_reason"])
        for p in labels()
    ]
    reasons = {reason for _, _, reason in outcomes if reason}
    assert reasons == REASONS
    assert {t for t, o, _ in outcomes if o == "post"} == {"invoice", "claim", "receipt"}
    suffixes = {document_of(p).suffix for p in labels()}
    assert {".pdf", ".jpg", ".png", ".tif"} <= suffixes


# -- every label -----------------------------------------------------------------------------------


@pytest.mark.parametrize("label_path", labels(), ids=lambda p: p.stem)
def test_label_schema(label_path: Path) -> None:
    label = load(label_path)
    assert label["id"] == label_path.stem
    assert label["dataset"] == "docflow-samples" and label["split"] == "demo"
    assert document_of(label_path).is_file()
    assert all(key in label["fields"] for key in COMMON)
    outcome, reason = label["expected_outcome"], label["expected_reason"]
    assert outcome in {"post", "review", "reject"}
    assert (reason is None) == (outcome == "post")
    assert reason is None or reason in REASONS
    assert (label["doc_type"] == "unknown") == (outcome == "reject")


@pytest.mark.parametrize("label_path", by_type("invoice"), ids=lambda p: p.stem)
def test_invoice_arithmetic_and_identifiers(label_path: Path) -> None:
    label = load(label_path)
    f = label["fields"]
    for item in f["line_items"]:
        assert dec(item["quantity"]) * dec(item["unit_price"]) == dec(item["amount"])
    assert sum(dec(item["amount"]) for item in f["line_items"]) == dec(f["subtotal"])
    adds_up = dec(f["subtotal"]) + dec(f["tax_amount"]) == dec(f["total_amount"])
    assert adds_up == (label["expected_reason"] != "total_mismatch")
    assert vat_ok(f["vendor_vat"]), f["vendor_vat"]
    assert dt.date.fromisoformat(f["due_date"]) > dt.date.fromisoformat(f["invoice_date"])
    assert f["currency"] in {"EUR", "GBP"}
    assert f["vendor_name"] and f["buyer_name"] and f["address"] and f["invoice_number"]


def test_duplicate_repeats_an_earlier_invoice_with_other_bytes() -> None:
    [duplicate] = [p for p in labels() if load(p)["expected_reason"] == "duplicate"]
    original = duplicate.with_name(load(duplicate)["duplicate_of"] + ".json")
    a, b = load(original)["fields"], load(duplicate)["fields"]
    assert (a["vendor_name"], a["invoice_number"]) == (b["vendor_name"], b["invoice_number"])
    assert a == b
    assert load(original)["expected_outcome"] == "post"
    assert document_of(original).read_bytes() != document_of(duplicate).read_bytes()
    assert (
        sorted([document_of(original).name, document_of(duplicate).name])[0]
        == document_of(original).name
    )


@pytest.mark.parametrize("label_path", by_type("receipt"), ids=lambda p: p.stem)
def test_receipt_arithmetic(label_path: Path) -> None:
    f = load(label_path)["fields"]
    for item in f["line_items"]:
        assert dec(item["quantity"]) * dec(item["unit_price"]) == dec(item["amount"])
    total = dec(f["total_amount"])
    assert sum(dec(item["amount"]) for item in f["line_items"]) == total
    assert Decimal("0") < dec(f["tax_amount"]) < total / 4
    assert vat_ok(f["vendor_vat"])


@pytest.mark.parametrize("label_path", by_type("claim"), ids=lambda p: p.stem)
def test_claim_arithmetic_and_codes(label_path: Path) -> None:
    f = load(label_path)["fields"]
    lines = f["service_lines"]
    assert 1 <= len(lines) <= 6
    assert sum(dec(line["charges"]) for line in lines) == dec(f["total_amount"])
    assert dec(f["amount_paid"]) <= dec(f["total_amount"])
    assert f["service_date_from"] == min(line["date_from"] for line in lines)
    assert f["service_date_to"] == max(line["date_to"] for line in lines)
    assert npi_ok(f["billing_provider_npi"])
    assert ein.is_valid(f["federal_tax_id"])
    assert all(ICD10.match(code) for code in f["diagnosis_codes"])
    letters = "ABCDEFGHIJKL"[: len(f["diagnosis_codes"])]
    for line in lines:
        assert npi_ok(line["rendering_npi"])
        assert CPT_HCPCS.match(line["procedure_code"])
        assert all(re.fullmatch(r"[0-9A-Z]{2}", m) for m in line["modifiers"])
        assert line["pointers"] and set(line["pointers"]) <= set(letters)
        assert line["place_of_service"] == "11"
        assert line["units"].isdigit() and int(line["units"]) >= 1
        assert line["date_from"] <= line["date_to"]
    assert re.fullmatch(r"[A-Z' -]+, [A-Z' -]+", f["patient_name"])
    assert f["currency"] == "USD" and f["invoice_number"] is None


def test_npi_check_rejects_a_wrong_check_digit() -> None:
    npi = load(by_type("claim")[0])["fields"]["billing_provider_npi"]
    wrong = npi[:-1] + str((int(npi[-1]) + 1) % 10)
    assert npi_ok(npi) and not npi_ok(wrong)


# -- the documents themselves ----------------------------------------------------------------------


def born_digital() -> list[Path]:
    return [
        p for p in labels() if document_of(p).suffix == ".pdf" and load(p)["doc_type"] != "unknown"
    ]


@pytest.mark.parametrize("label_path", born_digital(), ids=lambda p: p.stem)
def test_born_digital_pdf_text_layer_has_the_key_values(label_path: Path) -> None:
    label = load(label_path)
    document = pdfium.PdfDocument(document_of(label_path))
    try:
        assert len(document) == label["pages"]
        text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    f = label["fields"]
    if label["doc_type"] == "invoice":
        expected = [f["invoice_number"], f["vendor_vat"]]
    else:
        expected = [
            f["patient_account_number"],
            f["billing_provider_npi"],
            f["insured_id"],
            *f["diagnosis_codes"],
            *(line["procedure_code"] for line in f["service_lines"]),
        ]
    missing = [value for value in expected if value not in text]
    assert missing == []


@pytest.mark.parametrize(
    "label_path",
    [p for p in by_type("claim") if document_of(p).suffix == ".pdf"],
    ids=lambda p: p.stem,
)
def test_claim_pdfs_are_flattened(label_path: Path) -> None:
    reader = PdfReader(document_of(label_path))
    assert "/AcroForm" not in reader.trailer["/Root"]
    assert all("/Annots" not in page for page in reader.pages)


def scans() -> list[Path]:
    return [p for p in labels() if "scan" in load(p)]


@pytest.mark.parametrize("label_path", scans(), ids=lambda p: p.stem)
def test_scans_are_images_with_their_pages_and_dpi(label_path: Path) -> None:
    label = load(label_path)
    with Image.open(document_of(label_path)) as image:
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
        dpi = image.info["dpi"]
    assert len(frames) == label["pages"]
    assert round(dpi[0]) == label["scan"]["dpi"]
    assert 0.5 <= abs(label["scan"]["skew_degrees"]) <= 2.0
    assert all(frame.mode in {"1", "L"} for frame in frames)


# -- bad files -------------------------------------------------------------------------------------


def bad(name: str) -> tuple[Path, dict]:
    label_path = SAMPLES / "bad" / f"{name}.json"
    return document_of(label_path), load(label_path)


def test_empty_file_is_empty() -> None:
    path, label = bad("empty")
    assert path.stat().st_size == 0
    assert label["expected_reason"] == "empty_file"


def test_truncated_pdf_starts_like_a_pdf_but_cannot_be_opened() -> None:
    path, label = bad("truncated")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" not in data and len(data) > 100
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)
    assert label["expected_reason"] == "corrupt"


def test_encrypted_pdf_needs_its_password() -> None:
    path, label = bad("encrypted")
    assert PdfReader(path).is_encrypted
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(path)
    document = pdfium.PdfDocument(path, password="docflow-demo")
    try:
        assert "Northwind" in document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert label["expected_reason"] == "encrypted"


def test_text_renamed_pdf_is_plain_text() -> None:
    path, label = bad("not_a_pdf")
    data = path.read_bytes()
    assert path.suffix == ".pdf" and not data.startswith(b"%PDF")
    assert all(ch.isprintable() or ch in "\n\t" for ch in data.decode("utf-8"))
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)
    assert label["expected_reason"] == "unsupported_format"


def test_docx_is_a_word_document_not_a_pdf_or_image() -> None:
    path, label = bad("letter")
    with zipfile.ZipFile(path) as archive:
        assert "word/document.xml" in archive.namelist()
        assert archive.testzip() is None
    with pytest.raises(UnidentifiedImageError):
        Image.open(path)
    assert label["expected_reason"] == "unsupported_format"


# -- OCR can read the scans ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("label_path", scans(), ids=lambda p: p.stem)
def test_tesseract_reads_the_key_number_on_each_scan(label_path: Path) -> None:
    f = load(label_path)["fields"]
    key = f["invoice_number"] or f["patient_account_number"]
    result = subprocess.run(
        ["tesseract", str(document_of(label_path)), "-", "--psm", "3"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    assert key in result.stdout
