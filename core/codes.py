"""Code formats of US medical claims, one definition for the CMS-1500 reader (what it may take
a box's reading for) and the validators (what a claim may be posted with)."""

from __future__ import annotations

import re

ICD10_CM = re.compile(r"^[A-Z][0-9][0-9AB](?:\.?[0-9A-Z]{1,4})?$")
"""Category (letter, digit, digit), then up to four characters, with or without the dot.
Every letter opens a chapter or a special code: ``U07.1`` (COVID-19) and ``U09.9`` are real.
The category's third character is a digit but in seven categories, whose third is A or B
(``C4A``, ``C7A``, ``C7B``, ``D3A``, ``M1A``, ``O9A``, ``Z3A``)."""
CPT_HCPCS = re.compile(r"^(?:[0-9]{4}[0-9AFMTU]|[A-V][0-9]{4})$")
"""CPT (5 digits; vaccine products end in A, category II in F, multianalyte assays in M,
category III in T, PLA codes in U) or HCPCS level II (letter + 4)."""
