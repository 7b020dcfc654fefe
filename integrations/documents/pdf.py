"""An invoice or credit note as a PDF the customer can read and keep (ReportLab, no system libraries).

The amounts come from domain.invoicing as they are: this module formats, it never computes money,
so the PDF shows to the cent what the books and the UBL file carry. A credit note prints positive
amounts like the invoice it corrects (EN 16931); its title says what it is.

The fonts are Bitstream Vera, which ships with ReportLab and is embedded in the file, so the PDF
reads the same everywhere and covers Western and much of Central European text (Ł, Ž, Č); a glyph
it lacks (Ś, Ő) prints as a box rather than failing the document. Everything a customer or
settings supply is escaped before it reaches ReportLab's paragraph markup, so "A & B <GmbH>" is text.
The output is byte-for-byte the same for the same input (ReportLab's invariant mode: no creation
time, fixed ids), so a stored PDF can be rendered again and compared.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from contracts.documents import BuyerDetails, SellerDetails
from domain.invoicing import REVERSE_CHARGE, DocumentKind, VatDocument
from domain.money import Money
from domain.vat import RATE_SCALE

TITLES = {DocumentKind.INVOICE: "Invoice", DocumentKind.CREDIT_NOTE: "Credit note"}

_FONT, _BOLD = "OmsVera", "OmsVera-Bold"
_FONTS = Path(reportlab.__file__).parent / "fonts"


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in ((_FONT, "Vera.ttf"), (_BOLD, "VeraBd.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(_FONTS / file)))


_TEXT = ParagraphStyle("oms-text", fontName=_FONT, fontSize=9, leading=12)
_BOLD_TEXT = ParagraphStyle("oms-bold", parent=_TEXT, fontName=_BOLD)
_NUMBER = ParagraphStyle("oms-number", parent=_TEXT, alignment=TA_RIGHT)
_BOLD_NUMBER = ParagraphStyle("oms-bold-number", parent=_NUMBER, fontName=_BOLD)
_LINE = ParagraphStyle("oms-line", parent=_TEXT, fontSize=8, leading=10)
_BOLD_LINE = ParagraphStyle("oms-bold-line", parent=_LINE, fontName=_BOLD)
_LINE_NUMBER = ParagraphStyle("oms-line-number", parent=_LINE, alignment=TA_RIGHT)
_BOLD_LINE_NUMBER = ParagraphStyle("oms-bold-line-number", parent=_LINE_NUMBER, fontName=_BOLD)
_TITLE = ParagraphStyle("oms-title", parent=_TEXT, fontName=_BOLD, fontSize=18, leading=22)


def render_pdf(
    document: VatDocument,
    number: str,
    issued_on: date,
    seller: SellerDetails,
    buyer: BuyerDetails,
    *,
    corrects: str = "",
) -> bytes:
    """The document as PDF bytes. `corrects` is the number of the invoice a credit note corrects
    (printed when given; ignored on an invoice)."""
    _register_fonts()
    out = BytesIO()
    title = TITLES[document.kind]
    pdf = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {number}",
        author=seller.name,
        creator="oms",
        invariant=1,
    )
    story: list[Flowable] = [
        Paragraph(_text(title), _TITLE),
        Spacer(0, 3 * mm),
        _facts(document, title, number, issued_on, corrects),
        Spacer(0, 6 * mm),
        _parties(seller, buyer),
        Spacer(0, 8 * mm),
        _lines(document),
        Spacer(0, 6 * mm),
        _totals(document),
    ]
    for note in document.notes:
        story += [Spacer(0, 2 * mm), Paragraph(_text(note), _BOLD_TEXT)]
    pdf.build(story)
    return out.getvalue()


def rate_label(rate: int) -> str:
    """A rate in basis points as people write it: 2100 -> "21%", 950 -> "9.5%"."""
    whole, fraction = divmod(rate, RATE_SCALE // 100)
    return f"{whole}%" if not fraction else f"{whole}.{fraction:02d}".rstrip("0") + "%"


def _facts(document: VatDocument, title: str, number: str, issued_on: date, corrects: str) -> Table:
    rows = [[f"{title} number", number], ["Date", issued_on.isoformat()]]
    if document.kind is DocumentKind.CREDIT_NOTE and corrects:
        rows.append(["Corrects invoice", corrects])
    cells = [[Paragraph(_text(label), _BOLD_TEXT), Paragraph(_text(value), _TEXT)] for label, value in rows]
    table = Table(cells, colWidths=[40 * mm, 80 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _parties(seller: SellerDetails, buyer: BuyerDetails) -> Table:
    seller_lines = [
        *_address(seller.name, seller.address_lines, seller.postcode, seller.city, seller.country),
        f"VAT id: {seller.vat_id}",
    ]
    if seller.chamber_id:
        seller_lines.append(f"Chamber of Commerce: {seller.chamber_id}")
    if seller.iban:
        seller_lines.append(f"IBAN: {seller.iban}")
    buyer_lines = _address(buyer.name, buyer.address_lines, buyer.postcode, buyer.city, buyer.country)
    if buyer.vat_id:
        buyer_lines.append(f"VAT id: {buyer.vat_id}")
    cells = [
        [Paragraph("From", _BOLD_TEXT), Paragraph("To", _BOLD_TEXT)],
        [_block(seller_lines), _block(buyer_lines)],
    ]
    table = Table(cells, colWidths=[87 * mm, 87 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _block(lines: list[str]) -> Paragraph:
    return Paragraph("<br/>".join(map(_text, lines)), _TEXT)


def _address(name: str, lines: tuple[str, ...], postcode: str, city: str, country: str) -> list[str]:
    place = " ".join(part for part in (postcode, city) if part)
    return [line for line in (name, *lines, place, country) if line]


def _lines(document: VatDocument) -> Table:
    """Smaller type than the rest, so an amount up to a million with its currency fits its column."""
    header = ["Description", "Quantity", "Net", "VAT rate", "VAT", "Gross"]
    cells = [[Paragraph(label, _BOLD_LINE if i == 0 else _BOLD_LINE_NUMBER) for i, label in enumerate(header)]]
    for line in document.lines:
        values = [
            str(line.quantity),
            _money(line.net),
            _rate(line.category, line.rate),
            _money(line.vat),
            _money(line.gross),
        ]
        cells.append([Paragraph(_text(line.description), _LINE), *(Paragraph(_text(v), _LINE_NUMBER) for v in values)])
    # splitInRow: a line whose description is longer than a page continues on the next one.
    widths = [51 * mm, 17 * mm, 27 * mm, 25 * mm, 27 * mm, 27 * mm]
    table = Table(cells, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(_GRID)
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]))
    return table


def _totals(document: VatDocument) -> Table:
    header = ["VAT breakdown", "Net", "VAT", "Gross"]
    cells = [[Paragraph(label, _BOLD_TEXT if i == 0 else _BOLD_NUMBER) for i, label in enumerate(header)]]
    for total in document.rate_totals:
        amounts = (total.net, total.vat, total.gross)
        cells.append(
            [
                Paragraph(_text(_rate(total.category, total.rate)), _TEXT),
                *(Paragraph(_text(_money(amount)), _NUMBER) for amount in amounts),
            ]
        )
    amounts = (document.net, document.vat, document.gross)
    cells.append([Paragraph("Total", _BOLD_TEXT), *(Paragraph(_text(_money(a)), _BOLD_NUMBER) for a in amounts)])
    table = Table(cells, colWidths=[54 * mm, 40 * mm, 40 * mm, 40 * mm], hAlign="LEFT")
    table.setStyle(_GRID)
    return table


_GRID = TableStyle(
    [
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _rate(category: str, rate: int) -> str:
    return "Reverse charge" if category == REVERSE_CHARGE else rate_label(rate)


def _money(amount: Money) -> str:
    return amount.format()


def _text(value: str) -> str:
    """Plain text made safe for ReportLab's paragraph markup: tabs and line breaks become spaces,
    other control characters (which no font draws) are left out."""
    kept = ((" " if char.isspace() else "") if unicodedata.category(char) == "Cc" else char for char in value)
    return escape("".join(kept))
