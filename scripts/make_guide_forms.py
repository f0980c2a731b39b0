"""Write each catalogue bundle's 一表申请 as PDF: the blank form (空白表格) and a filled-in sample
(样表) that the public 办事指南 offers for download (bundle.json's `materials[].blank_form` and
`materials[].sample` of its `application_form` material).

The rows are the fields of the bundle's start form (the `formKey` of its start event, under
`forms/`), so the paper form asks what the online one asks; a choice field lists its options as
boxes (□), ticked (■) on the sample. The sample's values are the fictional application the
bundle's tests start with (`tests/fixtures/<key>.py`). Run from the project root after changing
a start form:

    .venv/bin/python scripts/make_guide_forms.py

The files go beside the bundle's `bundle.json` (`processes/<key>/application_form_blank.pdf`),
except 我要开餐馆's, which `processes/restaurant_joint/files/` holds (the restaurant bundle's
tests upload its BPMN and `bundle.json` alone). The text uses the Adobe CJK font STSong-Light,
which PDF readers provide (nothing is embedded, so the files stay small); the output is
reproducible (no creation date, fixed document id).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
FONT = "STSong-Light"
BLANK, SAMPLE = "application_form_blank.pdf", "application_form_sample.pdf"
# bundle -> (where its files go, the fixture holding its sample application)
BUNDLES: dict[str, tuple[str, str]] = {
    "restaurant": ("restaurant_joint/files", "restaurant:APPLICATION"),
    "newborn": ("newborn", "newborn:APPLICATION"),
    "convenience_store": ("convenience_store", "convenience_store:BULK_TOBACCO"),
    "pharmacy": ("pharmacy", "pharmacy:APPLICATION"),
    "hotel": ("hotel", "hotel:APPLICATION"),
    "company_setup": ("company_setup", "company_setup:APPLICATION"),
    "company_deregistration": ("company_deregistration", "company_deregistration:BASE"),
    "disability_allowance": ("disability_allowance", "disability_allowance:APPLICATION"),
}
SKIPPED = {"application_channel"}  # said by the way it is filed, not written on paper
TOP, BOTTOM, ROW = 46 * mm, 30 * mm, 10 * mm


def _start_form(key: str) -> dict[str, Any]:
    bpmn = (ROOT / "processes" / key / f"{key}.bpmn").read_text(encoding="utf-8")
    found = re.search(r"<bpmn:startEvent\b[^>]*camunda:formKey=\"([^\"]+)\"", bpmn)
    if found is None:
        raise SystemExit(f"{key}: the start event names no form")
    form: dict[str, Any] = json.loads((ROOT / "forms" / found.group(1)).read_text("utf-8"))
    return form


def _choices(field: Mapping[str, Any]) -> list[tuple[Any, str]]:
    if isinstance(field.get("oneOf"), list):
        return [(o.get("const"), str(o.get("title", o.get("const")))) for o in field["oneOf"]]
    if isinstance(field.get("enum"), list):
        return [(v, str(v)) for v in field["enum"]]
    if field.get("type") == "boolean":
        return [(True, "是"), (False, "否")]
    items = field.get("items")
    if field.get("type") == "array" and isinstance(items, Mapping):
        return _choices(items)
    return []


def _cell(field: Mapping[str, Any], value: Any, sample: bool) -> str:
    """What the right-hand cell says: the value, or the options as boxes."""
    options = _choices(field)
    if options:
        chosen = value if isinstance(value, list) else [value]
        marks = [("■" if sample and v in chosen else "□") + title for v, title in options]
        return "  ".join(marks)
    if not sample or value is None or value == "":
        return ""
    return str(value)


def _sample(spec: str) -> dict[str, Any]:
    module, name = spec.split(":")
    sys.path.insert(0, str(ROOT))
    found: dict[str, Any] = getattr(importlib.import_module(f"tests.fixtures.{module}"), name)
    return found


def _lines(text: str, size: float, width: float) -> list[str]:
    """`text` cut into lines no wider than `width` points."""
    lines, current = [], ""
    for char in text:
        if pdfmetrics.stringWidth(current + char, FONT, size) > width and current:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current] if current else lines or [""]


def _draw(path: Path, key: str, sample: bool) -> None:
    meta = json.loads((ROOT / "processes" / key / "bundle.json").read_text(encoding="utf-8"))
    title = next(m["name"] for m in meta["materials"] if m["code"] == "application_form")
    form = _start_form(key)
    data = _sample(BUNDLES[key][1]) if sample else {}
    fields = [(n, f) for n, f in form.get("properties", {}).items() if n not in SKIPPED]
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(title + (" (样表)" if sample else ""))
    pdf.setAuthor(meta.get("issuer") or meta["name"])
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    split = left + 58 * mm

    def page_head(first: bool) -> float:
        if sample:
            pdf.saveState()
            pdf.setFillGray(0.85)
            pdf.setFont(FONT, 80)
            pdf.translate(width / 2, height / 2)
            pdf.rotate(35)
            pdf.drawCentredString(0, 0, "样 表")
            pdf.restoreState()
        if not first:
            pdf.setFont(FONT, 10)
            pdf.drawString(left, height - 20 * mm, f"{title} (续)")
            return height - 26 * mm
        pdf.setFont(FONT, 17)
        pdf.drawCentredString(width / 2, height - 28 * mm, title)
        pdf.setFont(FONT, 10)
        pdf.drawCentredString(width / 2, height - 36 * mm, f"({meta['name']})")
        return height - TOP

    y = page_head(first=True)
    pdf.setLineWidth(0.7)
    for name, field in fields:
        label = _lines(str(field.get("title") or name), 10, split - left - 5 * mm)
        value = _lines(_cell(field, data.get(name), sample), 10, right - split - 5 * mm)
        height_of = max(ROW, (max(len(label), len(value)) * 5 + 4) * mm)
        if y - height_of < BOTTOM:
            pdf.showPage()
            y = page_head(first=False)
            pdf.setLineWidth(0.7)
        pdf.rect(left, y - height_of, right - left, height_of)
        pdf.line(split, y, split, y - height_of)
        pdf.setFont(FONT, 10)
        for i, line in enumerate(label):
            pdf.drawString(left + 3 * mm, y - 6.5 * mm - i * 5 * mm, line)
        for i, line in enumerate(value):
            pdf.drawString(split + 3 * mm, y - 6.5 * mm - i * 5 * mm, line)
        y -= height_of
    if y - 30 * mm < BOTTOM:
        pdf.showPage()
        y = page_head(first=False)
    y -= 10 * mm
    pdf.setFont(FONT, 10)
    pdf.drawString(
        left, y, "申请人承诺: 所填内容和提交的材料真实、有效, 如有不实, 愿承担相应的法律责任。"
    )
    applicant = meta.get("applicant", {}).get("name_field", "applicant_name")
    signed = str(data.get(applicant, "")) if sample else ""
    dated = "2026 年 3 月 2 日" if sample else "      年    月    日"
    pdf.drawString(left, y - 12 * mm, f"申请人签字(盖章): {signed}")
    pdf.drawString(right - 60 * mm, y - 12 * mm, f"日期: {dated}")
    pdf.setFont(FONT, 9)
    pdf.drawString(
        left,
        18 * mm,
        "填写说明: 用黑色钢笔或签字笔填写, 字迹工整; 选项在 □ 内打勾; 委托他人办理的, 附授权委托书。",
    )
    pdf.showPage()
    pdf.save()


def main() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    for key, (where, _) in BUNDLES.items():
        out = ROOT / "processes" / where
        out.mkdir(parents=True, exist_ok=True)
        _draw(out / BLANK, key, sample=False)
        _draw(out / SAMPLE, key, sample=True)
        for name in (BLANK, SAMPLE):
            print((out / name).relative_to(ROOT), (out / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
