"""Write the 开办餐馆证照联办申请表 of processes/restaurant_joint as PDF: the blank form (空白表格) and a
filled-in sample (样表) that the public 办事指南 offers for download (bundle.json's
materials[].blank_form and materials[].sample).

The rows are the fields of the bundle's 一表申请 form (forms/restaurant/application.json), so the
paper form asks what the online one asks. Run from the project root after changing that form:

    .venv/bin/python scripts/make_guide_forms.py

The text uses the Adobe CJK font STSong-Light, which PDF readers provide (nothing is embedded, so
the files stay small); the output is reproducible (no creation date, fixed document id).
"""

from __future__ import annotations

import json
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
FORM = ROOT / "forms" / "restaurant" / "application.json"
OUT = ROOT / "processes" / "restaurant_joint" / "files"
FONT = "STSong-Light"

SAMPLE = {
    "applicant_name": "张明",
    "applicant_id_number": "330102199001011234",
    "shop_name": "上城区张记面馆",
    "shop_address": "杭州市上城区解放东路 20 号一楼",
    "business_scope": "热食类食品制售",
    "premises_area_m2": "60",
    "contact_phone": "13800000000",
    "application_channel": "窗口",
    "agent_name": "(本人办理, 不填)",
    "agent_id_number": "",
    "agent_phone": "",
}
SKIPPED = {"application_channel"}  # said by the way it is filed, not written on paper


def _rows() -> list[tuple[str, str]]:
    schema = json.loads(FORM.read_text(encoding="utf-8"))
    return [
        (name, str(field.get("title") or name))
        for name, field in schema.get("properties", {}).items()
        if name not in SKIPPED
    ]


def _draw(path: Path, sample: bool) -> None:
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle("开办餐馆证照联办申请表" + (" (样表)" if sample else ""))
    pdf.setAuthor("杭州市上城区市场监督管理局")
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    pdf.setFont(FONT, 18)
    pdf.drawCentredString(width / 2, height - 28 * mm, "开办餐馆证照联办申请表")
    pdf.setFont(FONT, 10)
    pdf.drawCentredString(width / 2, height - 36 * mm, "(营业执照设立登记与食品经营许可一表申请)")
    if sample:
        pdf.saveState()
        pdf.setFillGray(0.85)
        pdf.setFont(FONT, 80)
        pdf.translate(width / 2, height / 2)
        pdf.rotate(35)
        pdf.drawCentredString(0, 0, "样 表")
        pdf.restoreState()
    top = height - 46 * mm
    row = 12 * mm
    split = left + 62 * mm
    rows = _rows()
    pdf.setLineWidth(0.7)
    for i, (name, title) in enumerate(rows):
        y = top - i * row
        pdf.rect(left, y - row, right - left, row)
        pdf.line(split, y, split, y - row)
        pdf.setFont(FONT, 10.5)
        pdf.drawString(left + 3 * mm, y - row / 2 - 3.5, title)
        if sample and SAMPLE.get(name):
            pdf.setFont(FONT, 11)
            pdf.drawString(split + 3 * mm, y - row / 2 - 3.5, SAMPLE[name])
    y = top - len(rows) * row - 12 * mm
    pdf.setFont(FONT, 10.5)
    pdf.drawString(
        left, y, "申请人承诺: 所填内容和提交的材料真实、有效, 如有不实, 愿承担相应的法律责任。"
    )
    signed = "张明" if sample else ""
    dated = "2026 年 3 月 2 日" if sample else "      年    月    日"
    pdf.drawString(left, y - 14 * mm, f"申请人签字(盖章): {signed}")
    pdf.drawString(right - 60 * mm, y - 14 * mm, f"日期: {dated}")
    pdf.setFont(FONT, 9)
    pdf.drawString(
        left,
        18 * mm,
        "填写说明: 用黑色钢笔或签字笔填写, 字迹工整; 委托他人办理的, 填写帮办代办人栏目并附授权委托书。",
    )
    pdf.showPage()
    pdf.save()


def main() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    OUT.mkdir(parents=True, exist_ok=True)
    _draw(OUT / "application_form_blank.pdf", sample=False)
    _draw(OUT / "application_form_sample.pdf", sample=True)
    for path in sorted(OUT.glob("*.pdf")):
        print(path.relative_to(ROOT), path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
