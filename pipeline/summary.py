"""What a run did, for the person who started it (and for scripts, as JSON)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings
from pipeline.finalize import Result
from pipeline.intake import Taken
from storage.areas import areas_for


@dataclass
class RunSummary:
    source: str
    client: str
    settings: Settings
    seen: int = 0
    skipped: list[Taken] = field(default_factory=list)
    not_taken: list[Taken] = field(default_factory=list)
    """Inbox files that could not be read this time (gone, or no permission); left in place."""
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    data_docs: list[Path] = field(default_factory=list)
    """Great Expectations Data Docs pages of this run's validation batches."""

    def by_outcome(self, outcome: str) -> list[Result]:
        return [r for r in self.results if r.outcome == outcome]

    def locations(self) -> dict[str, str]:
        areas = areas_for(self.source, self.client, self.settings)
        return {
            "outbox": areas.outbox.uri("").removesuffix("/"),
            "archive": areas.archive.uri("").removesuffix("/"),
            "quarantine": areas.quarantine.uri("").removesuffix("/"),
            "database": _redact(self.settings.db_url),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "client": self.client,
            "seen": self.seen,
            "already_processed": len(self.skipped),
            "not_taken": [{"file": t.key, "reason": t.error} for t in self.not_taken],
            "processed": len(self.results),
            "posted": len(self.by_outcome("post")),
            "review": len(self.by_outcome("review")),
            "rejected": len(self.by_outcome("reject")),
            "seconds": round(self.seconds, 3),
            "documents": [
                {
                    "document_id": r.document_id,
                    "file": r.filename,
                    "outcome": r.outcome,
                    "doc_type": r.doc_type,
                    "pages": r.pages,
                    "seconds": round(r.seconds, 3),
                    "reasons": [{"code": c, "message": m} for c, m in r.reasons],
                }
                for r in self.results
            ],
            "locations": self.locations(),
            "data_docs": [str(p) for p in self.data_docs],
        }

    def render(self) -> str:
        lines = [f"docflow run: {self.source} (client {self.client})"]
        if self.not_taken:
            lines.append(f"  not taken this time  {len(self.not_taken):>4}")
            lines += [f"        {t.key}: {t.error}" for t in self.not_taken]
        if not self.results:
            if self.skipped:
                every = "all " if len(self.skipped) == self.seen else ""
                lines.append(
                    f"  nothing new: {every}{len(self.skipped)} file(s) were already processed "
                    "(see `docflow queue list` for open items)"
                )
            elif not self.seen:
                lines.append("  nothing to do: the inbox is empty")
            return "\n".join(lines)
        posted, review, rejected = (self.by_outcome(o) for o in ("post", "review", "reject"))
        lines.append(
            f"  documents seen      {self.seen:>5}   (new {len(self.results)}, "
            f"already processed {len(self.skipped)})"
        )
        lines.append(f"  posted              {len(posted):>5}")
        lines.append(f"  sent to review      {len(review):>5}")
        codes = Counter(c for r in review for c in {c for c, _ in r.reasons})
        for code, count in codes.most_common():
            lines.append(f"      {count:>3} × {code}")
        for r in review:
            first = r.reasons[0][1] if r.reasons else "needs a person"
            lines.append(f"        {r.filename}: {first}")
        lines.append(f"  rejected unreadable {len(rejected):>5}")
        for r in rejected:
            lines.append(f"        {r.filename}: {r.reasons[0][1] if r.reasons else 'unreadable'}")
        n = len(self.results)
        pages = sum(r.pages for r in self.results)
        lines.append(
            f"  time                {self.seconds:.1f} s for {n} document(s), {pages} page(s): "
            f"{self.seconds / n:.2f} s per document"
        )
        loc = self.locations()
        lines.append("  outputs")
        lines.append(f"      outbox      {loc['outbox']}")
        lines.append(f"      archive     {loc['archive']}")
        lines.append(f"      quarantine  {loc['quarantine']}")
        lines.append(f"      queue db    {loc['database']}  (docflow queue list / docflow serve)")
        for page in self.data_docs:
            lines.append(f"      data docs   {page.resolve().as_uri()}")
        return "\n".join(lines)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url
