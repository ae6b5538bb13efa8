"""Registration of degraded claim scans against the CMS-1500 form's geometry.

A scan whose thin red rules came out light and blurred (grey print, soft focus) must still be
laid over the form within a point: a fit that is a few points off on the right half cuts the
last digit of a charge off, one that is 50 points off reads every box wrong."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from extractors.claim_align import register
from extractors.claim_template import load_layout
from samples import _claims, _scan
from samples._common import render_pdf
from samples.generate import prairie_claim

DPI = 200
POINTS = [(x, y) for y in (60, 400, 560, 700) for x in (30, 200, 400, 520, 590)]
"""Places on the form (PDF points) spread over the whole page."""


@pytest.mark.parametrize(("blur", "ink", "seed"), [(0.9, 0.88, 11), (0.7, 0.85, 12)])
def test_a_light_blurred_scan_is_laid_over_the_form_within_a_point(
    blur: float, ink: float, seed: int
) -> None:
    [page] = render_pdf(_claims.render(prairie_claim(random.Random(seed))), dpi=DPI)
    defects = _scan.Defects(angle=0.8, noise_sigma=6.0, blur_sigma=blur,
                            specks_per_megapixel=10.0, ink=ink)
    gray = _scan.scan(page, defects, np.random.default_rng(seed))
    height, width = gray.shape
    # where scan() put the page: the same rotation and the shift of its first random draw
    shift = np.random.default_rng(seed).uniform(-0.006, 0.006, size=2) * (width, height)
    placed = cv2.getRotationMatrix2D((width / 2, height / 2), defects.angle, 1.0)
    placed[:, 2] += shift
    fit = register(np.dstack([gray] * 3), load_layout())
    k = DPI / 72
    worst = 0.0
    for x, y in POINTS:
        truth = placed @ np.array([x * k, y * k, 1.0])
        got = fit.homography @ np.array([x, y, 1.0])
        worst = max(worst, float(np.abs(got[:2] / got[2] - truth).max()) / k)
    assert worst < 1.5, f"registration is {worst:.1f} pt off (score {fit.score:.2f})"
