"""What the random stress sets (``stress_claims``, ``stress_invoices``) share: scan defects drawn
at random, a scan saved as JPEG or posterised PNG with its label metadata, and the command line."""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

from samples import _scan
from samples.generate import scan_meta

Span = tuple[float, float]


def random_defects(rng: random.Random, *, angle: Span, noise: Span, blur: Span, specks: Span,
                   ink: Span) -> _scan.Defects:
    """Scan defects drawn from the given ranges (the skew to either side)."""
    return _scan.Defects(
        angle=round(rng.uniform(*angle) * rng.choice((-1, 1)), 2),
        noise_sigma=round(rng.uniform(*noise), 1),
        blur_sigma=round(rng.uniform(*blur), 2),
        specks_per_megapixel=round(rng.uniform(*specks), 1),
        ink=round(rng.uniform(*ink), 2),
    )


def save_scan(page: np.ndarray, defects: _scan.Defects, seed: int, stem: Path, dpi: int,
              jpeg_quality: int | None) -> tuple[Path, dict[str, object]]:
    """``page`` scanned with ``defects`` and saved beside ``stem``: as JPEG when a quality is
    given, else as a posterised PNG. Returns the file and its label's ``scan`` metadata."""
    gray = _scan.scan(page, defects, np.random.default_rng(seed))
    if jpeg_quality is not None:
        path = stem.with_suffix(".jpg")
        _scan.save_jpeg(gray, path, dpi=dpi, quality=jpeg_quality)
        fmt = f"JPEG q{jpeg_quality}"
    else:
        path = stem.with_suffix(".png")
        _scan.save_png(_scan.posterise(gray), path, dpi=dpi)
        fmt = "PNG (grey, 16 levels)"
    meta = {**scan_meta(defects, dpi, fmt),
            "specks_per_megapixel": defects.specks_per_megapixel, "ink": defects.ink}
    return path, meta


def main(doc: str, what: str, generate: Callable[[Path, int, int], list[Path]], count: int,
         seed: int) -> None:
    """The stress generators' command line: ``OUT [--count N] [--seed S]``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("out", type=Path, help=f"folder to write the {what} and labels to")
    parser.add_argument("--count", type=int, default=count)
    parser.add_argument("--seed", type=int, default=seed)
    args = parser.parse_args()
    for path in generate(args.out, args.count, args.seed):
        print(path)
