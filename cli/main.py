"""The ``docflow`` command: the one edge where settings are built, errors become exit codes and
Prefect is configured to be quiet."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import OperationalError

from core.errors import DocflowError
from core.settings import Settings, embedded_prefect_defaults, load_settings

app = typer.Typer(
    help="docflow: ingest, OCR, extract, validate, post or review business documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
queue_app = typer.Typer(help="Inspect the exceptions review queue.", no_args_is_help=True)
users_app = typer.Typer(help="Manage web-app users (reviewers, finance, admins).", no_args_is_help=True)
billing_app = typer.Typer(help="Billing reports for finance.", no_args_is_help=True)
vendors_app = typer.Typer(help="A client's vendor master (CSV).", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
app.add_typer(users_app, name="users")
app.add_typer(billing_app, name="billing")
app.add_typer(vendors_app, name="vendors")


def settings_from_env() -> Settings:
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def quiet_prefect(settings: Settings) -> None:
    """Prefect's temporary server logs and shutdown tracebacks are noise for a user of `run`."""
    defaults = {
        "PREFECT_HOME": str((settings.home / "prefect").resolve()),
        "PREFECT_LOGGING_LEVEL": "CRITICAL",
        "PREFECT_LOGGING_SERVER_LEVEL": "CRITICAL",
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LOG_PRINTS": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    embedded_prefect_defaults()


class Progress:
    """One line per step of progress on stderr, so long runs show they are alive."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.total = 0
        self.started = time.perf_counter()

    def start(self, total: int) -> None:
        self.total = total
        if total:
            typer.echo(f"{self.label}: {total} document(s) to process", err=True)

    def advance(self, done: int) -> None:
        if self.total:
            elapsed = time.perf_counter() - self.started
            typer.echo(f"  {done}/{self.total} read ({elapsed:.0f} s)", err=True)


def fail(exc: DocflowError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(exc.exit_code)


def database_down(exc: Exception) -> None:
    """The database cannot be reached: stop cleanly (nothing is lost; a later run resumes)."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
    typer.echo(
        f"error: the database is unavailable ({reason}); nothing was lost: documents "
        "already taken are finished by the next run",
        err=True,
    )
    raise typer.Exit(75)


@app.command()
def run(
    source: Annotated[
        str, typer.Argument(help="A folder or s3://bucket/prefix to take documents from.")
    ] = "samples",
    client: Annotated[str, typer.Option(help="Client (tenant) the documents belong to.")] = "default",
    once: Annotated[
        bool, typer.Option("--once/--watch", help="Process what is there and stop, or keep watching.")
    ] = True,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --watch.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the pipeline over SOURCE: intake, OCR, extract, validate, then post or queue for review."""
    try:
        settings = settings_from_env()
        quiet_prefect(settings)
        from core.db import init_db
        from flows.run import run_in_process

        init_db(settings.db_url)  # a database that is down stops the run here, cleanly
        while True:
            summary = run_in_process(source, client, settings, progress=Progress("docflow"))
            typer.echo(json.dumps(summary.to_json(), indent=2) if as_json else summary.render())
            if once:
                return
            time.sleep(interval)
    except DocflowError as exc:
        fail(exc)
    except OperationalError as exc:
        database_down(exc)


@app.command("eval")
def evaluate(
    path: Annotated[
        Path, typer.Argument(help="Folder of documents with label JSON files (searched recursively).")
    ],
    force_ocr: Annotated[
        bool,
        typer.Option(
            "--force-ocr",
            help="Render born-digital PDFs and OCR them too, as scans: the page images alone, "
            "without the e-invoice XML a PDF may carry.",
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write the full report as JSON here.")] = None,
    without: Annotated[
        list[str] | None,
        typer.Option("--without", help="Leave an extractor out (e.g. facturx); repeatable."),
    ] = None,
    no_cascade: Annotated[
        bool, typer.Option("--no-cascade", help="Disable the low-confidence re-OCR cascade.")
    ] = False,
    client: Annotated[str, typer.Option(help="Client whose decision policy to apply.")] = "default",
) -> None:
    """Measure extraction accuracy, straight-through rate and speed against labelled documents."""
    try:
        settings = settings_from_env()
        from pipeline.evaluate import evaluate as run_eval
        from pipeline.evaluate import format_report

        def progress(message: str) -> None:
            typer.echo(f"  {message}", err=True)

        if not path.exists():
            raise DocflowError(f"no such folder: {path}")
        report = run_eval(
            path,
            settings,
            force_ocr=force_ocr,
            out=out,
            progress=progress,
            client=client,
            cascade=not no_cascade,
            disabled=frozenset(without or ()),
        )
        typer.echo(format_report(report))
        if out:
            typer.echo(f"report written to {out}")
    except DocflowError as exc:
        fail(exc)


@queue_app.command("list")
def queue_list(
    client: Annotated[str | None, typer.Option(help="Only this client's documents.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts (see the README).")] = False,
) -> None:
    """Every document that was not posted: waiting for review, rejected, escalated."""
    try:
        settings = settings_from_env()
        from core.db import init_db, session_scope
        from exceptions_queue.store import queue_list_json

        engine = init_db(settings.db_url)
        with session_scope(engine) as session:
            items = queue_list_json(session, client)
        if as_json:
            typer.echo(json.dumps(items, indent=2, default=str))
            return
        if not items:
            typer.echo("The queue is empty.")
            return
        for item in items:
            codes = ", ".join(f["code"] for f in item["findings"]) or "-"
            typer.echo(
                f"{item['document_id'][:12]}  {item['client']:<10} {item['doc_type'] or '-':<8} "
                f"{item['status']:<9} {codes:<40} {item['source']}"
            )
    except DocflowError as exc:
        fail(exc)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the review web app (queue, items, audit, analytics, billing downloads)."""
    try:
        settings = settings_from_env()
        import uvicorn

        from core.db import init_db
        from exceptions_queue.web import create_app

        init_db(settings.db_url)
        typer.echo(f"docflow review app on http://{host}:{port}/queue", err=True)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    except DocflowError as exc:
        fail(exc)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name to sign in with.")],
    role: Annotated[str, typer.Option(help="reviewer, finance or admin.")],
    client: Annotated[
        list[str] | None, typer.Option(help="Client the user may see (repeat for several).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create (or update) a web-app user."""
    try:
        settings = settings_from_env()
        if not password_stdin:
            raise typer.BadParameter("pass the password on standard input with --password-stdin")
        password = sys.stdin.readline().rstrip("\n")
        from core.db import init_db, session_scope
        from exceptions_queue.users import add_user

        engine = init_db(settings.db_url)
        with session_scope(engine) as session:
            add_user(session, name, role, client or [], password, replace=True)
        scope = ", ".join(client or []) or ("all" if role == "admin" else "none yet (add --client)")
        typer.echo(f"user {name} ({role}) saved; clients: {scope}")
    except DocflowError as exc:
        fail(exc)


@billing_app.command("report")
def billing_report(
    client: Annotated[str, typer.Option(help="Client to bill.")],
    period: Annotated[str, typer.Option(help="Month, YYYY-MM.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx, html or json.")] = "json",
    out: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output; xlsx needs --out).")
    ] = None,
) -> None:
    """Per-document billing lines and the month's summary for one client."""
    try:
        settings = settings_from_env()
        from billing.reports import build_report, write_report
        from core.db import init_db, session_scope

        engine = init_db(settings.db_url)
        with session_scope(engine) as session:
            report = build_report(session, settings, client, period)
        data: Any = write_report(report, fmt, out)
        if out is None:
            typer.echo(data if isinstance(data, str) else data.decode())
        else:
            typer.echo(f"report written to {out}", err=True)
    except DocflowError as exc:
        fail(exc)


@vendors_app.command("learn")
def vendors_learn(
    paths: Annotated[list[Path], typer.Argument(help="Folders (searched recursively) or files of "
                                                "label JSON with their documents beside them, "
                                                "as `docflow eval` reads them.")],
    into: Annotated[Path | None, typer.Option(
        help="The vendor master CSV to write [default: vendors/default.csv in the config dir, "
        "DOCFLOW_CONFIG_DIR].")] = None,
) -> None:
    """Learn the vendors of labelled documents into a vendor master CSV.

    Adds the name, address and VAT id of every labelled invoice and receipt. Each learned row
    names the documents it came from, so `docflow eval` on those documents never lets a row
    vouch for the document it was learned from. Rows without sources (kept by hand) stay;
    learned rows are learned again.
    """
    from pipeline.evaluate import find_labelled
    from validators.masterdata import learn_into

    target = into or load_settings().config_dir / "vendors" / "default.csv"
    labelled = [(doc.key, doc.label) for path in paths for doc in find_labelled(path)]
    try:
        kept, learned = learn_into(target, labelled)
    except DocflowError as exc:
        fail(exc)
    typer.echo(f"{target}: {kept} rows kept, {len(learned)} learned from "
               f"{sum(len(v.sources) for v in learned)} labelled documents")


@app.command()
def bench(
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    scan_pages: Annotated[int, typer.Option(help="Scanned page images for the OCR comparison.")] = 12,
    documents: Annotated[int, typer.Option(help="Born-digital PDFs for the end-to-end throughput.")] = 300,
    memory_pages: Annotated[
        int, typer.Option(help="Pages of the long scan for peak memory (0: skip).")
    ] = 300,
    queue_items: Annotated[
        int, typer.Option(help="Queued documents for the review-queue load test (0: skip).")
    ] = 10_000,
    reviewers: Annotated[int, typer.Option(help="Concurrent reviewers in the queue load test.")] = 20,
    queue_db: Annotated[
        str | None,
        typer.Option(help="EMPTY database for the queue load test (default: a new SQLite file)."),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes, for a smoke test (~1 min).")] = False,
) -> None:
    """Measure speed on this machine: OCR vs the tesseract limit, docs/s vs invoice2data, latency,
    memory, validation cost per batch size, and the review queue under 20 concurrent reviewers."""
    try:
        settings = settings_from_env()
        quiet_prefect(settings)
        from flows.bench import format_bench, run_bench, write_json

        if quick:
            scan_pages, documents, memory_pages, queue_items, reviewers = 4, 40, 6, 500, 4
        result = run_bench(
            settings,
            scan_pages=scan_pages,
            documents=documents,
            memory_pages=memory_pages,
            queue_items=queue_items,
            reviewers=reviewers,
            queue_db=queue_db,
            say=lambda m: typer.echo(m, err=True),
        )
        typer.echo(format_bench(result))
        if out:
            write_json(result, out)
            typer.echo(f"results written to {out}")
    except DocflowError as exc:
        fail(exc)


def _prefect(
    *args: str, env: dict[str, str] | None = None, check: bool = True, cwd: Path | None = None
) -> int:
    import subprocess

    prefect = Path(sys.executable).parent / "prefect"
    proc = subprocess.run([str(prefect), *args], env={**os.environ, **(env or {})}, check=False, cwd=cwd)
    if check and proc.returncode != 0:
        raise DocflowError(f"`prefect {' '.join(args)}` failed with exit code {proc.returncode}")
    return proc.returncode


@app.command()
def deploy(
    source: Annotated[
        str, typer.Argument(help="The inbox the watcher polls: a folder or s3://bucket/prefix.")
    ],
    pool: Annotated[str, typer.Option(help="Prefect work pool to create/use.")] = "docflow",
) -> None:
    """Register the watcher and processing deployments (prefect.yaml) with the Prefect server.

    Needs PREFECT_API_URL pointing at a Prefect server (backed by PostgreSQL for production) and
    DOCFLOW_DATABASE_URL pointing at the shared PostgreSQL database.
    """
    try:
        if not os.environ.get("PREFECT_API_URL"):
            raise DocflowError("set PREFECT_API_URL to your Prefect server (e.g. http://127.0.0.1:4200/api)")
        root = Path(__file__).resolve().parent.parent
        _prefect("--no-prompt", "work-pool", "create", pool, "--type", "process", "--overwrite")
        _prefect(
            "--no-prompt",
            "deploy",
            "--all",
            "--prefect-file",
            str(root / "prefect.yaml"),
            env={"DOCFLOW_SOURCE": source, "DOCFLOW_APP_DIR": str(root)},
            cwd=root,
        )
        typer.echo(f"deployments registered on pool {pool}; start workers with `docflow worker`")
    except DocflowError as exc:
        fail(exc)


@app.command()
def worker(
    pool: Annotated[str, typer.Option(help="Prefect work pool to take runs from.")] = "docflow",
    limit: Annotated[int, typer.Option(help="Flow runs this worker runs at once (memory bound).")] = 2,
) -> None:
    """Start a Prefect worker for docflow's work pool (run one per machine)."""
    try:
        if not os.environ.get("PREFECT_API_URL"):
            raise DocflowError("set PREFECT_API_URL to your Prefect server (e.g. http://127.0.0.1:4200/api)")
        _prefect("worker", "start", "--pool", pool, "--limit", str(limit))
    except DocflowError as exc:
        fail(exc)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
