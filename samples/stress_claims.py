"""Random CMS-1500 claims with their labels, for measuring the claim reader on claims it has
never seen (the shipped samples and the dev set are a handful).

    .venv/bin/python -m samples.stress_claims /tmp/random-claims [--count 24] [--seed 7100]
    .venv/bin/docflow eval /tmp/random-claims

Half the claims are clean pages (300 dpi grayscale PNG), half scans at 200 dpi with the sample
generator's defects drawn at random (skew, noise, blur, specks, light ink; posterised PNG or
JPEG). Names with hyphens and apostrophes, 1-6 service lines, 0-4 modifiers, 1-12 diagnosis
codes, charges up to 9,999.99. Claim ``i`` draws from ``random.Random(seed + i)``, so a set is
reproducible.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from PIL import Image

from samples import _claims, _scan
from samples._claims import Claim, Person, Provider, ServiceLine
from samples._common import money, random_date, random_ein, random_npi, render_pdf
from samples._stress import main, random_defects, save_scan
from samples.generate import Expected, write_label

DEFAULT_SEED = 7100
DEFAULT_COUNT = 24
DATASET = "random_claims"

LAST = [
    "SMITH", "NGUYEN", "O'BRIEN", "D'ANGELO", "SMITH-JONES", "GARCIA-LOPEZ", "MCALLISTER",
    "VANDERWOUDENBERG", "KOWALCZYK-BRZEZINSKI", "DE LA CRUZ", "LI", "OKAFOR", "JOHANSSON",
    "ABERNATHY-WHITFIELD", "PAPADOPOULOS", "ST. CLAIR", "WASHINGTON", "FITZGERALD-O'NEILL",
    "BAKER", "CHRISTODOULOU", "HERNANDEZ", "KIM", "MACDONALD", "SCHWARZENEGGER-HOLT",
]
FIRST = [
    "JAMES", "MARIA", "ANNE-MARIE", "JOSE", "WEI", "CHIAMAKA", "ELIZABETH", "MOHAMMED", "JO",
    "CHRISTOPHER", "D'ANDRE", "MARY JANE", "ROBERT", "SIOBHAN", "ALEXANDRA", "TY", "KATHERINE",
]
STREETS = [
    "12 OAK ST", "4410 N LINCOLN AVE APT 3B", "987 MAPLE RIDGE BLVD", "1 MAIN ST", "2207 W 5TH ST",
    "77 SUNSET TER UNIT 12", "31500 COUNTY ROAD 22", "605 MARTIN LUTHER KING JR DR",
    "18 BRIAR CLIFF LN", "PO BOX 712",
]
CITIES = [
    ("SPRINGFIELD", "IL", "62704"), ("AUSTIN", "TX", "78745"), ("PORTLAND", "OR", "97214"),
    ("SAINT PAUL", "MN", "55104"), ("COEUR D'ALENE", "ID", "83814"), ("NEW YORK", "NY", "10027"),
    ("WINSTON-SALEM", "NC", "27101"), ("ALBUQUERQUE", "NM", "87110"), ("BOISE", "ID", "83702"),
    ("SALT LAKE CITY", "UT", "84105"), ("TAMPA", "FL", "33609"), ("BANGOR", "ME", "04401"),
]
PAYERS = [
    ("BLUE CROSS BLUE SHIELD OF TEXAS", "PO BOX 660044", "DALLAS, TX 75266"),
    ("AETNA", "PO BOX 981106", "EL PASO, TX 79998"),
    ("UNITEDHEALTHCARE", "PO BOX 740800", "ATLANTA, GA 30374"),
    ("CIGNA HEALTHCARE", "PO BOX 188061", "CHATTANOOGA, TN 37422"),
    ("HUMANA CLAIMS OFFICE", "PO BOX 14601", "LEXINGTON, KY 40512"),
    ("MEDICARE PART B", "PO BOX 3000", "MECHANICSBURG, PA 17055"),
    ("ST. LUKE'S HEALTH PLAN", "1200 RIVER RD", "BOISE, ID 83702"),
    ("KAISER PERMANENTE", "PO BOX 7004", "DOWNEY, CA 90242"),
]
INSURANCE_TYPES = ["Group", "Medicare", "Medicaid", "Other", "Feca", "Tricare", "Champva"]
PROVIDERS = [
    "SUNRISE PEDIATRICS", "ST. MARY'S MEDICAL GROUP", "JOHNSON & WU ORTHOPAEDICS LLC",
    "NORTHSIDE URGENT CARE PLLC", "DESERT SKY DERMATOLOGY", "LAKE COUNTY ONCOLOGY ASSOCIATES PC",
    "BRIGHT SMILES ORAL SURGERY", "VALLEY HOME MEDICAL SUPPLY INC", "O'CONNOR FAMILY PRACTICE",
    "METRO CARDIOLOGY & VASCULAR INSTITUTE",
]
PHYSICIANS = ["ELENA MARTINEZ MD", "RAJ PATEL DO", "SUSAN O'NEIL MD", "KWAME ASANTE NP"]
ICD10 = [
    "E11.9", "M54.50", "T88.7XXA", "Z11.51", "I10", "J06.9", "E78.5", "R05.9", "Z00.00",
    "M25.561", "S93.401A", "F41.1", "K21.9", "N39.0", "L70.0", "G43.909", "Z23", "E66.01",
    "R51.9", "H52.4", "Z79.4", "J45.20", "M17.11", "S52.501A", "C50.911", "O09.90", "Z68.41",
    "R10.84", "B34.9", "Q21.1", "U07.1", "D64.9",
]
PROCEDURES = [
    "99213", "99214", "99203", "99285", "J0780", "A4258", "G0102", "D7140", "36415", "80053",
    "85025", "93000", "71046", "J1100", "E0114", "97110", "97140", "20610", "11042", "G0439",
    "J3301", "81002", "87880", "L3908", "0001A", "1036F", "90471", "Q4101", "S9083", "T1015",
    "99391", "J9035", "C9113", "K0001", "B4150", "V2020", "H0031", "P9603", "90686",
]
MODIFIERS = ["25", "59", "LT", "RT", "GA", "TC", "50", "51", "76", "QW", "26", "KX", "GP", "XS"]
POS = ["11", "11", "11", "22", "21", "02", "12", "81", "23", "19"]


def person(rng: random.Random) -> Person:
    city, state, zip_code = rng.choice(CITIES)
    return Person(
        rng.choice(LAST),
        rng.choice(FIRST),
        rng.choice(["", "", "A", "J", "M", "Q", "X"]),
        random_date(rng, dt.date(1930, 1, 1), (dt.date(2020, 12, 31) - dt.date(1930, 1, 1)).days),
        rng.choice("MF"),
        rng.choice(STREETS),
        city,
        state,
        zip_code,
        f"{rng.randint(201, 989)} 555-{rng.randint(100, 9999):04d}",
    )


def charge(rng: random.Random) -> Decimal:
    kind = rng.random()
    if kind < 0.15:
        return money(Decimal(rng.randint(500, 2000)) / 100)  # 5.00-20.00
    if kind < 0.75:
        return money(Decimal(rng.randint(2000, 99999)) / 100)
    if kind < 0.92:
        return money(Decimal(rng.randint(100000, 499999)) / 100)
    return money(Decimal(rng.randint(500000, 999999)) / 100)  # up to 9,999.99


def build(rng: random.Random) -> Claim:
    n_diag = rng.randint(1, 12)
    diagnoses = rng.sample(ICD10, n_diag)
    letters = "ABCDEFGHIJKL"[:n_diag]
    n_lines = rng.randint(1, 6)
    first_day = random_date(rng, dt.date(2024, 1, 1), 700)
    rendering = [random_npi(rng, rng.choice("12")) for _ in range(rng.randint(1, 2))]
    lines = []
    for _ in range(n_lines):
        start = first_day + dt.timedelta(days=rng.choice([0, 0, 0, 1, 3, 7]))
        end = start + dt.timedelta(days=rng.choice([0, 0, 0, 0, 2, 5]))
        n_mod = rng.choice([0, 0, 1, 1, 2, 3, 4])
        pointers = "".join(sorted(rng.sample(letters, rng.randint(1, min(4, n_diag)))))
        lines.append(
            ServiceLine(
                start,
                end,
                rng.choice(POS),
                rng.choice(PROCEDURES),
                tuple(rng.sample(MODIFIERS, n_mod)),
                pointers,
                charge(rng),
                rng.choice([1, 1, 1, 2, 3, 4, 8, 10, 12, 15, 24, 30, 45, 60, 90, 99]),
                rng.choice(rendering),
            )
        )
    total = sum((ln.charges for ln in lines), Decimal("0.00"))
    paid = (
        Decimal("0.00")
        if rng.random() < 0.5
        else money(total * Decimal(rng.randint(5, 95)) / 100)
    )
    if paid >= total:
        paid = Decimal("0.00")
    last_day = max(ln.date_to for ln in lines)
    payer = rng.choice(PAYERS)
    prov_city, prov_state, prov_zip = rng.choice(CITIES)
    prov_name = rng.choice(PROVIDERS)
    street = f"{rng.randint(1, 9999)} {rng.choice(['ELM', 'MEDICAL PARK', 'W COLFAX', 'PEACHTREE'])} "
    street += rng.choice(["DR", "AVE STE 200", "BLVD", "ST # 4", "PKWY BLDG C"])
    location = f"{prov_city}, {prov_state} {prov_zip}"
    patient = person(rng)
    id_shapes = [
        lambda: f"{rng.choice(['XYZ', 'W', 'MCD', 'H'])}{rng.randint(10**8, 10**9 - 1)}",
        lambda: f"{rng.randint(1, 9)}EG{rng.randint(1, 9)}TE{rng.randint(1, 9)}MK{rng.randint(10, 99)}",
        lambda: f"{rng.randint(10**8, 10**9 - 1)}",
        lambda: f"ZGP{rng.randint(1000, 9999)}-{rng.randint(10, 99)}",
    ]
    account_shapes = [
        lambda: f"{rng.randint(10000, 99999999)}",
        lambda: f"ACCT-{rng.randint(1000, 999999)}",
        lambda: f"{rng.choice(['PT', 'MRN', 'A'])}{rng.randint(100000, 9999999)}",
    ]
    return Claim(
        payer_name=payer[0],
        payer_address=(payer[1], payer[2]),
        insurance_type=rng.choice(INSURANCE_TYPES),
        insured_id=rng.choice(id_shapes)(),
        patient=patient,
        group_number=f"G{rng.randint(1000, 999999)}",
        plan_name=f"{payer[0].split()[0]} {rng.choice(['PPO', 'HMO', 'CHOICE PLUS', 'GOLD'])}",
        diagnoses=diagnoses,
        lines=lines,
        federal_tax_id=random_ein(rng),
        account_number=rng.choice(account_shapes)(),
        amount_paid=paid,
        signed_on=last_day + dt.timedelta(days=rng.randint(0, 20)),
        physician=rng.choice(PHYSICIANS),
        facility=Provider(prov_name, street, location, random_npi(rng)),
        billing=Provider(
            prov_name if rng.random() < 0.5 else f"{prov_name} BILLING",
            street,
            location,
            random_npi(rng, rng.choice("12")),
            f"{rng.randint(201, 989)} 555-{rng.randint(100, 9999):04d}",
        ),
        onset=(first_day - dt.timedelta(days=rng.randint(1, 60))) if rng.random() < 0.5 else None,
    )


def _label(path: Path, claim: Claim, seed: int, extra: dict[str, object]) -> None:
    write_label(path, "claim", claim.label_fields(), Expected(),
                {"form": "CMS-1500 (02/12)", "pages": 1, "seed": seed, **extra},
                dataset=DATASET, split="stress",
                source=f"generated by samples/stress_claims.py (seed {seed})")


def generate(out: Path, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> list[Path]:
    """``count`` claims in ``out``, each beside its label; the first half clean, the rest scans."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        claim_seed = seed + i
        rng = random.Random(claim_seed)
        claim = build(rng)
        pdf = _claims.render(claim)
        if i < count // 2:
            [page] = render_pdf(pdf, dpi=300)
            path = out / f"clean_{i:02d}.png"
            _scan.save_png(Image.fromarray(page), path, dpi=300)
            _label(path, claim, claim_seed, {})
        else:
            [page] = render_pdf(pdf, dpi=200)
            defects = random_defects(rng, angle=(0.3, 1.5), noise=(4.0, 8.0), blur=(0.6, 1.0),
                                     specks=(5.0, 20.0), ink=(0.85, 0.95))
            quality = None if i % 2 else rng.randint(60, 70)
            path, meta = save_scan(page, defects, claim_seed, out / f"scan_{i:02d}", 200, quality)
            _label(path, claim, claim_seed, {"scan": meta})
        written.append(path)
    return written


if __name__ == "__main__":
    main(__doc__, "claims", generate, DEFAULT_COUNT, DEFAULT_SEED)
