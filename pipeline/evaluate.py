"""``docflow eval``: run the pipeline's own code over labelled documents and measure it.

Label files (``*.json`` in the schema of ``../shared/datasets/README.md``) are found recursively;
each names its document in ``files``. Documents go through ``pipeline.analyse.analyse_batch`` —
pages, classify, extract, validate, decide: exactly what ``docflow run`` does — and every
non-null label field is scored with ``pipeline.scoring``. The report (see the command-line
contract in docs/architecture.md) adds what a developer needs to improve the numbers: a
reliability table of confidence against observed accuracy, the worst errors, per-field thresholds
that would reach 99.5 % posted accuracy, and what the OCR cascade gained and cost.

``fit_calibration`` turns a report's per-field evidence into ``extractors/calibration.json``
(``python -m pipeline.evaluate PATH --fit``).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models import Outcome, to_label_value
from core.settings import Settings
from extractors.registry import CALIBRATED_EXTRACTORS, calibration_keys, field_origin
from pipeline.scoring import is_correct, label_view, scored_fields
from validators.policy import present

TARGET_POSTED_ACCURACY = 0.995
HIGH_CONFIDENCE = 0.95
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)
REQUIRED = {
    "invoice": ["vendor_name", "invoice_number", "invoice_date", "total_amount", "currency"],
    "receipt": ["vendor_name", "invoice_date", "total_amount"],
    "claim": [
        "patient_name",
        "patient_birth_date",
        "insured_id",
        "vendor_name",
        "billing_provider_npi",
        "diagnosis_codes",
        "service_lines",
        "total_amount",
    ],
}
"""Fallback when the client policy cannot be loaded (the default policy's required fields)."""


@dataclass(frozen=True)
class LabelledDoc:
    label_path: Path
    label: dict[str, Any]
    document: Path

    @property
    def key(self) -> str:
        return f"{self.label.get('dataset', '?')}/{self.label.get('id', self.document.stem)}"


def _json_files(root: Path) -> list[Path]:
    """``*.json`` under ``root``, following directory symlinks (each real directory once)."""
    seen: set[str] = set()
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        found.extend(Path(folder) / f for f in sorted(files) if f.endswith(".json"))
    return found


def find_labelled(path: Path) -> list[LabelledDoc]:
    """Label JSONs under ``path`` (or ``path`` itself) whose document file exists."""
    paths = [path] if path.is_file() else _json_files(path)
    found: list[LabelledDoc] = []
    for label_path in paths:
        try:
            label = json.loads(label_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(label, dict) or not isinstance(label.get("fields"), dict):
            continue
        files = label.get("files") or []
        if not files:
            continue
        document = label_path.parent / str(files[0])
        if document.is_file():
            found.append(LabelledDoc(label_path, label, document))
    return found


def _required_fields(settings: Settings, client: str) -> dict[str, list[str]]:
    try:
        from validators.policy import load_policy

        policy = load_policy(settings, client)
        return {
            str(k.value if hasattr(k, "value") else k): list(v) for k, v in policy.required_fields.items()
        }
    except Exception:  # the policy module is optional for eval; fall back to the defaults
        return REQUIRED


def _analyse(
    docs: list[LabelledDoc],
    settings: Settings,
    client: str,
    force_ocr: bool,
    progress: Callable[[str], None] | None,
    disabled: frozenset[str] = frozenset(),
) -> list[Any]:
    from pipeline.analyse import DocInput, analyse_batch

    inputs = [DocInput(document_id=d.key, source=d.document, filename=d.document.name) for d in docs]
    done = [0]

    def tick(analysis: Any) -> None:
        done[0] += 1
        if progress:
            progress(f"[{done[0]}/{len(docs)}] {analysis.document_id}")

    return analyse_batch(inputs, settings, client, force_ocr=force_ocr, progress=tick, disabled=disabled)


def embedded_data_extractors() -> frozenset[str]:
    """Extractors that answer from data embedded in the file, which a page image lacks."""
    from extractors.registry import all_extractors

    return frozenset(e.name for e in all_extractors() if getattr(e, "self_identifying", False))


def _rate(k: float, n: float) -> float | None:
    return round(k / n, 4) if n else None


def evaluate(
    path: Path,
    settings: Settings,
    *,
    force_ocr: bool = False,
    out: Path | None = None,
    progress: Callable[[str], None] | None = None,
    client: str = "default",
    cascade: bool = True,
    disabled: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Score the pipeline on every labelled document under ``path``; the report as a dict.

    ``cascade=False`` sets the OCR cascade's budget to 0 (to see what it gains and costs);
    ``disabled`` leaves extractors out (``{"facturx"}``: the layout reader on e-invoices too).
    ``force_ocr`` measures what a scan of each page would give: the page images alone, so the
    extractors that read data embedded in the file (e-invoice XML) are left out as well.
    """
    from extractors import cascade as cascade_module

    if force_ocr:
        disabled = disabled | embedded_data_extractors()

    docs = find_labelled(path)
    run_settings = settings if cascade else settings.model_copy(update={"cpu_budget_seconds": 0.0})
    cascade_module.BEFORE = {}
    started = time.perf_counter()
    try:
        analyses = _analyse(docs, run_settings, client, force_ocr, progress, disabled)
        before = dict(cascade_module.BEFORE)
    finally:
        cascade_module.BEFORE = None
    wall = time.perf_counter() - started
    required = _required_fields(settings, client)
    records = [
        _record(doc, analysis, required, before.get(str(doc.document)))
        for doc, analysis in zip(docs, analyses, strict=True)
    ]
    report = build_report(records, required)
    report["run"] = {
        "path": str(path),
        "force_ocr": force_ocr,
        "cascade": cascade,
        "disabled": sorted(disabled),
        "cpu_budget_seconds": run_settings.cpu_budget_seconds,
        "workers": settings.workers,
        "wall_seconds": round(wall, 2),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return report


def _label_form(name: str, field: Any) -> Any:
    """A field's value as the label would hold it (None when not found)."""
    return label_view(name, to_label_value(field.value)) if field is not None else None


def _record(
    doc: LabelledDoc, analysis: Any, required: dict[str, list[str]], before: dict[str, Any] | None
) -> dict[str, Any]:
    label = doc.label
    doc_type = str(label.get("doc_type", "invoice"))
    extraction = analysis.extraction
    fields_out: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    method: dict[str, str] = {}
    raw_conf: dict[str, float] = {}
    origin: dict[str, str] = {}
    for name in label["fields"]:
        field = extraction.fields.get(name) if extraction is not None else None
        fields_out[name] = _label_form(name, field)
        if field is not None:
            confidence[name] = round(field.confidence, 4)
            method[name] = field.method
            origin[name] = field_origin(field, analysis.pages)
            raw_conf[name] = round(float(extraction.stats.get(f"raw_conf.{name}", field.confidence)), 4)
    scored = scored_fields(doc_type, label["fields"])
    correct = {name: is_correct(name, label["fields"][name], fields_out.get(name)) for name in scored}
    # what the readers read, before the vendor master confirmed or mended any of it
    as_read = analysis.as_read or extraction
    read = {name: _label_form(name, as_read.fields.get(name) if as_read else None) for name in scored}
    master_before = {
        name: {"correct": is_correct(name, label["fields"][name], read[name])}
        for name in scored if read[name] != fields_out.get(name)
    }
    cascade_before: dict[str, Any] = {}
    if before is not None:
        for name in scored:
            value = _label_form(name, before.get(name))
            cascade_before[name] = {
                "correct": is_correct(name, label["fields"][name], value),
                "changed": value != read[name],
                "correct_after": is_correct(name, label["fields"][name], read[name]),
            }
    decision = analysis.decision.outcome.value if analysis.decision else Outcome.REVIEW.value
    decided = analysis.decision.findings if analysis.decision else []
    findings = [f.code for f in decided]
    unsure = sorted({f.field for f in decided if f.code == "low_confidence" and f.field})
    stats = extraction.stats if extraction is not None else {}
    return {
        "dataset": label.get("dataset", "?"),
        "id": label.get("id", doc.document.stem),
        "decision": decision,
        "fields": fields_out,
        "doc_type": doc_type,
        "predicted_doc_type": extraction.doc_type.value if extraction is not None else None,
        "confidence": confidence,
        "method": method,
        "raw_confidence": raw_conf,
        "origin": origin,
        "correct": correct,
        "expected": {name: label["fields"][name] for name in scored},
        "required": [f for f in required.get(doc_type, []) if f in correct],
        "findings": findings,
        "unsure_fields": unsure,
        "error": analysis.error.message if analysis.error is not None else None,
        "pages": len(analysis.pages),
        "seconds": {k: round(v, 4) for k, v in analysis.seconds.items()},
        "cascade_seconds": round(float(stats.get("cascade_seconds", 0.0)), 4),
        "cascade_before": cascade_before,
        "master_before": master_before,
        "extractor": extraction.engine.get("extractor") if extraction is not None else None,
    }


# ------------------------------------------------------------------------------- aggregation


def _field_table(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        for name, ok in r["correct"].items():
            counts[name][0] += int(ok)
            counts[name][1] += 1
    return {name: {"n": n, "correct": k, "accuracy": _rate(k, n)} for name, (k, n) in sorted(counts.items())}


def _posted(records: list[dict[str, Any]], *, all_fields: bool) -> tuple[int, int]:
    k = n = 0
    for r in records:
        if r["decision"] != "post":
            continue
        names = r["correct"] if all_fields else r["required"]
        for name in names:
            k += int(r["correct"][name])
            n += 1
    return k, n


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    posted = sum(1 for r in records if r["decision"] == "post")
    pk, pn = _posted(records, all_fields=False)
    ak, an = _posted(records, all_fields=True)
    return {  # posted accuracy as issue 3 defines it: every scored field of what was posted
        "documents": n,
        "stp_rate": _rate(posted, n),
        "posted_accuracy": _rate(ak, an),
        "posted_fields": an,
        "posted_accuracy_required": _rate(pk, pn),
        "posted_required_fields": pn,
    }


def held_back(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Why documents were not posted, which is where the straight-through rate goes: each
    finding code with the documents it held (``alone``: those it was the only reason for), a
    low confidence split by field, and how many held documents had every required field right
    (the ones a surer reading would have posted)."""
    held = [r for r in records if r["decision"] != "post"]
    reasons: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    unsure: Counter[str] = Counter()
    for r in held:
        codes = sorted(set(r["findings"])) or ["(no finding)"]
        reasons.update(codes)
        if len(codes) == 1:
            alone[codes[0]] += 1
        unsure.update(r.get("unsure_fields", []))
    right = sum(
        1 for r in held
        if r["decision"] == "review" and r["required"] and all(r["correct"].get(f) for f in r["required"])
    )
    return {
        "documents": len(held),
        "reviewed": sum(1 for r in held if r["decision"] == "review"),
        "rejected": sum(1 for r in held if r["decision"] == "reject"),
        "reviewed_with_required_fields_right": right,
        "reasons": {
            code: {"documents": n, "alone": alone.get(code, 0)} for code, n in reasons.most_common()
        },
        "unsure_fields": dict(unsure.most_common()),
    }


def reliability(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bins = [[0, 0, 0.0] for _ in range(len(BINS) - 1)]
    for r in records:
        for name, ok in r["correct"].items():
            conf = r["confidence"].get(name, 0.0)
            for i in range(len(BINS) - 1):
                if BINS[i] <= conf < BINS[i + 1]:
                    bins[i][0] += 1
                    bins[i][1] += int(ok)
                    bins[i][2] += conf
                    break
    return [
        {
            "bin": f"[{BINS[i]:.2f}, {min(BINS[i + 1], 1.0):.2f}" + ("]" if i == len(bins) - 1 else ")"),
            "n": n,
            "correct": k,
            "accuracy": _rate(k, n),
            "mean_confidence": round(c / n, 4) if n else None,
        }
        for i, (n, k, c) in enumerate(bins)
    ]


def high_confidence(records: list[dict[str, Any]], threshold: float = HIGH_CONFIDENCE) -> dict[str, Any]:
    k = n = 0
    for r in records:
        for name, ok in r["correct"].items():
            if r["confidence"].get(name, 0.0) >= threshold:
                n += 1
                k += int(ok)
    return {"threshold": threshold, "n": n, "correct": k, "accuracy": _rate(k, n)}


def worst_errors(records: list[dict[str, Any]], limit: int = 30) -> list[dict[str, Any]]:
    """Wrong fields, the surest first (a confident error is the costliest: it gets posted)."""
    errors = []
    for r in records:
        for name, ok in r["correct"].items():
            if ok:
                continue
            errors.append(
                {
                    "dataset": r["dataset"],
                    "id": r["id"],
                    "field": name,
                    "expected": _label_value(r, name),
                    "got": r["fields"].get(name),
                    "confidence": r["confidence"].get(name),
                    "method": r["method"].get(name),
                    "decision": r["decision"],
                }
            )
    errors.sort(key=lambda e: -(e["confidence"] or 0.0))
    return errors[:limit]


def _label_value(record: dict[str, Any], name: str) -> Any:
    return record.get("expected", {}).get(name)


def suggest_thresholds(
    records: list[dict[str, Any]], target: float = TARGET_POSTED_ACCURACY
) -> dict[str, Any]:
    """Per field, the lowest confidence threshold above which the field is right ≥ ``target``.

    Then what posting would look like with those thresholds (documents blocked by other
    findings stay blocked).
    """
    by_field: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r in records:
        for name, ok in r["correct"].items():
            by_field[name].append((r["confidence"].get(name, 0.0), ok))
    thresholds: dict[str, dict[str, Any]] = {}
    for name, pairs in sorted(by_field.items()):
        pairs.sort(key=lambda p: -p[0])
        best = None
        k = 0
        for i, (conf, ok) in enumerate(pairs, start=1):
            k += int(ok)
            if k / i >= target and (i == len(pairs) or pairs[i][0] < conf):
                best = (conf, i, k)
        if best is None:
            thresholds[name] = {"threshold": None, "coverage": 0.0, "n": len(pairs)}
        else:
            thresholds[name] = {
                "threshold": round(best[0], 4),
                "coverage": _rate(best[1], len(pairs)),
                "accuracy_above": _rate(best[2], best[1]),
                "n": len(pairs),
            }
    def threshold_for(name: str, required: bool) -> float | None:
        if name not in thresholds:  # not scored: no evidence either way
            return math.inf if required else None
        threshold = thresholds[name].get("threshold")
        return math.inf if threshold is None else threshold  # none reaches it: never posted

    simulated = [{**r, "decision": "post" if _would_post(r, threshold_for) else "review"} for r in records]
    summary = _summary(simulated)
    return {
        "target": target,
        "fields": thresholds,
        "simulated": {"stp_rate": summary["stp_rate"], "posted_accuracy": summary["posted_accuracy"]},
    }


Threshold = Callable[[str, bool], float | None]
"""A field's threshold by its name and whether it is required; None: not checked (a required
field without one is never posted)."""


def _would_post(record: dict[str, Any], threshold_for: Threshold) -> bool:
    """Whether a document posts with its confidences as recorded and these thresholds: nothing
    but low confidence blocked it, every required field clears its threshold, and so does every
    other field it delivers that has one."""
    blockers = [f for f in record["findings"] if f not in ("low_confidence", "missing_field")]
    if record["decision"] == "reject" or blockers:
        return False
    for name in record["required"]:
        threshold = threshold_for(name, True)
        if threshold is None or record["confidence"].get(name, 0.0) < threshold:
            return False
    for name, confidence in record["confidence"].items():
        if name in record["required"] or not present(record.get("fields", {}).get(name)):
            continue
        threshold = threshold_for(name, False)
        if threshold is not None and confidence < threshold:
            return False
    return True


def cascade_effect(records: list[dict[str, Any]]) -> dict[str, Any]:
    touched = [r for r in records if r["cascade_before"]]
    changed = gained = lost = 0
    for r in touched:
        for before in r["cascade_before"].values():
            if before["changed"]:
                changed += 1
                gained += int(before["correct_after"] and not before["correct"])
                lost += int(before["correct"] and not before["correct_after"])
    seconds = sum(r["cascade_seconds"] for r in records)
    pages = sum(r["pages"] for r in records) or 1
    return {
        "documents_cascaded": len(touched),
        "fields_changed": changed,
        "fields_fixed": gained,
        "fields_broken": lost,
        "net_fields_gained": gained - lost,
        "cascade_seconds": round(seconds, 2),
        "cascade_seconds_per_page": round(seconds / pages, 4),
    }


def master_effect(records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the vendor master changed in what was read (a name or address taken as one on
    file), and whether that made it right or wrong."""
    changed = gained = lost = 0
    for r in records:
        for name, before in r["master_before"].items():
            changed += 1
            gained += int(r["correct"][name] and not before["correct"])
            lost += int(before["correct"] and not r["correct"][name])
    return {"fields_changed": changed, "fields_fixed": gained, "fields_broken": lost}


def build_report(
    records: list[dict[str, Any]], required: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    datasets: dict[str, Any] = {}
    for name in sorted({r["dataset"] for r in records}):
        subset = [r for r in records if r["dataset"] == name]
        datasets[name] = {**_summary(subset), "fields": _field_table(subset)}
    total_k = sum(int(ok) for r in records for ok in r["correct"].values())
    total_n = sum(len(r["correct"]) for r in records)
    pages = sum(r["pages"] for r in records) or 1
    ocr = sum(r["seconds"].get("ocr", 0.0) for r in records)
    other = sum(r["seconds"].get("other", 0.0) for r in records)
    overall = {**_summary(records), "field_accuracy": _rate(total_k, total_n)}
    return {
        "datasets": datasets,
        "overall": overall,
        "seconds_per_page": {"ocr": round(ocr / pages, 4), "other": round(other / pages, 4)},
        "documents": records,
        "reliability": reliability(records),
        "high_confidence": high_confidence(records),
        "worst_errors": worst_errors(records),
        "suggested_thresholds": suggest_thresholds(records),
        "cascade": cascade_effect(records),
        "vendor_master": master_effect(records),
        "held_back": held_back(records),
        "pages": pages,
    }


# ---------------------------------------------------------------------------------- display


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def format_report(report: dict[str, Any]) -> str:
    """The report as a terminal table."""
    lines: list[str] = []
    run = report.get("run", {})
    if run:
        lines.append(
            f"eval {run.get('path')}  force_ocr={run.get('force_ocr')}  "
            f"cascade={run.get('cascade')}  wall {run.get('wall_seconds')} s"
            + (f"  without {', '.join(run['disabled'])}" if run.get("disabled") else "")
        )
    for name, ds in report["datasets"].items():
        lines.append("")
        lines.append(
            f"{name}: {ds['documents']} documents  STP {_pct(ds['stp_rate'])}  "
            f"posted accuracy {_pct(ds['posted_accuracy'])} "
            f"(required fields {_pct(ds.get('posted_accuracy_required'))})"
        )
        lines.append(f"  {'field':<24}{'n':>5}{'correct':>9}{'accuracy':>10}")
        for field, row in ds["fields"].items():
            lines.append(f"  {field:<24}{row['n']:>5}{row['correct']:>9}{_pct(row['accuracy']):>10}")
    o = report["overall"]
    lines.append("")
    lines.append(
        f"overall: {o['documents']} documents  STP {_pct(o['stp_rate'])}  posted accuracy "
        f"{_pct(o['posted_accuracy'])} (required fields {_pct(o.get('posted_accuracy_required'))})"
        f"  field accuracy {_pct(o['field_accuracy'])}"
    )
    sp = report["seconds_per_page"]
    lines.append(f"seconds per page: ocr {sp['ocr']:.3f}  other {sp['other']:.3f}")
    hc = report["high_confidence"]
    lines.append(
        f"fields with confidence >= {hc['threshold']}: {hc['correct']}/{hc['n']} correct "
        f"({_pct(hc['accuracy'])})"
    )
    lines.append("")
    lines.append("reliability (confidence bin: n, accuracy, mean confidence)")
    for b in report["reliability"]:
        if b["n"]:
            lines.append(f"  {b['bin']:<14}{b['n']:>5}  {_pct(b['accuracy'])}  {b['mean_confidence']:.3f}")
    c = report["cascade"]
    lines.append("")
    lines.append(
        f"cascade: {c['documents_cascaded']} documents, {c['fields_changed']} fields changed, "
        f"{c['fields_fixed']} fixed, {c['fields_broken']} broken, "
        f"{c['cascade_seconds']} s ({c['cascade_seconds_per_page']} s/page)"
    )
    m = report.get("vendor_master")
    if m and m["fields_changed"]:
        lines.append(
            f"vendor master: {m['fields_changed']} fields changed, {m['fields_fixed']} fixed, "
            f"{m['fields_broken']} broken"
        )
    hb = report.get("held_back")
    if hb and hb["documents"]:
        lines.append("")
        lines.append(
            f"not posted: {hb['documents']} documents ({hb['reviewed']} to review, "
            f"{hb['rejected']} rejected; {hb['reviewed_with_required_fields_right']} reviewed with "
            "every required field right)"
        )
        for code, row in hb["reasons"].items():
            lines.append(f"  {code:<40}{row['documents']:>5}  (the only reason for {row['alone']})")
        if hb["unsure_fields"]:
            unsure = ", ".join(f"{name} {n}" for name, n in hb["unsure_fields"].items())
            lines.append(f"  low confidence in: {unsure}")
    st = report["suggested_thresholds"]
    lines.append("")
    lines.append(
        f"suggested thresholds for {100 * st['target']:.1f}% (simulated STP "
        f"{_pct(st['simulated']['stp_rate'])}, posted accuracy "
        f"{_pct(st['simulated']['posted_accuracy'])})"
    )
    for field, row in st["fields"].items():
        t = "none reaches it" if row["threshold"] is None else f"{row['threshold']:.3f}"
        lines.append(f"  {field:<24}{t:>16}  coverage {_pct(row['coverage'])}")
    lines.append("")
    lines.append("worst errors (surest first)")
    for e in report["worst_errors"][:15]:
        conf = "-" if e["confidence"] is None else f"{e['confidence']:.2f}"
        lines.append(
            f"  {conf:>5} {e['dataset']}/{e['id'][:28]:<28} {e['field']:<15} "
            f"expected {str(e['expected'])[:34]!r:<36} got {str(e['got'])[:34]!r}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------- calibration

MIN_GROUP = 30
CAL_EDGES = (0.0, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9)
Z = 1.28


def _wilson_lower(k: int, n: int, z: float = Z) -> float:
    if n == 0:
        return 0.0
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / denom)


def _steps(pairs: list[tuple[float, bool]]) -> list[list[float]]:
    """Monotone step function raw → calibrated: coarse bins, pooled (PAV), Wilson lower bound."""
    bins: list[list[float]] = []  # [lower edge, k, n]
    for i, lo in enumerate(CAL_EDGES):
        hi = CAL_EDGES[i + 1] if i + 1 < len(CAL_EDGES) else 1.01
        sel = [ok for raw, ok in pairs if lo <= raw < hi]
        if sel:
            bins.append([lo, sum(sel), len(sel)])
    merged: list[list[float]] = []
    for b in bins:  # pool adjacent bins until accuracy never decreases with raw confidence
        merged.append(list(b))
        while len(merged) > 1 and merged[-2][1] / merged[-2][2] >= merged[-1][1] / merged[-1][2]:
            last = merged.pop()
            merged[-1][1] += last[1]
            merged[-1][2] += last[2]
    # Each step starts at the lowest raw confidence it has evidence for: a group whose fields all
    # came in at 0.6 or more says nothing about a field at 0.3 (``calibrated`` then asks a
    # broader group).
    steps = [[lo, round(_wilson_lower(int(k), int(n)), 4)] for lo, k, n in merged]
    for i in range(1, len(steps)):
        steps[i][1] = max(steps[i][1], steps[i - 1][1])
    return steps


def fit_calibration(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The calibration table from evaluation reports (raw confidence, method, correct)."""
    groups: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    seen: set[tuple[str, str, str, tuple[bool, tuple[str, ...]]]] = set()
    for report in reports:
        run = report.get("run", {})
        mode = (bool(run.get("force_ocr")), tuple(run.get("disabled", ())))
        for r in report["documents"]:
            key = (r.get("dataset", ""), r.get("id", ""), r.get("extractor") or "", mode)
            if key in seen:  # the same document read the same way counts once
                continue
            if r.get("extractor") and r["extractor"] not in CALIBRATED_EXTRACTORS:
                continue  # extractors that calibrate their own confidences
            seen.add(key)
            for name, ok in r["correct"].items():
                if name not in r["method"]:
                    continue
                raw = r["raw_confidence"].get(name, r["confidence"].get(name, 0.0))
                method = r["method"][name]
                origin = r.get("origin", {}).get(name)
                for group in calibration_keys(name, method, origin, r.get("extractor")):
                    groups[group].append((raw, ok))
    table = {
        key: _steps(pairs)
        for key, pairs in sorted(groups.items())
        if len(pairs) >= MIN_GROUP or key.startswith("*|*")  # the pooled last resort: always
    }
    counts = {key: len(pairs) for key, pairs in sorted(groups.items())}
    return {
        "about": "raw confidence -> calibrated (Wilson lower bound, z=1.28) per "
        "extractor:field|method@origin (origin: text, ocr, xml), pooled to *|method and *|* "
        "when a group is small, then the same across extractors; "
        "fitted by pipeline.evaluate.fit_calibration on the dev sets",
        "edges": list(CAL_EDGES),
        "min_group": MIN_GROUP,
        "counts": counts,
        "table": table,
    }


def cross_validate(
    reports: list[dict[str, Any]],
    folds: int = 5,
    threshold_for: Threshold = lambda name, required: 0.88 if required else None,
) -> dict[str, Any]:
    """How a calibration fitted on ``reports`` does on documents it has not seen.

    Documents are dealt into ``folds`` by name (a document read as text and by OCR lands in one
    fold both times, so neither reading informs the other); each fold's confidences come from a
    table fitted on the other folds, and its decisions are simulated from them (``_would_post``
    with ``threshold_for``). Only the extractors the table calibrates take part.
    """
    from core.models import Field
    from extractors.registry import calibrated

    names = sorted({(r["dataset"], r["id"]) for rep in reports for r in rep["documents"]})
    fold_of = {name: i % folds for i, name in enumerate(names)}
    unseen: list[dict[str, Any]] = []  # each document as the table fitted without it scores it
    for fold in range(folds):
        train = [
            {**rep, "documents": [r for r in rep["documents"] if fold_of[(r["dataset"], r["id"])] != fold]}
            for rep in reports
        ]
        table = fit_calibration(train)["table"]
        for rep in reports:
            mode = "ocr" if rep.get("run", {}).get("force_ocr") else "as is"
            for r in rep["documents"]:
                if fold_of[(r["dataset"], r["id"])] != fold:
                    continue
                if r.get("extractor") not in CALIBRATED_EXTRACTORS:
                    continue
                confidence = {
                    name: calibrated(
                        Field(name=name, value=None, method=method,
                              confidence=r["raw_confidence"].get(name, r["confidence"].get(name, 0.0))),
                        table, origin=r.get("origin", {}).get(name), extractor=r["extractor"],
                    )
                    for name, method in r["method"].items()
                }
                record = {**r, "confidence": confidence, "set": f"{r['dataset']} ({mode})"}
                record["decision"] = "post" if _would_post(record, threshold_for) else "review"
                unseen.append(record)
    summary = _summary(unseen)
    per_set: dict[str, dict[str, int]] = defaultdict(lambda: {"documents": 0, "posted": 0})
    for r in unseen:
        per_set[r["set"]]["documents"] += 1
        per_set[r["set"]]["posted"] += int(r["decision"] == "post")
    return {
        "folds": folds,
        "documents": summary["documents"],
        "posted": sum(v["posted"] for v in per_set.values()),
        "stp_rate": summary["stp_rate"],
        "posted_accuracy": summary["posted_accuracy"],
        "high_confidence": high_confidence(unseen),
        "per_set": dict(sorted(per_set.items())),
    }


def format_cross_validation(cv: dict[str, Any]) -> str:
    hc = cv["high_confidence"]
    lines = [
        f"cross-validated calibration ({cv['folds']} folds, {cv['documents']} documents read by "
        f"calibrated extractors): STP {_pct(cv['stp_rate'])}, posted accuracy "
        f"{_pct(cv['posted_accuracy'])}, confidence >= {HIGH_CONFIDENCE}: "
        f"{hc['correct']}/{hc['n']} correct ({_pct(hc['accuracy'])})",
    ]
    for name, v in cv["per_set"].items():
        lines.append(f"  {name:<34} posted {v['posted']:>3} of {v['documents']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.evaluate PATH [--force-ocr] [--no-cascade] [--out F]`` or
    ``python -m pipeline.evaluate --fit REPORT... [--folds K]``."""
    import argparse

    from core.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m pipeline.evaluate")
    parser.add_argument("path", type=Path, nargs="?")
    parser.add_argument("--force-ocr", action="store_true")
    parser.add_argument("--no-cascade", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--without", action="append", default=[], help="leave an extractor out (e.g. facturx)"
    )
    parser.add_argument("--fit", type=Path, nargs="*", help="report JSONs to fit the calibration on")
    parser.add_argument(
        "--folds", type=int, default=5,
        help="with --fit: first show how the fit does on documents left out of it (0: skip)",
    )
    args = parser.parse_args(argv)
    if args.fit:
        from extractors.registry import CALIBRATION_FILE
        from validators.policy import load_policy

        reports = [json.loads(p.read_text()) for p in args.fit]
        if args.folds > 1:
            thresholds = load_policy(load_settings(), "default").thresholds
            def threshold_for(name: str, required: bool) -> float | None:
                threshold = thresholds.for_field(name, required=required)
                return None if threshold is None else float(threshold)

            cv = cross_validate(reports, args.folds, threshold_for)
            print(format_cross_validation(cv))
        CALIBRATION_FILE.write_text(json.dumps(fit_calibration(reports), indent=1) + "\n")
        print(f"wrote {CALIBRATION_FILE}")
        return 0
    if args.path is None:
        parser.error("PATH is required")
    settings = load_settings()
    report = evaluate(
        args.path,
        settings,
        force_ocr=args.force_ocr,
        out=args.out,
        cascade=not args.no_cascade,
        disabled=frozenset(args.without),
        progress=lambda msg: print(msg, flush=True),
    )
    print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
