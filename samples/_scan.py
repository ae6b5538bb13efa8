"""Make a clean rendering look scanned: uneven paper, skew, blur, noise, specks, lossy saving.

The defects are those the OCR path must survive (``extractors`` deskews, denoises and binarises):
a rotation of 0.5–2°, a soft focus, sensor noise and dust, and JPEG or bilevel (fax) encoding.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Defects:
    angle: float
    """Degrees, counter-clockwise."""
    blur_sigma: float = 0.7
    noise_sigma: float = 6.0
    specks_per_megapixel: float = 25.0
    ink: float = 0.88
    """How dark the ink prints (1.0 = pure black)."""


def scan(gray: np.ndarray, defects: Defects, rng: np.random.Generator) -> np.ndarray:
    """A degraded copy of a grayscale page (uint8, white paper, dark ink)."""
    height, width = gray.shape
    page = 255.0 - (255.0 - gray.astype(np.float32)) * defects.ink

    # The page lies slightly crooked and off-centre on the platen.
    shift = rng.uniform(-0.006, 0.006, size=2) * (width, height)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), defects.angle, 1.0)
    matrix[:, 2] += shift
    page = cv2.warpAffine(
        page,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255.0,
    )

    # Uneven lighting: paper a little darker towards one corner.
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    corner = rng.integers(0, 4)
    fx = xs / width if corner % 2 else 1 - xs / width
    fy = ys / height if corner // 2 else 1 - ys / height
    page *= 1.0 - 0.07 * (fx * fy) - 0.02

    page = cv2.GaussianBlur(page, (0, 0), defects.blur_sigma)
    page += rng.normal(0.0, defects.noise_sigma, size=page.shape).astype(np.float32)

    n_specks = int(defects.specks_per_megapixel * width * height / 1e6)
    for _ in range(n_specks):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        radius = int(rng.integers(1, 3))
        cv2.circle(page, (x, y), radius, float(rng.uniform(40, 140)), -1)

    return np.clip(page, 0, 255).astype(np.uint8)


def binarise(gray: np.ndarray, threshold: int = 165) -> Image.Image:
    """A fax-like bilevel image (mode ``1``)."""
    return Image.fromarray(np.where(gray < threshold, 0, 255).astype(np.uint8)).convert("1")


def save_jpeg(gray: np.ndarray, path: Path, dpi: int, quality: int = 60) -> None:
    Image.fromarray(gray).save(path, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi))


def posterise(gray: np.ndarray, levels: int = 16, paper: int = 225) -> Image.Image:
    """Fewer grey levels and pure-white paper (a scanner's text mode): a small lossless PNG."""
    step = 256 // levels
    out = (gray // step * step + step // 2).astype(np.uint8)
    out[gray > paper] = 255
    return Image.fromarray(out)


def save_png(image: Image.Image, path: Path, dpi: int) -> None:
    image.save(path, "PNG", optimize=True, dpi=(dpi, dpi))


def save_tiff_g4(pages: list[Image.Image], path: Path, dpi: int) -> None:
    """A multi-page CCITT Group 4 TIFF, as office scanners produce for black-and-white documents."""
    buffer = io.BytesIO()
    pages[0].save(
        buffer, "TIFF", save_all=True, append_images=pages[1:], compression="group4", dpi=(dpi, dpi)
    )
    path.write_bytes(buffer.getvalue())
