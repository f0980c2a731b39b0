"""The printed 办件档案 an auditor reads (issue 20 · 2), in Chromium: a restaurant case with 补正,
the two reviews in parallel, the site inspection and 发证; on screen and as A4 print."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.domain import signed_note
from engine.services import Services, tlog
from tests.fixtures import restaurant as r

from .conftest import SCREENSHOTS, Pages
from .test_case_record import TO_INSPECTION, _complete
from .test_cases import drive

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_the_printed_archive_reads_as_a_document(
    pages: Pages,
    staff: dict[str, Any],
    live_services: Services,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = drive(live_services, staff, [*TO_INSPECTION, ("site_inspection", r.INSPECTION_OK)])
    case = _complete(live_services, staff, case, "joint_issuance", r.ISSUANCE)
    # the log signed a checkpoint with the case's events in it
    key = tmp_path / "log.key"
    key.write_text(signed_note.generate_key("lianban.example/log")[0])
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key))
    monkeypatch.setenv("LIANBAN_LOG_ORIGIN", "lianban.example/log")
    tlog.sequence(live_services)
    assert tlog.sign(live_services) is not None

    page = pages.new("auditor")
    pages.goto(page, f"/audit/cases/{case['id']}/archive")
    body = "\n".join(
        page.locator(f"section.{name}").inner_text()
        for name in ("archive-facts", "archive-documents", "archive-events", "archive-signatures")
    )
    assert "task_completed" not in body and "case_started" not in body
    assert not UUID.search(body) and "+00:00" not in body and "review_licence" not in body
    assert "本档案中的时间均为当地时间" in body and "补正材料告知书" in body
    assert "统一发证" in page.locator("table.events").inner_text()
    assert page.locator("table.certificates tr").count() >= 2
    assert "lianban.example/log" in page.locator("table.log-signature").inner_text()
    appendix = page.locator("section.appendix").inner_text()
    assert "附录 技术校验信息" in appendix and UUID.search(appendix)
    pages.shot(page, "20E-case-archive")

    # A4 print: the sections start on their own pages
    page.emulate_media(media="print")
    pages.shot(page, "20E-case-archive-print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(SCREENSHOTS / "20E-case-archive.pdf"), format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 5  # five parts, each from a new page
