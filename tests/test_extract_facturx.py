"""The Factur-X/ZUGFeRD XML mapping on small CII documents written for the test."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from core.models import DocType
from extractors.facturx import map_cii, map_invoice_xml
from validators.models import Invoice, coerce_values
from validators.policy import RuleParams
from validators.rules import check_line_items

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def _line(line_id: str, parent: str | None, name: str, amount: str) -> str:
    parent_xml = f"<ram:ParentLineID>{parent}</ram:ParentLineID>" if parent else ""
    return f"""
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument>
        <ram:LineID>{line_id}</ram:LineID>{parent_xml}
      </ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>{name}</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeSettlement>
        <ram:SpecifiedTradeSettlementLineMonetarySummation>
          <ram:LineTotalAmount>{amount}</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>"""


def _invoice(lines: str, lines_total: str) -> ET.Element:
    return ET.fromstring(f"""<rsm:CrossIndustryInvoice xmlns:rsm="{RSM}" xmlns:ram="{RAM}">
  <rsm:ExchangedDocument><ram:ID>210111</ram:ID></rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>{lines}
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>{lines_total}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>{lines_total}</ram:TaxBasisTotalAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>""")


def test_sub_invoice_lines_name_their_parent_and_only_top_lines_add_up() -> None:
    """A bill of quantities (ZUGFeRD EXTENDED): a group line holds the sum of the lines that
    detail it, so adding every line counts the work twice."""
    root = _invoice(
        _line("01.01", "01", "Clear the site", "2100.00")
        + _line("01.01.01", "01.01", "Remove rubble", "700.00")
        + _line("01.01.02", "01.01", "Remove plants", "1400.00")
        + _line("01.02", "01", "Prepare paving", "1500.00")
        + _line("01", None, "Total section 1", "3600.00")
        + _line("02", "99", "A parent the document does not hold", "0.00"),
        "3600.00",
    )
    fields = map_cii(root)
    items = fields["line_items"]
    assert isinstance(items, list)
    assert [item.get("parent") for item in items] == ["01", "01.01", "01.01", "01", None, None]
    doc, findings = coerce_values(DocType.INVOICE, fields)
    assert findings == [] and isinstance(doc, Invoice)
    assert check_line_items(doc, RuleParams()) == []
    flat = [{k: v for k, v in item.items() if k != "parent"} for item in items]
    doc, _ = coerce_values(DocType.INVOICE, {**fields, "line_items": flat})
    assert isinstance(doc, Invoice) and doc.lines_total == Decimal("3600.00")
    assert [f.code for f in check_line_items(doc, RuleParams())] == ["line_items_mismatch"]


def test_allowances_and_charges_the_xml_leaves_out_are_none() -> None:
    """EN 16931: tax basis = lines − allowances + charges; absent totals are zero, so a tax
    basis that the lines do not reach is still caught against the subtotal."""
    root = _invoice(_line("1", None, "Kunstrasen", "10.00"), "10.00")
    values = map_invoice_xml(root)
    assert (values["allowance_total"], values["charge_total"]) == (Decimal("0.00"), Decimal("0.00"))
    values["subtotal"] = Decimal("12.00")  # a tax basis the lines do not reach
    doc, _ = coerce_values(DocType.INVOICE, values)
    assert [f.code for f in check_line_items(doc, RuleParams())] == ["line_items_mismatch"]
