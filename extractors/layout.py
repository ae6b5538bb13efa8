"""Layout helpers shared by all extractors: visual lines, text of a line, neighbours.

Both text-layer and OCR words get their ``line`` index here, by geometry, so that every
extractor sees the same notion of a visual row across the whole page width.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from core.models import Page, Word


def assign_lines(words: list[Word]) -> list[Word]:
    """Words sorted in reading order, with ``line`` set to the index of their visual row."""
    if not words:
        return []
    heights = [w.box[3] - w.box[1] for w in words if w.box[3] > w.box[1]]
    tol = 0.5 * (statistics.median(heights) if heights else 10.0)
    ordered = sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2)
    rows: list[list[Word]] = []
    centres: list[float] = []
    for word in ordered:
        centre = (word.box[1] + word.box[3]) / 2
        if rows and abs(centre - centres[-1]) <= tol:
            rows[-1].append(word)
            centres[-1] = sum((w.box[1] + w.box[3]) / 2 for w in rows[-1]) / len(rows[-1])
        else:
            rows.append([word])
            centres.append(centre)
    out: list[Word] = []
    for index, row in enumerate(rows):
        for word in sorted(row, key=lambda w: w.box[0]):
            # model_construct, not model_copy: the same fields, at a fifth of the cost per word
            out.append(Word.model_construct(**{**word.__dict__, "line": index}))
    return out


@dataclass
class Line:
    index: int
    words: list[Word]

    @property
    def text(self) -> str:
        return join_words(self.words)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return union_box(self.words)

    @property
    def conf(self) -> float:
        return min((w.conf for w in self.words), default=0.0)


def lines_of(page: Page) -> list[Line]:
    groups: dict[int, list[Word]] = {}
    for word in page.words:
        groups.setdefault(word.line, []).append(word)
    return [Line(i, sorted(ws, key=lambda w: w.box[0])) for i, ws in sorted(groups.items())]


def union_box(words: list[Word]) -> tuple[float, float, float, float]:
    return (
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    )


def mean_conf(words: list[Word]) -> float:
    """Tesseract's average confidence in the words, in [0, 1] (0 for none)."""
    return sum(w.conf for w in words) / len(words) if words else 0.0


def join_words(words: list[Word]) -> str:
    return " ".join(w.text for w in words)


def segments(line: Line, gap_factor: float = 1.5) -> list[list[Word]]:
    """Split a visual row into runs separated by wide horizontal gaps (columns)."""
    if not line.words:
        return []
    heights = [w.box[3] - w.box[1] for w in line.words]
    gap = gap_factor * (statistics.median(heights) or 10.0)
    runs = [[line.words[0]]]
    for prev, word in zip(line.words, line.words[1:], strict=False):
        if word.box[0] - prev.box[2] > gap:
            runs.append([word])
        else:
            runs[-1].append(word)
    return runs


def page_text(words: list[Word]) -> str:
    """Plain text in reading order, one visual row per line."""
    lines: dict[int, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))
