"""The vendor master: matching a read name, confirming a vendor and its address, and learning
vendors from labelled documents (``docflow vendors learn``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.models import DocType, Extraction, Field
from pipeline.evaluate import find_labelled
from tests.cli import run_docflow
from validators.masterdata import (
    ADDRESS_CONFIRMED,
    CONFIRMED,
    LEARNED,
    MENDED,
    Vendor,
    VendorMaster,
    confirm_vendor,
    learn_into,
    load_vendor_master,
)

STATIONER = Vendor(name="LIAN HING STATIONERY SDN BHD",
                   address="NO.32 & 33, JALAN SR 1/9, SEKSYEN 9, TAMAN SERDANG RAYA, 43300 SERI "
                           "KEMBANGAN, SELANGOR", sources=("sroie/a", "sroie/b"))
SHOP = Vendor(name="SEGI CASH & CARRY SDN. BHD.", address="PT17920, SEKSYEN U9, 40150 SHAH ALAM",
              sources=("sroie/c",))


def receipt(vendor: str, address: str | None = None, confidence: float = 0.5) -> Extraction:
    fields = {"vendor_name": Field(name="vendor_name", value=vendor, confidence=confidence),
              "total_amount": Field(name="total_amount", value="12.00", confidence=0.9)}
    if address is not None:
        fields["address"] = Field(name="address", value=address, confidence=0.3)
    return Extraction(doc_type=DocType.RECEIPT, fields=fields)


def test_a_misread_first_letter_still_finds_the_vendor() -> None:
    """Sorting the words put ``uan`` last and ``lian`` second: token_sort_ratio gave 77."""
    master = VendorMaster([STATIONER, SHOP])
    match = master.match("UAN HING STATIONERY SDN BHD", 88)
    assert match is not None and match.vendor is STATIONER and 88 <= match.score < 100
    assert master.match("TAN HOCK HARDWARE", 88) is None


def test_a_row_learned_from_one_document_does_not_vouch_for_it() -> None:
    master = VendorMaster([STATIONER, SHOP])
    assert master.match("Segi Cash & Carry SDN BHD", 88, "sroie/c") is None
    assert master.match("Segi Cash & Carry SDN BHD", 88, "sroie/other") is not None
    # a row learned from two documents still vouches for either of them
    assert master.match("LIAN HING STATIONERY", 88, "sroie/a") is not None
    # another row of the same name does, when the first does not
    twin = Vendor(name=SHOP.name, sources=("sroie/d",))
    match = VendorMaster([SHOP, twin]).match("SEGI CASH & CARRY", 88, "sroie/c")
    assert match is not None and match.vendor is twin
    # the address on file comes only from rows that vouch for the document
    assert VendorMaster([SHOP]).address(SHOP, SHOP.address, "sroie/c") is None


def test_confirmed_vendor_keeps_the_printed_spelling_and_mends_a_misreading() -> None:
    master = VendorMaster([STATIONER, SHOP])
    same = confirm_vendor(receipt("Segi Cash & Carry SDN BHD"), master, 88, [DocType.RECEIPT])
    name = same.fields["vendor_name"]
    assert name.value == "Segi Cash & Carry SDN BHD"  # the page's own spelling
    # a row learned from labels vouches less than one kept by hand: under the default
    # threshold of a required field (0.88), so it alone posts nothing
    assert name.confidence == LEARNED < 0.88 < CONFIRMED and name.method == "vendor_master"
    kept = VendorMaster([Vendor(name=SHOP.name, vendor_id="V-7")])
    by_hand = confirm_vendor(receipt("SEGI CASH & CARRY"), kept, 88, [DocType.RECEIPT])
    assert by_hand.fields["vendor_name"].confidence == CONFIRMED
    misread = confirm_vendor(receipt("WAN HING STATIONERY SDN BHD"), master, 88, [DocType.RECEIPT])
    assert misread.value("vendor_name") == STATIONER.name
    # … which a person confirms: under the default threshold of a required field (0.88)
    assert misread.fields["vendor_name"].confidence == MENDED < 0.88
    # … and is told what the page reads
    assert misread.fields["vendor_name"].doubt == f"{STATIONER.name}, read WAN HING STATIONERY SDN BHD"
    # a near name read surer than the master could mend it is another vendor's, as read
    sure = confirm_vendor(receipt("WAN HING STATIONERY SDN BHD", confidence=0.99), master, 88,
                          [DocType.RECEIPT])
    assert sure.value("vendor_name") == "WAN HING STATIONERY SDN BHD"
    # a row kept by hand vouches for a near name as it always has
    kept = VendorMaster([Vendor(name=STATIONER.name, vendor_id="V-8")])
    mended = confirm_vendor(receipt("WAN HING STATIONERY SDN BHD"), kept, 88, [DocType.RECEIPT])
    assert mended.fields["vendor_name"].confidence == CONFIRMED
    # a document type the policy does not check is left alone, and so is an unknown vendor
    assert confirm_vendor(receipt("WAN HING STATIONERY"), master, 88, [DocType.INVOICE]).value(
        "vendor_name") == "WAN HING STATIONERY"
    stranger = receipt("TAN HOCK HARDWARE")
    assert confirm_vendor(stranger, master, 88, [DocType.RECEIPT]) == stranger


def test_a_name_near_two_vendors_on_file_is_left_as_read() -> None:
    teo = Vendor(name="TEO HENG STATIONERY & BOOKS")
    ted = Vendor(name="TED HENG STATIONERY & BOOKS")
    master = VendorMaster([teo, ted])
    match = master.match("TED HENG STATIONERY & BOOKS", 88)
    assert match is not None and match.vendor is ted and match.rivals == (teo,)
    read = receipt("TED HENG STATIONERY & BOOKS")
    assert confirm_vendor(read, master, 88, [DocType.RECEIPT]) == read
    # the same name spelt with other punctuation is no rival: the page's spelling is kept
    dotted = VendorMaster([teo, Vendor(name="TEO HENG STATIONERY & BOOKS.")])
    assert dotted.match("Teo Heng Stationery & Books", 88).rivals == ()  # type: ignore[union-attr]


def test_a_read_address_near_the_one_on_file_becomes_it() -> None:
    master = VendorMaster([STATIONER, SHOP])
    near = "NO.32 & 33, JALAN SR 1/9, SEKSYEN 9, TAMAN SERDANG RAVA, 43300 SERI KEMBANGAN, SELANG0R"
    out = confirm_vendor(receipt("LIAN HING STATIONERY", near), master, 88, [DocType.RECEIPT])
    address = out.fields["address"]
    assert address.value == STATIONER.address
    assert address.confidence == ADDRESS_CONFIRMED and address.method == "vendor_master"
    assert address.doubt == f"{STATIONER.address}, read {near}"
    # … punctuation too: a reading drops commas and slashes
    bare = STATIONER.address.replace(",", "").replace("/", "")
    out = confirm_vendor(receipt("LIAN HING STATIONERY", bare), master, 88, [DocType.RECEIPT])
    assert out.fields["address"].value == STATIONER.address
    # an address read surer than the master vouches (an e-invoice's XML) stays as read
    xml = receipt("LIAN HING STATIONERY", near)
    xml.fields["address"] = xml.fields["address"].model_copy(update={"confidence": 0.99})
    assert confirm_vendor(xml, master, 88, [DocType.RECEIPT]).fields["address"].value == near
    # another branch's address is not this one misread: it stays as read
    other = "LOT 1-5, JALAN PUCHONG, 47100 PUCHONG, SELANGOR"
    kept = confirm_vendor(receipt("LIAN HING STATIONERY", other), master, 88, [DocType.RECEIPT])
    assert kept.fields["address"].value == other and kept.fields["address"].confidence == 0.3


def write_label(folder: Path, dataset: str, doc_id: str, doc_type: str, **fields: str) -> None:
    """A label JSON and its document, as ``../shared/datasets`` holds them."""
    folder.mkdir(parents=True, exist_ok=True)
    label = {"id": doc_id, "dataset": dataset, "doc_type": doc_type, "fields": fields,
             "files": [f"{doc_id}.pdf"]}
    (folder / f"{doc_id}.json").write_text(json.dumps(label), encoding="utf-8")
    (folder / f"{doc_id}.pdf").write_bytes(b"%PDF-1.4\n")


def test_learning_keeps_hand_kept_rows_and_names_the_sources(tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    write_label(labels / "sroie", "sroie", "r1", "receipt", vendor_name="MEI LET RESTAURANT",
                address="NO 2, JALAN   MAJU")
    write_label(labels / "sroie", "sroie", "r2", "receipt", vendor_name="MEI LET RESTAURANT",
                address="NO 2, JALAN MAJU")
    write_label(labels / "zf", "zugferd", "z1", "invoice", vendor_name="Kraxi GmbH",
                vendor_vat="DE 123456789")
    write_label(labels / "claims", "hcfa", "c1", "claim", vendor_name="ST. MARY'S CLINIC")
    (labels / "notes.json").write_text("[1, 2]", encoding="utf-8")  # not a label: skipped
    master = tmp_path / "vendors.csv"
    master.write_text("vendor_id,name,vat,aliases\nV-1,Quayside Hardware,IE0207199F,\n",
                      encoding="utf-8")
    for _ in range(2):  # learning again gives the same file
        kept, learned = learn_into(master, [(d.key, d.label) for d in find_labelled(labels)])
        assert kept == 1
    vendors = load_vendor_master(master).vendors
    assert [(v.name, v.vat, v.address, v.sources) for v in vendors] == [
        ("Quayside Hardware", "IE0207199F", "", ()),
        ("Kraxi GmbH", "DE123456789", "", ("zugferd/z1",)),
        ("MEI LET RESTAURANT", "", "NO 2, JALAN MAJU", ("sroie/r1", "sroie/r2")),
    ]
    assert learned == vendors[1:]


def test_docflow_vendors_learn(tmp_path: Path) -> None:
    write_label(tmp_path / "labels", "sroie", "r1", "receipt", vendor_name="MEI LET RESTAURANT")
    out = run_docflow("vendors", "learn", str(tmp_path / "labels"), "--into",
                      str(tmp_path / "v.csv"), env=dict(os.environ), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "0 rows kept, 1 learned from 1 labelled documents" in out.stdout
    assert load_vendor_master(tmp_path / "v.csv").vendors[0].sources == ("sroie/r1",)
    # without --into: the default client's master in the config dir
    config = tmp_path / "config"
    (config / "vendors").mkdir(parents=True)
    out = run_docflow("vendors", "learn", str(tmp_path / "labels"),
                      env={**os.environ, "DOCFLOW_CONFIG_DIR": str(config)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert load_vendor_master(config / "vendors" / "default.csv").vendors[0].name == "MEI LET RESTAURANT"


def test_a_placeholder_vat_id_names_nobody() -> None:
    """Sample e-invoices of several sellers carry ``DE123456789``: it confirms none of them."""
    kraxi = Vendor(name="Kraxi GmbH", vat="DE123456789", sources=("zugferd/a",))
    taxi = Vendor(name="Taxiunternehmen TX GmbH", vat="DE123456789", sources=("zugferd/b",))
    master = VendorMaster([kraxi, taxi, STATIONER])
    assert master.by_vat("DE 123 456 789") is None
    only = VendorMaster([kraxi, STATIONER])
    assert only.by_vat("DE 123 456 789") is kraxi
    assert only.by_vat("DE123456789", "zugferd/a") is None  # learned from that document alone
    invoice = Extraction(doc_type=DocType.INVOICE, fields={
        "vendor_name": Field(name="vendor_name", value="Rohstoff AG", confidence=0.6),
        "vendor_vat": Field(name="vendor_vat", value="DE123456789", confidence=0.9)})
    assert confirm_vendor(invoice, master, 88).value("vendor_name") == "Rohstoff AG"
    assert confirm_vendor(invoice, only, 88).value("vendor_name") == "Kraxi GmbH"
    # a name read surer than the master vouches (an e-invoice's XML) is not replaced
    sure = invoice.model_copy(update={"fields": {**invoice.fields, "vendor_name": Field(
        name="vendor_name", value="Rohstoff AG", confidence=0.99)}})
    assert confirm_vendor(sure, only, 88).value("vendor_name") == "Rohstoff AG"
