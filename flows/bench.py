"""``docflow bench``: speed measured against the physical limit and a peer, in one run.

- scanned pages: the pipeline's pages/second on all cores vs the raw ``tesseract`` CLI
  (single-threaded, one process per core) on the very same page images;
- born-digital PDFs: documents/second end to end (intake → posted, through the Prefect flow)
  vs invoice2data on the same PDFs with the same number of processes;
- latency of one born-digital invoice from the watched folder to posted;
- peak RSS of a worker taking a long scanned PDF (pages stream; memory must stay flat);
- validation cost per document in batches of 1, 100 and 1,000;
- the review queue under load: 10,000 queued documents, 20 reviewers listing, claiming and
  resolving through the JSON API of a real server at once (list latency, double claims).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.processes import run_measured
from core.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from invoice2data.extract.invoice_template import InvoiceTemplate

Say = Callable[[str], None]
_TEMPLATES: list[InvoiceTemplate] | None = None
"""invoice2data's templates, read once per worker process."""


def _pdf_corpus() -> list[Path]:
    """Born-digital invoices: the shared dev sets when present, else the shipped samples."""
    shared = PROJECT_ROOT.parent / "shared" / "datasets"
    pdfs = sorted(shared.glob("invoice2data/dev/*.pdf")) + sorted(shared.glob("zugferd/dev/*.pdf"))
    if not pdfs:
        pdfs = sorted((PROJECT_ROOT / "samples" / "invoices").glob("*.pdf"))
    return pdfs


def _render_scans(pdfs: list[Path], pages: int, out: Path, dpi: int) -> list[Path]:
    import cv2

    from extractors.pages import PDFIUM_LOCK, open_pdf, render_pdf_page

    out.mkdir(parents=True, exist_ok=True)
    images: list[Path] = []
    while len(images) < pages:
        for pdf_path in pdfs:
            pdf = open_pdf(pdf_path.read_bytes())
            try:
                for index in range(len(pdf)):
                    path = out / f"scan-{len(images):04d}.png"
                    cv2.imwrite(str(path), render_pdf_page(pdf, index, dpi))
                    images.append(path)
                    if len(images) >= pages:
                        return images
            finally:
                with PDFIUM_LOCK:
                    pdf.close()
    return images


def _tesseract_cli(image: Path) -> None:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    subprocess.run(
        ["tesseract", str(image), "stdout", "--oem", "1", "--psm", "3", "tsv"],
        check=True,
        capture_output=True,
        env=env,
    )


REPEATS = 2
"""Runs of the tesseract limit and of the pipeline (without the cascade) per bench; the best
of each is reported."""


def bench_scanned(settings: Settings, pages: int, work: Path, say: Say) -> dict[str, Any]:
    from pipeline.analyse import DocInput, analyse_batch

    images = _render_scans(_pdf_corpus(), pages, work / "scans", settings.ocr_dpi)
    say(
        f"scanned: {len(images)} page images at {settings.ocr_dpi} dpi; "
        f"raw tesseract on {settings.workers} core(s)…"
    )
    _tesseract_cli(images[0])  # warm-up: the model files into the page cache

    def limit() -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=settings.workers) as pool:
            list(pool.map(_tesseract_cli, images))
        return len(images) / (time.perf_counter() - started)

    # The best of REPEATS runs each, the limit's and the pipeline's, taken in turn: one run of
    # a dozen pages lasts seconds, and the same CLI run measured 1.38 to 1.84 pages/s from one
    # bench to the next on an idle machine.
    raws = [limit()]
    say(f"  tesseract CLI: {raws[0]:.2f} pages/s; now the pipeline…")
    docs = [DocInput(f"scan{i}", p, p.name) for i, p in enumerate(images)]
    # Warm up as a long-running worker is: imports (Great Expectations alone takes seconds),
    # Tesseract's model in the page cache, the validation suites loaded.
    analyse_batch(docs[:1], settings, "default")

    def pages_per_s(run_settings: Settings) -> tuple[float, int]:
        """Pages/s, and how many pages were read a second time in their own language."""
        started = time.perf_counter()
        analyses = analyse_batch(docs, run_settings, "default")
        rate = len(images) / (time.perf_counter() - started)
        again = sum(1 for a in analyses for p in a.pages
                    if p.ocr_lang not in (None, run_settings.ocr_lang))
        return rate, again

    # No cascade: load, deskew, Tesseract, fields, validation — one reading per page, plus a
    # second one in the page's language where the first shows German, French, Dutch…
    no_cascade = settings.model_copy(update={"cpu_budget_seconds": 0.0})
    ours, second = pages_per_s(no_cascade)
    for _ in range(REPEATS - 1):
        raws.append(limit())
        ours = max(ours, pages_per_s(no_cascade)[0])
    raw = max(raws)
    say(f"  tesseract CLI, best of {len(raws)}: {raw:.2f} pages/s ({', '.join(f'{r:.2f}' for r in raws)})")
    say(
        f"  pipeline: {ours:.2f} pages/s ({ours / raw:.0%} of the limit; {second} of "
        f"{len(images)} pages read a second time in their own language)"
    )
    english = ours
    if second:
        english, _ = pages_per_s(no_cascade.model_copy(update={"ocr_auto_langs": []}))
        say(
            f"  pipeline, English reading only (DOCFLOW_OCR_AUTO_LANGS empty): {english:.2f} "
            f"pages/s ({english / raw:.0%} of the limit)"
        )
    # As configured: weak required fields re-read by the cascade within its CPU budget.
    cascade = pages_per_s(settings)[0] if settings.cpu_budget_seconds > 0 else ours
    say(
        f"  pipeline with the re-OCR cascade ({settings.cpu_budget_seconds:g} s budget per "
        f"document): {cascade:.2f} pages/s"
    )
    return {
        "pages": len(images),
        "pipeline_pages_per_s": round(ours, 3),
        "pages_read_again_in_their_language": second,
        "pipeline_english_only_pages_per_s": round(english, 3),
        "tesseract_pages_per_s": round(raw, 3),
        "tesseract_runs_pages_per_s": [round(r, 3) for r in raws],
        "ratio": round(ours / raw, 3),
        "pipeline_with_cascade_pages_per_s": round(cascade, 3),
        "cascade_budget_s": settings.cpu_budget_seconds,
    }


def _unique_copies(pdfs: list[Path], count: int, inbox: Path, tag: str = "bench") -> list[Path]:
    """``count`` distinct files (bytes differ after %%EOF, which PDF readers ignore)."""
    inbox.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        src = pdfs[i % len(pdfs)]
        dest = inbox / f"{i:05d}-{src.name}"
        dest.write_bytes(src.read_bytes() + f"\n%{tag}-{i}\n".encode())
        out.append(dest)
    return out


def _invoice2data_one(path: str) -> bool:
    import logging

    logging.disable(logging.CRITICAL)
    from invoice2data import extract_data
    from invoice2data.extract.loader import read_templates

    global _TEMPLATES
    if _TEMPLATES is None:
        _TEMPLATES = read_templates()
    return bool(extract_data(path, templates=_TEMPLATES))


def _run_flow(source: Path, settings: Settings) -> Any:
    from flows.run import run_in_process

    return run_in_process(str(source), "default", settings)


def _children_cpu_seconds() -> float | None:
    """CPU seconds used so far by this process's live child processes (Prefect's temporary
    server), read from ``/proc``; None where there is no ``/proc``."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    me, ticks, total = os.getpid(), os.sysconf("SC_CLK_TCK"), 0.0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == me:  # ppid; utime and stime are fields 14 and 15 of the line
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _cpu_ms_per_doc(before: tuple[os.times_result, float | None], documents: int) -> dict[str, float | None]:
    """CPU per document since ``before``: this process (the flow: intake, validation,
    finalize, Prefect's client), the read workers (children that have ended) and Prefect's
    temporary server (a child still running)."""
    start, server_start = before
    end, server_end = os.times(), _children_cpu_seconds()

    def per_doc(seconds: float) -> float:
        return round(seconds * 1000 / max(documents, 1), 1)

    return {
        "flow_process": per_doc(end.user + end.system - start.user - start.system),
        "read_workers": per_doc(
            end.children_user + end.children_system - start.children_user - start.children_system
        ),
        "prefect_server": (
            per_doc(server_end - server_start)
            if server_start is not None and server_end is not None
            else None
        ),
    }


def bench_born_digital(settings: Settings, count: int, work: Path, say: Say) -> tuple[dict[str, Any], float]:
    from core.db import init_db

    pdfs = [p for p in _pdf_corpus() if p.suffix == ".pdf"]
    bench_settings = settings.model_copy(update={"home": work / "home", "stable_seconds": 0.0})
    say("born-digital: starting Prefect and warming up on one document…")
    warm = work / "warm-inbox"
    warm.mkdir(parents=True, exist_ok=True)
    (warm / "warm.pdf").write_bytes(pdfs[-1].read_bytes() + b"\n%warm-up\n")
    _run_flow(warm, bench_settings)  # imports, the validation suites, Prefect's server
    files = _unique_copies(pdfs, count, work / "inbox")
    say(f"  {len(files)} PDFs through the flow (intake → posted)…")
    cpu_before = (os.times(), _children_cpu_seconds())
    started = time.perf_counter()
    summary = _run_flow(work / "inbox", bench_settings)
    seconds = time.perf_counter() - started
    cpu = _cpu_ms_per_doc(cpu_before, len(files))
    ours = len(summary.results) / seconds
    say(
        f"  docflow: {ours:.1f} docs/s ({len(summary.by_outcome('post'))} posted, "
        f"{len(summary.by_outcome('review'))} to review)"
    )
    say(
        f"  CPU per document: {cpu['flow_process']} ms in the flow's process, "
        f"{cpu['read_workers']} ms in the read workers, {cpu['prefect_server']} ms in Prefect's server"
    )
    peer: float | None = None
    try:
        import invoice2data  # noqa: F401

        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=settings.workers) as pool:
            list(pool.map(_invoice2data_one, [str(f) for f in files], chunksize=8))
        peer = len(files) / (time.perf_counter() - started)
        say(f"  invoice2data: {peer:.1f} docs/s")
    except ImportError:
        say("  invoice2data not installed (pip install invoice2data): peer figure skipped")
    # Latency: one new invoice dropped into a watched folder, then one poll. It goes to a home of
    # its own, so that it is not a duplicate of the throughput run's copies (those go to review).
    latency_settings = bench_settings.model_copy(update={"home": work / "latency-home"})
    init_db(latency_settings.db_url)  # the database a watcher would have found ready
    latency_inbox = work / "latency-inbox"
    _unique_copies(pdfs[:1], 1, latency_inbox, tag="latency")
    started = time.perf_counter()
    polled = _run_flow(latency_inbox, latency_settings)
    latency = time.perf_counter() - started
    outcome = ", ".join(r.outcome for r in polled.results) or "nothing taken in"
    say(f"  latency (dropped → {outcome}, one poll): {latency:.2f} s")
    return (
        {
            "documents": len(files),
            "docs_per_s": round(ours, 2),
            "invoice2data_docs_per_s": round(peer, 2) if peer is not None else None,
            "posted": len(summary.by_outcome("post")),
            "latency_outcome": outcome,
            "cpu_ms_per_doc": cpu,
        },
        latency,
    )


def _long_scan(pages: int, out: Path, dpi: int) -> Path:
    """An image-only PDF of ``pages`` scanned pages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    image = _render_scans(_pdf_corpus()[:1], 1, out / "one", dpi)[0]
    path = out / f"scan-{pages}-pages.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for _ in range(pages):
        pdf.drawImage(str(image), 0, 0, width=A4[0], height=A4[1])
        pdf.showPage()
    pdf.save()
    return path


def bench_memory(settings: Settings, pages: int, work: Path, say: Say) -> float:
    inbox = work / "memory-inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    path = _long_scan(pages, inbox, settings.ocr_dpi)
    say(f"memory: a worker process takes a {pages}-page scanned PDF ({path.stat().st_size / 1e6:.1f} MB)…")
    env = {
        **os.environ,
        "DOCFLOW_HOME": str(work / "memory-home"),
        "DOCFLOW_STABLE_SECONDS": "0",
        "DOCFLOW_MAX_PAGES": str(max(pages, settings.max_pages)),
    }
    env.pop("DOCFLOW_DATABASE_URL", None)
    started = time.perf_counter()
    peak_mb = peak_rss_mb([str(Path(sys.executable).parent / "docflow"), "run", str(inbox), "--json"], env)
    say(f"  peak RSS {peak_mb:.0f} MB ({time.perf_counter() - started:.0f} s)")
    return peak_mb


OWN_PEAK = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""
"""A small launcher that forks the measured program and writes its peak RSS (KiB). Linux keeps
a process's peak across ``exec``, and a child forked from this bench starts with the bench's
own resident pages, so the bench's size (650 MB once it has run the other parts) would stand
in for a smaller worker's. Forked from this launcher instead, the worker starts from the
launcher's ~10 MB."""


def peak_rss_mb(args: list[str], env: dict[str, str] | None = None) -> float:
    """Run ``args`` to its end and return the peak resident memory (MB) of the largest process
    of its tree (the worker itself: its Tesseracts and Prefect's temporary server are smaller).

    That child's own usage, taken with ``os.wait4`` by :data:`OWN_PEAK`: neither the
    process-wide count of children this bench has waited for (it holds the earlier parts'
    processes, whichever was largest) nor a child forked from the bench itself will do.
    """
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        done = run_measured([sys.executable, "-S", "-c", OWN_PEAK, str(peak_file), *args],
                            env=env, merge_errors=True)
        if done.returncode:
            raise subprocess.CalledProcessError(done.returncode, args, done.output)
        if not peak_file.exists():
            raise RuntimeError(f"the launcher reported no memory figure: {done.output[-500:]!r}")
        return int(peak_file.read_text()) / 1024


def bench_validation(settings: Settings, say: Say) -> dict[str, Any]:
    import datetime as dt
    from decimal import Decimal

    import validators
    from core.models import DocType, Extraction, Field

    def invoice(i: int) -> Extraction:
        def f(name: str, value: Any) -> Field:
            return Field(name=name, value=value, confidence=0.99)

        net = Decimal(100 + i % 50)
        return Extraction(
            doc_type=DocType.INVOICE,
            fields={
                "vendor_name": f("vendor_name", f"Vendor {i % 40}"),
                "invoice_number": f("invoice_number", f"INV-{i:06d}"),
                "invoice_date": f("invoice_date", dt.date(2026, 1, 1) + dt.timedelta(days=i % 300)),
                "currency": f("currency", "EUR"),
                "subtotal": f("subtotal", net),
                "tax_amount": f("tax_amount", net * Decimal("0.2")),
                "total_amount": f("total_amount", net * Decimal("1.2")),
            },
        )

    ctx = validators.load_context(settings, "default", dt.date(2026, 11, 1), None)
    validators.validate_batch([validators.ValidationItem("warm", "default", invoice(0))], ctx)
    out: dict[str, Any] = {}
    for size in (1, 100, 1000):
        items = [validators.ValidationItem(f"d{i}", "default", invoice(i)) for i in range(size)]
        started = time.perf_counter()
        validators.validate_batch(items, ctx)
        per_doc = (time.perf_counter() - started) / size
        out[str(size)] = {"ms_per_document": round(per_doc * 1000, 3)}
        say(f"validation: batch of {size}: {per_doc * 1000:.2f} ms per document")
    return out


def _seed_queue(db_url: str, items: int, reviewers: int, password: str) -> None:
    """``items`` open review items of client ``load`` and ``reviewers`` users assigned to it."""
    from sqlalchemy import insert

    from core.db import DocumentRow, QueueItemRow, init_db, session_scope, utcnow
    from exceptions_queue.users import add_user

    engine = init_db(db_url)
    now = utcnow()
    reason = {
        "code": "low_confidence",
        "field": "total_amount",
        "severity": "error",
        "message": "Total amount was read with confidence 0.50",
    }
    with session_scope(engine) as session:
        for start in range(0, items, 2000):
            ids = [f"{i:064x}" for i in range(start, min(items, start + 2000))]
            session.execute(
                insert(DocumentRow),
                [
                    {
                        "id": d,
                        "client": "load",
                        "source_uri": f"s3://bench/load/inbox/{d[-6:]}.pdf",
                        "inbox": "s3://bench/load/inbox",
                        "filename": f"{d[-6:]}.pdf",
                        "size": 1000,
                        "status": "review",
                        "doc_type": "invoice",
                        "received_at": now,
                        "updated_at": now,
                        "page_count": 1,
                        "attempts": 1,
                    }
                    for d in ids
                ],
            )
            session.execute(
                insert(QueueItemRow),
                [
                    {
                        "document_id": d,
                        "client": "load",
                        "doc_type": "invoice",
                        "queue": "review",
                        "state": "open",
                        "created_at": now,
                        "reasons": [reason],
                        "due_at": now,
                        "handle_seconds": 0.0,
                    }
                    for d in ids
                ],
            )
        for n in range(reviewers):
            add_user(session, f"rev{n}", "reviewer", ["load"], password)


@contextlib.contextmanager
def _review_server(settings: Settings) -> Iterator[str]:
    """The review app on a free loopback port, in a thread of this process."""
    import socket
    import threading

    import uvicorn

    from exceptions_queue.web import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else 0.0


def bench_queue(
    settings: Settings,
    db_url: str,
    *,
    items: int = 10_000,
    reviewers: int = 20,
    claims_each: int = 15,
    say: Say = print,
) -> dict[str, Any]:
    """Reviewers list (100 rows), claim the next item and resolve it, all at once, over HTTP.

    ``db_url`` must name an empty database: it is filled with ``items`` synthetic queue items.
    """
    import threading

    import httpx
    from sqlalchemy import func, select

    from core.db import AuditRow, QueueItemRow, get_engine, session_scope

    password = "bench-password-not-secret"
    say(f"queue: {items} queued documents, {reviewers} reviewers through the API…")
    _seed_queue(db_url, items, reviewers, password)
    list_s: list[float] = []
    claim_s: list[float] = []
    claimed: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(reviewers)

    def reviewer(n: int, base: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            login = http.post("/api/login", json={"username": f"rev{n}", "password": password})
            if login.status_code != 200:
                errors.append(f"rev{n}: login {login.status_code}")
                barrier.abort()
                return
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            barrier.wait()
            for _ in range(claims_each):
                began = time.perf_counter()
                listing = http.get("/api/queue", params={"limit": 100})
                listed = time.perf_counter()
                got = http.post("/api/queue/claim-next", headers=headers)
                took = time.perf_counter()
                document_id = got.json().get("document_id") if got.status_code == 200 else None
                with lock:
                    list_s.append(listed - began)
                    claim_s.append(took - listed)
                    if listing.status_code != 200 or document_id is None:
                        errors.append(f"rev{n}: list {listing.status_code}, claim {got.status_code}")
                        return
                    claimed.append(document_id)
                done = http.post(
                    f"/api/items/{document_id}/reject", headers=headers, json={"reason": "load test"}
                )
                if done.status_code != 200:
                    errors.append(f"rev{n}: reject {done.status_code} {done.text[:200]}")
                    return

    run_settings = settings.model_copy(update={"database_url": db_url})
    started = time.perf_counter()
    with _review_server(run_settings) as base:
        threads = [threading.Thread(target=reviewer, args=(n, base)) for n in range(reviewers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    seconds = time.perf_counter() - started
    with session_scope(get_engine(db_url)) as session:
        resolved = session.scalar(
            select(func.count()).select_from(QueueItemRow).where(QueueItemRow.state == "done")
        )
        claims = session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "claim"))
    result = {
        "items": items,
        "reviewers": reviewers,
        "claims": len(claimed),
        "double_claims": len(claimed) - len(set(claimed)),
        "resolved": resolved,
        "claims_audited": claims,
        "errors": errors[:5],
        "list_p50_ms": round(_percentile(list_s, 0.5) * 1000, 1),
        "list_p95_ms": round(_percentile(list_s, 0.95) * 1000, 1),
        "claim_p95_ms": round(_percentile(claim_s, 0.95) * 1000, 1),
        "items_per_s": round(len(claimed) / seconds, 1),
    }
    say(
        f"  list p95 {result['list_p95_ms']} ms, claim p95 {result['claim_p95_ms']} ms, "
        f"{result['double_claims']} double claims, {len(errors)} errors"
    )
    return result


@contextlib.contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    path = Path(tempfile.mkdtemp(prefix="docflow-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_bench(
    settings: Settings,
    *,
    scan_pages: int = 12,
    documents: int = 300,
    memory_pages: int = 300,
    queue_items: int = 10_000,
    reviewers: int = 20,
    queue_db: str | None = None,
    say: Say = print,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Every measurement in one run; ``queue_db`` (default: a new SQLite file) must be empty."""
    with _workdir(workdir) as work:
        scanned = bench_scanned(settings, scan_pages, work, say)
        born, latency = bench_born_digital(settings, documents, work, say)
        peak = bench_memory(settings, memory_pages, work, say) if memory_pages else None
        validation = bench_validation(settings, say)
        queue = None
        if queue_items:
            db = queue_db or f"sqlite:///{(work / 'queue-bench.db').resolve()}"
            queue = bench_queue(settings, db, items=queue_items, reviewers=reviewers, say=say)
            queue["database"] = db.split(":", 1)[0].split("+", 1)[0]
    return {
        "machine": {"cores": os.cpu_count(), "workers": settings.workers},
        "scanned": scanned,
        "born_digital": born,
        "latency_s": round(latency, 3),
        "peak_rss_mb": round(peak, 1) if peak is not None else None,
        "memory_pages": memory_pages,
        "validation": validation,
        "queue": queue,
    }


def format_bench(result: dict[str, Any]) -> str:
    s, b = result["scanned"], result["born_digital"]
    peer = b["invoice2data_docs_per_s"]
    rows = [
        ("scanned pages/s, pipeline (no cascade)", f"{s['pipeline_pages_per_s']:.2f}"),
        ("  pages also read in their own language",
         f"{s['pages_read_again_in_their_language']}/{s['pages']}"),
        ("scanned pages/s, tesseract CLI limit", f"{s['tesseract_pages_per_s']:.2f}"),
        ("  pipeline / limit", f"{s['ratio']:.0%}"),
        ("  pipeline, English reading only / limit",
         f"{s['pipeline_english_only_pages_per_s'] / s['tesseract_pages_per_s']:.0%}"),
        ("scanned pages/s, pipeline with cascade", f"{s['pipeline_with_cascade_pages_per_s']:.2f}"),
        ("born-digital docs/s, intake → posted", f"{b['docs_per_s']:.1f}"),
        ("born-digital docs/s, invoice2data", f"{peer:.1f}" if peer is not None else "n/a"),
        ("  CPU ms/doc: flow / read workers / Prefect server",
         " / ".join("n/a" if v is None else f"{v:.0f}" for v in b["cpu_ms_per_doc"].values())),
        ("latency, 1-page invoice → posted (s)", f"{result['latency_s']:.2f}"),
        (
            f"peak RSS, {result['memory_pages']}-page scan (MB)",
            f"{result['peak_rss_mb']:.0f}" if result["peak_rss_mb"] is not None else "skipped",
        ),
    ]
    rows += [
        (f"validation ms/doc, batch of {k}", f"{v['ms_per_document']:.2f}")
        for k, v in result["validation"].items()
    ]
    queue = result.get("queue")
    if queue:
        label = f"{queue['items']} items, {queue['reviewers']} reviewers, {queue['database']}"
        rows += [
            (f"queue list p95 ms ({label})", f"{queue['list_p95_ms']:.0f}"),
            ("queue claim-next p95 ms", f"{queue['claim_p95_ms']:.0f}"),
            ("queue double claims", str(queue["double_claims"])),
        ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value:>8}" for name, value in rows)


def write_json(result: dict[str, Any], out: Path) -> None:
    out.write_text(json.dumps(result, indent=2) + "\n")
