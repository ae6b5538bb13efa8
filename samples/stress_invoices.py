"""Random invoices with their labels, for measuring the invoice reader and the calibration of
its confidences on invoices it was never tuned to (the dev sets hold twenty).

    .venv/bin/python -m samples.stress_invoices /tmp/random-invoices [--count 30] [--seed 5000]
    .venv/bin/docflow eval /tmp/random-invoices

Invoice ``i`` draws everything from ``random.Random(seed + i)``; the first half are born-digital
PDFs, the rest rendered at 200-300 dpi and degraded as scans (skew, blur, noise, specks, light
ink; JPEG or posterised PNG). Layouts cycle through the sample generator's four; within what
each can print: sellers from five VAT countries, buyers from more, names with legal forms,
ampersands and apostrophes, invoice numbers of several shapes, 1-12 items, totals to six digits.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from reportlab.pdfbase.pdfmetrics import stringWidth

from samples import _invoices
from samples._common import money, random_date, random_vat, render_pdf
from samples._invoices import Invoice, Item, Party
from samples._stress import main, random_defects, save_scan
from samples.generate import Expected, write_label

DATASET = "random_invoices"
DEFAULT_SEED = 5000
DEFAULT_COUNT = 30
LAYOUTS = ["classic", "table", "german", "modern"]

# Vendors by VAT country (random_vat knows DE, GB, NL, IE, IT): (name, address lines).
VENDORS = {
    "GB": [
        ("Hargreaves, Pike & Co. Ltd", ("17 Cheapside", "Manchester M2 4WB", "United Kingdom")),
        ("O'Connell & Daughters Ltd", ("Unit 9, Riverside Works", "Leeds LS11 5QA",
                                        "United Kingdom")),
        ("Bramley Precision Engineering Ltd", ("Bramley Mill, Canal Road", "Stockport SK4 1AA",
                                               "United Kingdom")),
        ("St. Albans Lighting Ltd", ("3 Verulam Court", "St Albans AL1 3XT", "United Kingdom")),
        ("Pinecrest Analytics LLC", ("UK Branch, 1 Finsbury Avenue", "London EC2M 2PF",
                                     "United Kingdom")),
        ("Kite & Key Ltd", ("22 Bridge St", "Cardiff CF10 2EE", "United Kingdom")),
    ],
    "IE": [
        ("D'Arcy Software Ltd", ("Block B, Cleaboy Business Park", "Waterford X91 P2F3",
                                 "Ireland")),
        ("Shannon Freight & Logistics Ltd", ("Shannon Free Zone East", "Shannon V14 DR59",
                                             "Ireland")),
        ("Mac Aodha Engineering Ltd", ("Ballybrit Business Park", "Galway H91 K2P0", "Ireland")),
    ],
    "DE": [
        ("Schäfer & Kühn Maschinenbau GmbH", ("Industriestraße 7", "33602 Bielefeld")),
        ("Weiß Elektrotechnik GmbH", ("Am Hafen 21", "28217 Bremen", "Germany")),
        ("Hofmann Logistik AG", ("Frankfurter Ring 150", "80807 München")),
        ("Rheinland Verpackungssysteme GmbH & Co. KG", ("Hansaallee 299", "40549 Düsseldorf")),
        ("Brötchen-Technik Nord GmbH", ("Spaldingstraße 64", "20097 Hamburg", "Germany")),
    ],
    "NL": [
        ("De Vries Installatietechniek B.V.", ("Industrieweg 12", "3542 AD Utrecht",
                                               "Netherlands")),
        ("Van 't Hoff Fijnmechanica B.V.", ("Kanaaldijk 4", "5611 ZN Eindhoven", "Netherlands")),
        ("Groot & Klein Drukwerk B.V.", ("Prinsengracht 811", "1017 KB Amsterdam",
                                         "Netherlands")),
    ],
    "IT": [
        ("Ferraro Arredamenti S.r.l.", ("Via Torino 44", "20123 Milano MI", "Italy")),
        ("L'Artigiano Tessile S.r.l.", ("Via dei Servi 18", "50122 Firenze FI", "Italy")),
        ("Officine Meccaniche dell'Adige S.p.A.", ("Lungadige Galtarossa 21", "37133 Verona VR",
                                                   "Italy")),
    ],
}
BUYERS = [
    ("Maison Laurent S.A.R.L.", ("12 rue de la République", "69002 Lyon", "France")),
    ("Blue Ridge Outfitters LLC", ("410 Market Street, Suite 200", "Asheville, NC 28801",
                                   "USA")),
    ("Helvetia Feinwerk AG", ("Bahnhofstrasse 52", "8001 Zürich", "Switzerland")),
    ("Lakeshore Dental Group, Inc.", ("1180 N Lake Shore Dr", "Chicago, IL 60611", "USA")),
    ("Société d'Équipement Alpin S.A.", ("5 avenue du Mont-Blanc", "74400 Chamonix", "France")),
    ("Nordic Timber AB", ("Sveavägen 44", "111 34 Stockholm", "Sweden")),
    ("Greenway Facilities Management Ltd", ("Attn: Accounts Payable", "40 Temple Row",
                                            "Birmingham B2 5HG", "United Kingdom")),
    ("Kowalski & Nowak Sp. z o.o.", ("ul. Marszałkowska 84", "00-514 Warszawa", "Poland")),
    ("Bakkerij 't Stoepje B.V.", ("Oudegracht 201", "3511 NK Utrecht", "Netherlands")),
    ("Stadtwerke Musterstadt GmbH", ("z. Hd. Kreditorenbuchhaltung", "Postfach 11 22",
                                     "12345 Musterstadt", "Germany")),
    ("O'Reilly Veterinary Clinic", ("Main Street", "Kilkenny R95 A1B2", "Ireland")),
    ("Fratelli Rossi & C. S.n.c.", ("Corso Vittorio Emanuele II 15", "10121 Torino",
                                    "Italy")),
    ("Pacific Northwest Research Consortium LLC", ("2200 Westlake Ave", "Seattle, WA 98121",
                                                   "USA")),
]
CATALOGUE = [
    ("SVC-CONS", "Consulting services (hours)", "h", (95, 180)),
    ("SVC-TRV", "Travel and accommodation, per diem", "day", (120, 260)),
    ("HW-SRV2", "Rack server 2U, dual CPU, 256 GB RAM", "ea", (4200, 14500)),
    ("LIC-ENT", "Enterprise licence, annual subscription", "yr", (2500, 48000)),
    ("MAT-ST12", "Steel sheet S235 2 mm, per m²", "m2", (18, 42)),
    ("MAT-CU", "Copper cable NYM-J 3x1.5, per metre", "m", (1, 3)),
    ("PKG-PAL", "Euro pallet, heat treated", "ea", (9, 16)),
    ("FRT-LTL", "Freight, less-than-truckload", "kg", (1, 4)),
    ("OFF-CHR", "Ergonomic office chair, mesh back", "ea", (189, 640)),
    ("PRT-A3", "Printing A3 posters, 170gsm, full colour", "ea", (2, 9)),
    ("MNT-Q", "Quarterly maintenance visit incl. parts", "ea", (450, 1900)),
    ("CAL-01", "Calibration of torque wrench, with certificate", "ea", (45, 120)),
    ("TRN-D", "On-site training day (max. 8 participants)", "day", (900, 2400)),
    ("FUEL-D", "Diesel fuel, per litre", "l", (1, 2)),
    ("SW-DEV", "Software development sprint, fixed price", "ea", (8000, 36000)),
    ("CHM-IPA", "Isopropyl alcohol 99.9%, 5 L can", "ea", (22, 48)),
    ("CLN-OFF", "Office cleaning, monthly contract", "mo", (380, 1450)),
    ("BRK-LGT", "LED panel 600 x 600 mm, 36 W, 4000 K", "ea", (38, 95)),
]
QUANTITIES = ["1", "1", "2", "3", "4", "5", "6", "10", "12", "24", "40", "100", "250",
              "0.5", "1.5", "2.25", "7.5", "12.75", "0.75"]
TAX_RATES = {"GB": ["20", "5", "0"], "IE": ["23", "13.5", "9"], "DE": ["19", "7"],
             "NL": ["21", "9"], "IT": ["22", "10", "4"]}
NAME_ROOM = {"classic": ("Helvetica-Bold", 16, 595 - 100 - 140),
             "table": ("Helvetica-Bold", 18, 595 - 80 - 110),
             "german": ("Helvetica-Bold", 20, 595 - 127),
             "modern": ("Helvetica-Bold", 19, 595 - 90 - 160)}


def number(rng: random.Random, date: dt.date) -> str:
    shapes = [
        lambda: f"INV-{date.year}-{rng.randint(1, 9999):04d}",
        lambda: f"{date.year}/{rng.randint(1, 999)}",
        lambda: f"RE-{rng.randint(10000, 99999)}",
        lambda: f"{rng.randint(1, 9999):06d}",
        lambda: f"{rng.randint(100, 99999)}",
        lambda: f"A{date.year % 100}-{rng.randint(100, 9999)}",
        lambda: f"F{date:%Y%m}-{rng.randint(1, 999):03d}",
        lambda: f"SI/{rng.randint(1000, 9999)}/{date.year % 100}",
    ]
    return rng.choice(shapes)()


def items(rng: random.Random, n: int, big: bool, cheap: bool) -> list[Item]:
    out = []
    pool = [c for c in CATALOGUE if c[3][1] <= 200] if cheap else CATALOGUE
    for code, description, unit, (lo, hi) in rng.sample(pool, min(n, len(pool))):
        price = Decimal(rng.randint(lo * 100, hi * 100)) / 100
        if rng.random() < 0.25:
            price = Decimal(int(price))  # round prices (1,200.00)
        quantity = Decimal(rng.choice(QUANTITIES))
        if big and rng.random() < 0.5:
            quantity = Decimal(rng.choice(["8", "15", "20", "36", "50"]))
        out.append(Item(description, quantity, money(price), code, unit))
    return out


def fits(layout: str, name: str) -> bool:
    font, size, room = NAME_ROOM[layout]
    return stringWidth(name, font, size) <= room


def build(rng: random.Random, layout: str) -> Invoice:
    country = "DE" if layout == "german" else rng.choice(["GB", "GB", "IE", "DE", "NL", "IT"])
    candidates = [v for v in VENDORS[country] if fits(layout, v[0])]
    name, address = rng.choice(candidates)
    if layout == "german":
        currency = "EUR"
    elif layout == "table":
        currency = rng.choice(["EUR", "GBP", "USD", "CHF"])
    else:
        currency = rng.choice(["GBP", "USD"] if country == "GB" else ["EUR", "EUR", "USD", "GBP"])
    contact = rng.choice([(), (f"Tel: +{rng.randint(30, 49)} {rng.randint(10, 99)} "
                               f"{rng.randint(100, 999)} {rng.randint(1000, 9999)}",),
                          (f"accounts@{name.split()[0].lower().strip(',')}.example",)])
    vendor = Party(name, address, vat=random_vat(rng, country), contact=contact)
    bname, baddress = rng.choice(BUYERS)
    buyer = Party(bname, baddress)
    date = random_date(rng, dt.date(2024, 1, 1), 1000)
    due = date + dt.timedelta(days=rng.choice([7, 10, 14, 21, 30, 30, 45, 60, 90]))
    n = rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    inv_items = items(rng, n, big=rng.random() < 0.3, cheap=rng.random() < 0.45)
    po = None
    if layout == "modern" and rng.random() < 0.6:
        po = rng.choice([f"PO-{rng.randint(1000, 99999)}", f"4500{rng.randint(100000, 999999)}",
                         f"{rng.randint(10000, 99999)}"])
    extras = {"bank": f"IBAN {country}00 DEMO 0000 {rng.randint(1000, 9999)} 00 · BIC DEMO{country}2X",
              "registration": f"{name} · Registered No. {rng.randint(100000, 999999)}"}
    if layout == "german":
        extras.update(logo=name.split(" GmbH")[0].split(" AG")[0], tagline="Qualität seit 1987",
                      register=f"Geschäftsführer: Anna Beispiel|Amtsgericht Bielefeld HRB "
                               f"{rng.randint(1000, 99999)}",
                      bank="Demobank|IBAN DE00 0000 0000 0000 0000 00|BIC DEMODEXXXXX")
    if layout == "modern" and rng.random() < 0.4:
        extras["ship_to"] = f"{bname}|Goods In, Dock 3|{baddress[-2]}"
    invoice = Invoice(
        vendor=vendor,
        buyer=buyer,
        number=number(rng, date),
        date=date,
        due=due,
        currency=currency,
        items=inv_items,
        tax_rate=Decimal(rng.choice(TAX_RATES[country])),
        po_number=po,
        customer_no=rng.choice(["", f"C{rng.randint(1000, 99999)}", f"{rng.randint(10000, 99999)}"]),
        extras=extras,
    )
    while invoice.printed_total >= Decimal("1000000"):  # totals up to 6 digits
        invoice.items = items(rng, n, big=False, cheap=True)
    return invoice


def generate(out: Path, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> list[Path]:
    """``count`` invoices in ``out``, each beside its label; the first half born-digital."""
    out.mkdir(parents=True, exist_ok=True)
    return [write_one(out, i, seed, scanned=i >= count // 2) for i in range(count)]


def write_one(out: Path, i: int, seed: int, *, scanned: bool) -> Path:
    """Invoice ``i`` of the set drawn from ``seed``, as a PDF or as a scan, beside its label."""
    invoice_seed = seed + i
    rng = random.Random(invoice_seed)
    layout = LAYOUTS[i % 4]
    invoice = build(rng, layout)
    pdf = _invoices.render(invoice, layout)
    source = f"generated by samples/stress_invoices.py (seed {invoice_seed})"
    extra: dict[str, object] = {"layout": layout, "pages": 1, "seed": invoice_seed}
    if not scanned:
        path = out / f"digital_{i:02d}_{layout}.pdf"
        path.write_bytes(pdf)
    else:
        dpi = rng.choice([200, 240, 300])
        [page] = render_pdf(pdf, dpi=dpi)
        defects = random_defects(rng, angle=(0.5, 2.0), noise=(4.0, 9.0), blur=(0.6, 0.95),
                                 specks=(5.0, 25.0), ink=(0.85, 1.0))
        quality = rng.randint(60, 75) if rng.random() < 0.5 else None
        path, extra["scan"] = save_scan(page, defects, invoice_seed,
                                        out / f"scan_{i:02d}_{layout}", dpi, quality)
    write_label(path, "invoice", invoice.label_fields(), Expected(), extra,
                dataset=DATASET, split="stress", source=source)
    return path


if __name__ == "__main__":
    main(__doc__, "invoices", generate, DEFAULT_COUNT, DEFAULT_SEED)
