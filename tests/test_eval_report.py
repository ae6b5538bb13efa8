"""``evaluate`` runs the pipeline over labelled files and reports in the contract's shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.models import Field
from core.settings import Settings
from extractors.registry import calibrated
from pipeline.evaluate import (
    _steps,
    _summary,
    cross_validate,
    evaluate,
    find_labelled,
    fit_calibration,
    format_report,
    held_back,
    suggest_thresholds,
)

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture
def small_set(tmp_path: Path) -> Path:
    root = tmp_path / "set"
    for stem in ("coolblue1", "AmazonWebServices"):
        (root / "i2d").mkdir(parents=True, exist_ok=True)
        for ext in (".json", ".pdf"):
            shutil.copy(
                DATASETS / "invoice2data" / "dev" / f"{stem}{ext}", root / "i2d" / f"{stem}{ext}"
            )
    zf = next((DATASETS / "zugferd" / "dev").glob("zf_klst*.json"))
    (root / "zf" / "deep").mkdir(parents=True)
    shutil.copy(zf, root / "zf" / "deep" / zf.name)
    shutil.copy(zf.with_suffix(".pdf"), root / "zf" / "deep" / zf.with_suffix(".pdf").name)
    (root / "zf" / "notes.json").write_text('{"not": "a label"}')
    (root / "zf" / "orphan.json").write_text(json.dumps({"fields": {}, "files": ["missing.pdf"]}))
    return root


def test_labels_are_found_recursively(small_set: Path) -> None:
    found = find_labelled(small_set)
    assert sorted(d.label["id"] for d in found) == sorted(
        [
            "coolblue1",
            "AmazonWebServices",
            json.loads(next(small_set.rglob("zf_*.json")).read_text())["id"],
        ]
    )


def test_report_has_the_contract_shape(small_set: Path, settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    report = evaluate(small_set, settings, out=out)
    written = json.loads(out.read_text())
    assert written["overall"] == json.loads(json.dumps(report["overall"]))
    assert set(report["datasets"]) == {"invoice2data", "zugferd"}
    ds = report["datasets"]["invoice2data"]
    assert ds["documents"] == 2 and 0 <= ds["stp_rate"] <= 1
    assert ds["fields"]["total_amount"] == {"n": 2, "correct": 2, "accuracy": 1.0}
    assert {"documents", "stp_rate", "posted_accuracy", "field_accuracy"} <= set(report["overall"])
    assert set(report["seconds_per_page"]) == {"ocr", "other"}
    doc = next(d for d in report["documents"] if d["id"] == "coolblue1")
    assert doc["decision"] in ("post", "review", "reject")
    assert doc["fields"]["total_amount"] == "717.97"
    assert doc["fields"]["invoice_date"] == "2014-04-19"
    zf = next(d for d in report["documents"] if d["dataset"] == "zugferd")
    assert isinstance(zf["fields"]["line_items"], list)
    assert report["reliability"] and report["high_confidence"]["threshold"] == 0.95
    assert "fields" in report["suggested_thresholds"]
    text = format_report(report)
    assert "invoice2data" in text and "reliability" in text


def test_calibration_steps_are_monotone_and_conservative() -> None:
    pairs = (
        [(0.2, False)] * 10
        + [(0.2, True)] * 2
        + [(0.65, True)] * 8
        + [(0.65, False)] * 4
        + [(0.95, True)] * 40
    )
    steps = _steps(pairs)
    values = [v for _, v in steps]
    assert values == sorted(values)
    assert steps[-1][1] < 1.0  # 40 of 40 right is not proof of 100 %
    assert steps[-1][1] > 0.9


def test_fit_calibration_pools_small_groups() -> None:
    docs = [
        {
            "dataset": "d",
            "id": str(i),
            "correct": {"total_amount": True},
            "method": {"total_amount": "label"},
            "origin": {"total_amount": "text"},
            "raw_confidence": {"total_amount": 0.9},
            "confidence": {"total_amount": 0.9},
        }
        for i in range(5)
    ]
    fitted = fit_calibration([{"documents": docs}, {"documents": docs}])
    table = fitted["table"]
    assert "total_amount|label" not in table  # too few to stand alone
    assert "*|label" not in table  # pooled by method only from MIN_GROUP on
    assert "*|*" in table and "*|*@text" in table
    assert fitted["counts"]["*|*"] == 5  # a document read twice the same way counts once
    as_scans = [{**d, "origin": {"total_amount": "ocr"}} for d in docs]
    both = fit_calibration([{"documents": docs}, {"documents": as_scans, "run": {"force_ocr": True}}])
    assert both["counts"]["*|*@text"] == 5 and both["counts"]["*|*@ocr"] == 5  # read two ways


def test_fit_calibration_keeps_each_extractors_groups_apart() -> None:
    """Receipts' unsure dates must not pull down invoice dates found by the same method."""

    def doc(i: int, extractor: str, ok: bool) -> dict[str, object]:
        return {
            "dataset": extractor, "id": str(i), "extractor": extractor,
            "correct": {"invoice_date": ok}, "method": {"invoice_date": "label+agree"},
            "origin": {"invoice_date": "ocr"}, "raw_confidence": {"invoice_date": 0.65},
            "confidence": {"invoice_date": 0.65},
        }

    docs = [doc(i, "invoice", True) for i in range(40)]
    docs += [doc(100 + i, "receipt", i % 3 != 0) for i in range(60)]
    table = fit_calibration([{"documents": docs}])["table"]
    invoice = calibrated(Field(name="invoice_date", value="2024-01-02", confidence=0.65,
                               method="label+agree"), table, origin="ocr", extractor="invoice")
    receipt = calibrated(Field(name="invoice_date", value="2024-01-02", confidence=0.65,
                               method="label+agree"), table, origin="ocr", extractor="receipt")
    pooled = calibrated(Field(name="invoice_date", value="2024-01-02", confidence=0.65,
                              method="label+agree"), table, origin="ocr")
    assert invoice > 0.9 > pooled > receipt
    assert "invoice:invoice_date|label+agree@ocr" in table


def test_cross_validation_scores_each_document_with_a_table_fitted_without_it() -> None:
    def doc(i: int, extractor: str, ok: bool, findings: list[str]) -> dict[str, object]:
        return {
            "dataset": extractor, "id": str(i), "extractor": extractor, "decision": "review",
            "required": ["invoice_date"], "findings": findings,
            "correct": {"invoice_date": ok}, "method": {"invoice_date": "label"},
            "origin": {"invoice_date": "ocr"}, "raw_confidence": {"invoice_date": 0.65},
            "confidence": {"invoice_date": 0.65},
        }

    docs = [doc(i, "invoice", True, ["low_confidence"]) for i in range(60)]
    docs += [doc(100 + i, "receipt", i % 3 != 0, ["low_confidence"]) for i in range(60)]
    docs += [doc(200, "invoice", True, ["duplicate"]), doc(201, "claim", True, [])]
    cv = cross_validate([{"documents": docs}], folds=5)
    assert cv["documents"] == 121  # the claim reader calibrates its own confidences
    assert cv["per_set"]["invoice (as is)"] == {"documents": 61, "posted": 60}  # not the duplicate
    assert cv["per_set"]["receipt (as is)"]["posted"] == 0
    assert cv["posted_accuracy"] == 1.0
    assert cv["high_confidence"]["n"] == 61 and cv["high_confidence"]["correct"] == 61
    # A field no other document vouches for falls to the pooled groups, and does not post.
    lone = [doc(300, "invoice", True, ["low_confidence"]), *docs[60:120]]
    assert cross_validate([{"documents": lone}], folds=5)["per_set"]["invoice (as is)"]["posted"] == 0


def test_an_extractor_without_its_own_group_falls_back_to_the_pooled_one() -> None:
    table = {"*|*": [[0.0, 0.5]], "invoice:*|*@text": [[0.0, 0.97]]}
    field = Field(name="total_amount", value="1.00", confidence=0.8, method="label")
    assert calibrated(field, table, origin="text", extractor="invoice") == 0.97
    assert calibrated(field, table, origin="ocr", extractor="invoice") == 0.5
    assert calibrated(field, table, origin="text", extractor="receipt") == 0.5


def test_a_field_less_sure_than_a_groups_evidence_is_not_lifted_by_it() -> None:
    """A seller's name guessed from the first line (raw 0.3) read from a text layer must not
    borrow the accuracy of the labelled text-layer fields, which all came in at 0.6 or more."""
    labelled = [(0.6 + 0.01 * (i % 30), True) for i in range(60)]
    steps = _steps(labelled)
    assert steps[0][0] == 0.6  # the group's evidence starts there, not at 0
    table = {"invoice:*|*@text": steps, "*|*": [[0.0, 0.2], [0.5, 0.8]]}
    guess = Field(name="vendor_name", value="FACTURE", confidence=0.3, method="fallback")
    labelled_field = guess.model_copy(update={"confidence": 0.7, "method": "label"})
    assert calibrated(labelled_field, table, origin="text", extractor="invoice") > 0.9
    assert calibrated(guess, table, origin="text", extractor="invoice") == 0.2  # the broad group
    assert calibrated(guess, {"invoice:*|*@text": steps}, origin="text", extractor="invoice") == 0.3
    # a guess is never raised by a group pooled over methods, only by one fitted on guesses
    pooled = {"invoice:*|*": [[0.0, 0.88]]}
    assert calibrated(guess, pooled, origin="text", extractor="invoice") == 0.3
    first_date = Field(name="invoice_date", value="2026-01-01", confidence=0.35,
                       method="fallback+agree")
    assert calibrated(first_date, pooled, origin="ocr", extractor="invoice") == 0.35
    assert calibrated(first_date, {**pooled, "invoice:*|fallback+agree": [[0.0, 0.9]]},
                      origin="ocr", extractor="invoice") == 0.9
    assert calibrated(labelled_field, pooled, origin="ocr", extractor="invoice") == 0.88


@pytest.mark.slow
def test_high_confidence_fields_are_right(settings: Settings, tmp_path: Path) -> None:
    """The calibration property on the dev invoices and a slice of receipts."""
    root = tmp_path / "dev"
    for dataset, count in (("invoice2data", 99), ("zugferd", 99), ("sroie", 30)):
        for label in sorted((DATASETS / dataset / "dev").glob("*.json"))[:count]:
            target = root / dataset
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(label, target / label.name)
            for name in json.loads(label.read_text())["files"][:1]:
                shutil.copy(label.parent / name, target / name)
    report = evaluate(root, settings)
    high = report["high_confidence"]
    assert high["n"] > 0
    assert high["accuracy"] >= 0.99, report["worst_errors"][:5]


@pytest.mark.slow
def test_force_ocr_reads_the_page_images_not_the_embedded_xml(
    settings: Settings, tmp_path: Path
) -> None:
    """An OCR'd scan carries no e-invoice XML, so ``--force-ocr`` measures the layout reader."""
    root = tmp_path / "zf"
    root.mkdir()
    label = next((DATASETS / "zugferd" / "dev").glob("zf_klst*.json"))
    shutil.copy(label, root / label.name)
    shutil.copy(label.with_suffix(".pdf"), root / label.with_suffix(".pdf").name)
    as_is = evaluate(root, settings)["documents"][0]
    scanned = evaluate(root, settings, force_ocr=True)
    assert as_is["extractor"] == "facturx" and as_is["origin"]["total_amount"] == "xml"
    assert "facturx" in scanned["run"]["disabled"]
    [doc] = scanned["documents"]
    assert doc["extractor"] == "invoice"
    assert set(doc["origin"].values()) == {"ocr"}


def _held(decision: str, findings: list[str], right: bool, unsure: list[str] | None = None) -> dict:
    return {"decision": decision, "findings": findings, "unsure_fields": unsure or [],
            "required": ["total_amount"], "correct": {"total_amount": right}}


def test_the_report_says_why_documents_were_not_posted() -> None:
    """Where the straight-through rate goes: each reason with the documents it held and those
    it alone held, low confidence by field, and how many held documents were right anyway."""
    records = [
        _held("post", [], True),
        _held("review", ["amount_above_limit"], True),
        _held("review", ["amount_above_limit", "low_confidence"], True, ["vendor_name"]),
        _held("review", ["low_confidence", "low_confidence"], False, ["total_amount", "vendor_name"]),
        _held("reject", ["corrupt"], False),
    ]
    hb = held_back(records)
    assert hb["documents"] == 4 and hb["reviewed"] == 3 and hb["rejected"] == 1
    assert hb["reviewed_with_required_fields_right"] == 2
    assert hb["reasons"]["amount_above_limit"] == {"documents": 2, "alone": 1}
    assert hb["reasons"]["low_confidence"] == {"documents": 2, "alone": 1}
    assert hb["unsure_fields"] == {"vendor_name": 2, "total_amount": 1}
    report = {"datasets": {}, "overall": {"documents": 5, "stp_rate": 0.2, "posted_accuracy": 1.0,
                                          "field_accuracy": 0.6},
              "seconds_per_page": {"ocr": 0.0, "other": 0.0},
              "high_confidence": {"threshold": 0.95, "correct": 0, "n": 0, "accuracy": None},
              "reliability": [], "cascade": {"documents_cascaded": 0, "fields_changed": 0,
                                             "fields_fixed": 0, "fields_broken": 0,
                                             "cascade_seconds": 0, "cascade_seconds_per_page": 0},
              "held_back": hb, "worst_errors": [],
              "suggested_thresholds": {"target": 0.995, "fields": {},
                                       "simulated": {"stp_rate": None, "posted_accuracy": None}}}
    text = format_report(report)
    assert "not posted: 4 documents (3 to review, 1 rejected; 2 reviewed with every required" in text
    assert "low confidence in: vendor_name 2, total_amount 1" in text


def _posted(i: int, address_ok: bool, address_conf: float) -> dict[str, object]:
    return {
        "dataset": "set", "id": str(i), "decision": "post", "required": ["total_amount"],
        "findings": [], "fields": {"total_amount": "1.00", "address": "x"},
        "correct": {"total_amount": True, "address": address_ok},
        "confidence": {"total_amount": 0.99, "address": address_conf},
    }


def test_posted_accuracy_counts_every_scored_field_of_what_was_posted() -> None:
    """Issue 3: the share of scored fields that are right among the documents posted; an
    address delivered wrong on a posted invoice counts, although the policy did not require it."""
    records = [_posted(i, address_ok=i != 0, address_conf=0.7 if i == 0 else 0.99) for i in range(4)]
    summary = _summary(records)
    assert summary["posted_accuracy"] == 7 / 8
    assert summary["posted_accuracy_required"] == 1.0
    # the suggested thresholds hold back the unsure address too, and what is left is right
    suggested = suggest_thresholds(records)
    assert suggested["fields"]["address"]["threshold"] == 0.99
    assert suggested["simulated"] == {"stp_rate": 0.75, "posted_accuracy": 1.0}


def test_the_vendor_master_mends_a_shop_it_learned_from_another_receipt(
    settings: Settings, tmp_path: Path
) -> None:
    """Two receipts of one shop, each read with its name's first letters misread (``UAN HING``,
    ``WAN HING``). The default master learned the shop from both labels, so each receipt is
    mended by what the other one's label says, and the report counts the mends apart from the
    cascade's."""
    root = tmp_path / "sroie"
    root.mkdir()
    for stem in ("X51005453729", "X51009453804"):
        for ext in (".json", ".jpg"):
            shutil.copy(DATASETS / "sroie" / "dev" / f"{stem}{ext}", root / f"{stem}{ext}")
    report = evaluate(root, settings)
    for doc in report["documents"]:
        assert doc["fields"]["vendor_name"] == "LIAN HING STATIONERY SDN BHD"
        assert doc["method"]["vendor_name"] == "vendor_master"
        assert doc["confidence"]["vendor_name"] < 0.88  # a learned row's mend: a person confirms
        assert doc["decision"] != "post"
        assert doc["master_before"]["vendor_name"] == {"correct": False}
    master = report["vendor_master"]
    assert master["fields_fixed"] >= 2 and master["fields_broken"] == 0
    assert "vendor master:" in format_report(report)
