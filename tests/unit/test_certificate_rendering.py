"""Certificates render as a self-contained HTML page and an A4 PDF whose QR codes decode back
to the verification URL; user text is escaped, and revoked/expired certificates are marked."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from xml.etree import ElementTree

import pypdf
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from engine.certificates.rendering import CertificateView, qr_png, qr_svg, render_html, render_pdf

URL = "https://zwfw.example.gov.cn/certificates/verify/JY13301020000017?t=a1b2"
SCRIPT = "<script>alert('x')</script>"

VIEW = CertificateView(
    number="JY13301020000017",
    kind="food_permit",
    title="食品经营许可证",
    holder="老张面馆(张三)",
    fields=(
        ("经营场所", "杭州市上城区解放路123号"),
        ("主体业态", "餐饮服务经营者"),
        ("经营项目", "热食类食品制售"),
    ),
    issuer="杭州市上城区市场监督管理局",
    issued_on=date(2025, 1, 2),
    expires_on=date(2030, 1, 1),
    status="valid",
    verify_url=URL,
)
HOSTILE = replace(
    VIEW,
    holder=f"老张{SCRIPT}",
    fields=(("经营场所", '<img src=x onerror="alert(1)"> & <b>粗</b>'), ("备注", SCRIPT)),
    issuer=f"某局{SCRIPT}",
)


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def decode(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def pdf_image(pdf: bytes, dpi: int = 150) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image: Image.Image = document[0].render(scale=dpi / 72).to_pil()
        return image.convert("L")
    finally:
        document.close()


# ---- QR codes


def test_qr_png_decodes_to_the_data() -> None:
    png = qr_png(URL)
    image = Image.open(io.BytesIO(png))
    assert png.startswith(b"\x89PNG")
    assert decode(image) == [URL]


def test_qr_png_scale_is_pixels_per_module() -> None:
    small, large = (Image.open(io.BytesIO(qr_png(URL, scale=s))) for s in (2, 8))
    assert large.size == (small.size[0] * 4, small.size[1] * 4)
    assert decode(large) == [URL]
    with pytest.raises(ValueError):
        qr_png(URL, scale=0)


def test_qr_svg_is_inline_and_scalable() -> None:
    svg = qr_svg(URL)
    assert svg.startswith("<svg") and "<?xml" not in svg
    root = ElementTree.fromstring(svg)
    assert root.get("viewBox") and root.get("width") is None and root.get("height") is None
    assert "http" not in svg  # the URL is in the modules, not in the markup


# ---- HTML


def test_html_shows_every_value_and_the_qr_inline() -> None:
    page = render_html(VIEW)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    for value in (
        "食品经营许可证",
        "JY13301020000017",
        "老张面馆(张三)",
        "杭州市上城区市场监督管理局",
    ):
        assert value in page
    for label, value in VIEW.fields:
        assert f'<th scope="row">{label}</th><td>{value}</td>' in page
    assert "发证日期：</dt><dd>2025年1月2日" in page
    assert "有效期至：</dt><dd>2030年1月1日" in page
    assert page.count("<svg") == 1 and qr_svg(URL) in page
    assert "扫码核验" in page
    assert "@page { size: A4; margin: 15mm; }" in page
    assert "已撤销" not in page and "已过期" not in page


def test_html_loads_nothing_from_outside() -> None:
    page = render_html(VIEW).lower()
    for needle in ("<link", "<script", "@import", "url(", "src=", "http", "//"):
        assert needle not in page, needle


def test_html_escapes_user_values() -> None:
    page = render_html(HOSTILE)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert page.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 3
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;粗&lt;/b&gt;" in page


def test_html_without_expiry_says_long_term() -> None:
    page = render_html(replace(VIEW, expires_on=None))
    assert "有效期：</dt><dd>长期" in page and "有效期至" not in page


# ---- PDF


def test_pdf_is_one_a4_page_with_the_chinese_text() -> None:
    pdf = render_pdf(VIEW)
    assert pdf.startswith(b"%PDF")
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert [round(float(x)) for x in page.mediabox] == [0, 0, 595, 842]
    text = pdf_text(pdf)
    expected = [
        "食品经营许可证",
        "证号：JY13301020000017",
        "持证人",
        "老张面馆(张三)",
        "杭州市上城区解放路123号",
        "热食类食品制售",
        "发证机关：杭州市上城区市场监督管理局",
        "发证日期：2025年1月2日",
        "有效期至：2030年1月1日",
        "扫码核验",
    ]
    for value in expected:
        assert value in text, value
    assert "已撤销" not in text and "已过期" not in text


def test_pdf_uses_only_the_builtin_chinese_font() -> None:
    fonts = pypdf.PdfReader(io.BytesIO(render_pdf(VIEW))).pages[0]["/Resources"]["/Font"]
    assert [font.get_object()["/BaseFont"] for font in fonts.values()] == ["/STSong-Light"]


def test_pdf_user_markup_is_plain_text() -> None:
    pdf = render_pdf(HOSTILE)
    text = pdf_text(pdf)
    assert f"老张{SCRIPT}" in text and f"某局{SCRIPT}" in text
    assert '<img src=x onerror="alert(1)"> & <b>粗</b>' in text
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert "/OpenAction" not in reader.trailer["/Root"] and "/Names" not in reader.trailer["/Root"]
    assert "/Annots" not in reader.pages[0] and "/AA" not in reader.pages[0]
    for name in (b"/JavaScript", b"/JS", b"/Launch", b"/URI", b"/EmbeddedFile"):
        assert name not in pdf


def test_pdf_qr_decodes_to_the_verify_url() -> None:
    image = pdf_image(render_pdf(VIEW))
    assert decode(image) == [URL]


def test_pdf_without_expiry_says_long_term() -> None:
    assert "有效期：长期" in pdf_text(render_pdf(replace(VIEW, expires_on=None)))


def test_pdf_multiline_values_keep_their_lines() -> None:
    view = replace(VIEW, fields=(("经营场所", "解放路123号\n（临街商铺）"),))
    assert re.search(r"解放路123号\s*\n\s*（临街商铺）", pdf_text(render_pdf(view)))


def test_many_fields_shrink_to_one_page_and_too_many_fail() -> None:
    fields = tuple((f"项目{i}", "热食类食品制售；冷食类食品制售；自制饮品制售") for i in range(16))
    text = pdf_text(render_pdf(replace(VIEW, fields=fields)))
    assert "项目15" in text and "扫码核验" in text
    with pytest.raises(ValueError, match="one A4 page"):
        render_pdf(replace(VIEW, fields=fields * 5))


# ---- status marks


@pytest.mark.parametrize(("status", "mark"), [("revoked", "已撤销"), ("expired", "已过期")])
def test_invalid_certificates_are_marked(status: str, mark: str) -> None:
    view = replace(VIEW, status=status)
    page = render_html(view)
    assert f'<div class="mark" role="status">{mark}</div>' in page
    assert f"<title>食品经营许可证 JY13301020000017（{mark}）</title>" in page
    pdf = render_pdf(view)
    assert mark in pdf_text(pdf)
    assert decode(pdf_image(pdf)) == [URL]  # the mark does not hide the QR code


def test_unknown_status_is_an_error() -> None:
    for render in (render_html, render_pdf):
        with pytest.raises(ValueError, match="unknown certificate status"):
            render(replace(VIEW, status="suspended"))
