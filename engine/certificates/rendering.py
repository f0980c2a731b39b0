"""Certificate (证照) rendering: a printable HTML page and an A4 PDF, each with a QR code.

The QR code encodes the certificate's public verification URL. Nothing here reaches the
network and nothing needs a font file: the HTML carries its CSS and its QR code inline, and
the PDF uses reportlab's built-in CID font STSong-Light (Adobe-GB1). That font is referenced,
not embedded: the viewer supplies a Song typeface for it (Adobe Reader and every
Chinese-locale Windows, macOS or Linux desktop have one).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from reportlab.lib.colors import Color, black, white
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

__all__ = ["CertificateView", "qr_png", "qr_svg", "render_html", "render_pdf"]

STATUS_MARKS = {"revoked": "已撤销", "expired": "已过期", "cancelled": "已注销"}
HOLDER_LABEL = "持证人"
FONT = "STSong-Light"
RED = Color(0.66, 0.09, 0.11)
LABEL_FILL = Color(0.98, 0.96, 0.92)
PAGE_W, PAGE_H = A4
MARGIN = 15 * mm  # as the HTML's @page margin
INSET = 16 * mm  # from the border to the content


@dataclass(frozen=True)
class CertificateView:
    """Everything a certificate shows; built by the issuing code, rendered here."""

    number: str
    kind: str
    title: str
    holder: str
    fields: tuple[tuple[str, str], ...]
    issuer: str
    issued_on: date
    expires_on: date | None
    status: str  # "valid" | "revoked" | "expired" | "cancelled"
    verify_url: str


def _qr(data: str) -> segno.QRCode:
    # Always a full QR code (phones do not read Micro QR), error correction M or better.
    return segno.make(data, error="m", micro=False)


def qr_svg(data: str) -> str:
    """An inline SVG of `data`'s QR code: no XML declaration, no size (scales to its box)."""
    return str(_qr(data).svg_inline(omitsize=True, light="#fff", svgclass="qr"))


def qr_png(data: str, scale: int = 6) -> bytes:
    """A PNG of `data`'s QR code, `scale` pixels per module, with the standard quiet zone."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    out = io.BytesIO()
    _qr(data).save(out, kind="png", scale=scale)
    return out.getvalue()


def _status_mark(status: str) -> str | None:
    """The mark over a certificate that is no longer valid; an unknown status is an error."""
    if status != "valid" and status not in STATUS_MARKS:
        raise ValueError(f"unknown certificate status {status!r}")
    return STATUS_MARKS.get(status)


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _dates(view: CertificateView) -> list[tuple[str, str]]:
    expires = view.expires_on
    expiry = ("有效期", "长期") if expires is None else ("有效期至", _cn_date(expires))
    return [("发证机关", view.issuer), ("发证日期", _cn_date(view.issued_on)), expiry]


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(view: CertificateView) -> str:
    """A complete zh-CN HTML page for printing on A4; it loads nothing from anywhere."""
    template = _env().get_template("certificate.html")
    return template.render(
        view=view,
        rows=[(HOLDER_LABEL, view.holder), *view.fields],
        footer=_dates(view),
        mark=_status_mark(view.status),
        qr=qr_svg(view.verify_url),
    )


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _width(text: str, size: float, spacing: float = 0.0) -> float:
    """`text`'s width in points at `size`, with `spacing` ems between its characters."""
    glyphs: float = pdfmetrics.stringWidth(text, _font(), size)
    return glyphs + spacing * size * max(len(text) - 1, 0)


def _fit(text: str, size: float, width: float, spacing: float = 0.0) -> float:
    """The largest font size up to `size` at which `text` fits in `width` points."""
    while size > 6 and _width(text, size, spacing) > width:
        size -= 0.5
    return size


def _spaced(c: Canvas, text: str, x: float, y: float, size: float, bold: bool = False) -> None:
    """`text` centred on `x`, its characters 0.3em apart, as on a certificate's title."""
    c.saveState()  # character spacing and render mode stay in the graphics state until restored
    line = c.beginText(x - _width(text, size, 0.3) / 2, y)
    line.setFont(_font(), size)
    line.setCharSpace(0.3 * size)
    if bold:  # fill and stroke the glyphs: a bold face for a font that has none
        line.setTextRenderMode(2)
        c.setStrokeColor(black)
        c.setLineWidth(size / 40)
    line.textOut(text)
    c.drawText(line)
    c.restoreState()


def _cell(text: str, size: float, centred: bool = False) -> Any:
    style = ParagraphStyle(
        "cell",
        fontName=_font(),
        fontSize=size,
        leading=size * 1.5,
        wordWrap="CJK",
        alignment=TA_CENTER if centred else 0,
    )
    # Paragraph reads its text as markup: escaping makes "<script>" plain characters.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(rows: list[tuple[str, str]], width: float, height: float) -> Any:
    """The bordered field table at the largest font size (12pt down to 8pt) that fits."""
    for size in (12, 11, 10, 9, 8):
        cells = [[_cell(label, size, centred=True), _cell(value, size)] for label, value in rows]
        table = Table(cells, colWidths=[width * 0.3, width * 0.7])
        style = [
            ("FONTNAME", (0, 0), (-1, -1), _font()),
            ("GRID", (0, 0), (-1, -1), 0.8, black),
            ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        for side, padding in (("TOP", 0.6), ("BOTTOM", 0.6), ("LEFT", 0.7), ("RIGHT", 0.7)):
            style.append((f"{side}PADDING", (0, 0), (-1, -1), size * padding))
        table.setStyle(TableStyle(style))
        if table.wrap(width, height)[1] <= height:
            return table
    raise ValueError("the certificate's fields do not fit on one A4 page")


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares (sharp at any print resolution), quiet zone included."""
    matrix = [list(row) for row in _qr(data).matrix_iter(border=4)]
    module = size / len(matrix)
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + 1) * module
        col = 0
        while col < len(row):
            start = col
            while col < len(row) and row[col]:
                col += 1
            if col > start:  # a run of dark modules; a hair taller so rows leave no seam
                path.rect(x + start * module, top - 0.05, (col - start) * module, module + 0.1)
            col += 1
    c.setFillColor(black)
    c.drawPath(path, stroke=0, fill=1)


def _draw_mark(c: Canvas, text: str) -> None:
    """A large red stamp across the page, for a revoked or expired certificate."""
    size = 80
    width = _width(text, size, 0.3)
    c.saveState()
    c.translate(PAGE_W / 2, PAGE_H / 2 + 10 * mm)
    c.rotate(28)
    c.setFillColor(RED, alpha=0.6)
    c.setStrokeColor(RED, alpha=0.6)
    c.setLineWidth(5)
    c.roundRect(-width / 2 - 12 * mm, -size * 0.45, width + 24 * mm, size * 1.3, 5 * mm)
    _spaced(c, text, 0, -size * 0.1, size)
    c.restoreState()


def render_pdf(view: CertificateView) -> bytes:
    """One A4 page with the certificate's content, its QR code and any status mark."""
    font, mark = _font(), _status_mark(view.status)
    left, right = MARGIN + INSET, PAGE_W - MARGIN - INSET
    width = right - left
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font, initialFontSize=12)
    c.setTitle(f"{view.title} {view.number}")
    c.setAuthor(view.issuer)
    c.setSubject(view.holder)

    c.setStrokeColor(RED)  # a thick frame with a thin one inside it
    for edge, line_width in ((MARGIN, 2.2), (MARGIN + 2 * mm, 0.6)):
        c.setLineWidth(line_width)
        c.rect(edge, edge, PAGE_W - 2 * edge, PAGE_H - 2 * edge)

    top = PAGE_H - MARGIN - INSET
    _spaced(c, view.title, PAGE_W / 2, top - 18 * mm, _fit(view.title, 30, width, 0.3), bold=True)
    number = f"证号：{view.number}"
    c.setFont(font, _fit(number, 13, width))
    c.drawCentredString(PAGE_W / 2, top - 32 * mm, number)

    qr_size, qr_y = 34 * mm, MARGIN + INSET + 6 * mm
    space = top - 42 * mm - (qr_y + qr_size + 12 * mm)
    table = _table([(HOLDER_LABEL, view.holder), *view.fields], width, space)
    table.drawOn(c, left, top - 42 * mm - table.wrap(width, space)[1])

    _draw_qr(c, view.verify_url, left, qr_y, qr_size)
    c.setFont(font, 11)
    c.drawCentredString(left + qr_size / 2, qr_y - 6 * mm, "扫码核验")
    for i, (label, value) in enumerate(_dates(view)):
        line = f"{label}：{value}"
        c.setFont(font, _fit(line, 12, width - qr_size - 10 * mm))
        c.drawRightString(right, qr_y + qr_size - 6 * mm - i * 9 * mm, line)

    if mark is not None:
        _draw_mark(c, mark)
    c.showPage()
    c.save()
    return out.getvalue()
