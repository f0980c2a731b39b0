"""The 办件档案 an auditor can read (issue 20 · 2): the printed archive and the CSV speak in words —
events by name, data in the forms' words, local times, staff as they sign, the certificates and
notices issued, the log's signature when the archive carries one — and keep the codes, ids and
hashes for the appendix and the technical columns. Through the test client on both databases."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from typing import Any

import pytest

from engine.domain import signed_note
from engine.domain.model import EventType
from engine.services import Services, audit, case_archive, queries
from tests.e2e.test_pages_auditor import Centre
from tests.fixtures import restaurant as r

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# 补正, then accepted; the two reviews in parallel; the site inspection; 发证
PATH: list[tuple[str, dict[str, Any]]] = [
    ("intake", r.CORRECT),
    ("correction", r.CORRECTED),
    ("intake", r.ACCEPT),
    ("review_licence", r.LICENCE_OK),
    ("review_food", r.FOOD_OK_INSPECT),
    ("site_inspection", r.INSPECTION_OK),
    ("joint_issuance", r.ISSUANCE),
]


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    return Centre(services, users)


def _issued(centre: Centre) -> dict[str, Any]:
    case = centre.start()
    for element, data in PATH:
        centre.clock.advance(hours=1)
        case = centre.do(case, element, data)
    return case


def _text(markup: str) -> str:
    """What a reader sees: the markup without its tags, styles and attributes."""
    markup = re.sub(r"<style.*?</style>", "", markup, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", markup))


def _local(centre: Centre, at: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(at).astimezone(centre.svc.tz).strftime("%Y-%m-%d %H:%M")


def test_the_printed_archive_reads_like_a_document(centre: Centre) -> None:
    from engine.services import accounts

    accounts.edit_user(centre.svc, "front_desk", display_name="张敏", department="综合窗口")
    case = _issued(centre)
    events = queries.events(centre.svc, centre.users["auditor"], case["id"])
    centre.sign_in("auditor")
    page = centre.client.get(f"/audit/cases/{case['id']}/archive").get_data(as_text=True)
    body, marker, appendix = page.partition('<section class="sheet appendix">')
    assert marker, "the technical appendix comes last"
    shown = _text(body)

    # no codes, ids, raw JSON or UTC in the body
    for kind in EventType:
        assert re.search(rf"\b{kind.value}\b", shown) is None, kind.value
    assert not UUID.search(shown) and "+00:00" not in shown and not ISO_TIME.search(shown)
    assert "intake_decision" not in shown and "review_licence" not in shown and '{"' not in shown
    assert "completed" not in shown and "(办结)" not in shown
    # local times, said so, on every event
    assert "本档案中的时间均为当地时间" in shown
    for event in events:
        assert _local(centre, event["at"]) in shown
    # events and steps in words, staff as they sign
    table = _text(re.search(r'<table class="events">.*?</table>', body, re.S).group(0))  # type: ignore[union-attr]
    assert "收件" in table and "办理完成" in table and "统一发证" in table
    assert "营业执照审查" in table and "审查结论: 准予登记" in table
    assert "受理决定: 补正" in table and "系统" in table
    assert "张敏 (综合窗口)" in table and "front_desk" not in shown
    # the documents issued: the certificates and the notices with their dates
    certificates = _text(re.search(r'<table class="certificates">.*?</table>', body, re.S).group(0))  # type: ignore[union-attr]
    view = queries.get_case(centre.svc, centre.users["auditor"], case["id"])
    assert view["certificates"]
    for cert in view["certificates"]:
        assert cert["title"] in certificates and cert["number"] in certificates
        assert (cert["expires_on"] or "长期有效") in certificates
    notices = _text(re.search(r'<table class="notices">.*?</table>', body, re.S).group(0))  # type: ignore[union-attr]
    assert "补正材料告知书" in notices and "受理通知书" in notices
    assert "办件状态 已办结" in " ".join(shown.split())
    # the appendix keeps the codes and hashes
    assert "附录 技术校验信息" in appendix
    assert all(e["hash"] in appendix and e["state_hash"] in appendix for e in events)
    assert "task_completed" in appendix and UUID.search(appendix)
    # no log in this archive: no 日志签名 section
    archive = centre.client.get(f"/audit/cases/{case['id']}/export.json").json
    assert ("日志签名" in page) == bool(archive.get("log"))


def test_the_archive_shows_the_log_signature_it_carries(
    centre: Centre, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.services import tlog

    signer_text, _ = signed_note.generate_key("lianban.example/log")
    key = tmp_path / "log.key"
    key.write_text(signer_text)
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key))
    monkeypatch.setenv("LIANBAN_LOG_ORIGIN", "lianban.example/log")
    case = _issued(centre)
    tlog.sequence(centre.svc)
    checkpoint = tlog.sign(centre.svc)
    assert checkpoint is not None

    centre.sign_in("auditor")
    page = centre.client.get(f"/audit/cases/{case['id']}/archive").get_data(as_text=True)
    archive = centre.client.get(f"/audit/cases/{case['id']}/export.json").json
    assert archive["log"] and archive["log"]["size"] == checkpoint.size
    found = re.search(r'<table class="facts log-signature">.*?</table>', page, re.S)
    assert found, "the 日志签名 section"
    section = " ".join(_text(found.group(0)).split())
    assert "日志签名" in page and f"日志规模 {checkpoint.size} 条记录" in section
    assert "签名密钥 lianban.example/log" in section and checkpoint.root.hex() in section
    assert f"签名时间 {_local(centre, archive['log']['signed_at'])}" in section
    proofs = len(archive["log"]["proofs"])
    assert f"档案附有其中 {proofs} 条记录" in _text(page)
    # the note as signed stays in the appendix
    appendix = page.partition('<section class="sheet appendix">')[2]
    assert html_lib.escape(archive["log"]["checkpoint"].split("\n")[0]) in appendix


def test_the_csv_has_chinese_headers_and_local_times(centre: Centre) -> None:
    case = _issued(centre)
    events = queries.events(centre.svc, centre.users["auditor"], case["id"])
    centre.sign_in("auditor")
    response = centre.client.get(f"/audit/cases/{case['id']}/export.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == list(case_archive.CSV_COLUMNS)
    assert rows[0] == [
        "序号", "时间", "事件", "办理人", "环节", "内容",
        "事件类型代码", "任务编号", "环节编号", "数据(JSON)", "哈希", "状态哈希",
    ]  # fmt: skip
    assert len(rows) == 1 + len(events)
    by_seq = {int(row[0]): dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    for event in events:
        row = by_seq[event["seq"]]
        assert row["时间"] == _local(centre, event["at"])
        assert row["事件类型代码"] == event["type"] and row["哈希"] == event["hash"]
        assert "+00:00" not in row["内容"] and not UUID.search(row["内容"])
    licence = next(
        row
        for row in by_seq.values()
        if row["环节编号"] == "review_licence" and row["事件类型代码"] == "task_completed"
    )
    assert licence["环节"] == "营业执照审查" and "审查结论: 准予登记" in licence["内容"]
    issued = next(row for row in by_seq.values() if row["事件类型代码"] == "certificates_issued")
    assert issued["事件"] == "统一发证" and issued["办理人"] == "系统"
    # the API's CSV is the same table
    from engine.services import accounts

    token = accounts.reissue_token(centre.svc, "auditor")
    api = centre.client.get(
        f"/api/v1/cases/{case['id']}/export?format=csv",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.get_data(as_text=True).lstrip("\ufeff").splitlines()[0] == ",".join(
        case_archive.CSV_COLUMNS
    )


@pytest.mark.parametrize(
    ("path", "titles"),
    [
        ("refused_at_intake", ["不予受理通知书"]),
        ("denied_after_review", ["受理通知书", "不予许可决定书"]),
    ],
)
def test_the_archive_lists_the_notices_that_apply(
    centre: Centre, path: str, titles: list[str]
) -> None:
    case = centre.start()
    for element, data in r.PATHS[path][0]:
        case = centre.do(case, element, data)
    auditor = centre.users["auditor"]
    archive = audit.export(centre.svc, auditor, case["id"])
    view = case_archive.readable(centre.svc, auditor, case["id"], archive)
    assert [d["title"] for d in view["documents"]] == titles
    assert view["certificates"] == [] and view["facts"]["status"] == "已办结"
    today = centre.svc.today().isoformat()
    assert all(d["date"] == today for d in view["documents"])


def test_the_events_without_a_sentence_before_are_in_words() -> None:
    """预警, 视为受理 and 证照到期提醒 read as sentences, not as their data's keys."""
    from datetime import UTC, datetime

    from engine.domain.model import CaseEvent
    from engine.services.case_pages import describe

    at = datetime(2026, 9, 28, 1, tzinfo=UTC)
    names = {"review_food": "食品经营许可审查"}
    cases = [
        (
            EventType.TASK_WARNING,
            "review_food",
            {"deadline": "2026-10-09", "remaining_workdays": 1},
            "「食品经营许可审查」期限 2026-10-09, 还剩 1 个工作日",
        ),
        (
            EventType.INTAKE_WARNING,
            "intake",
            {"received_on": "2026-09-28", "intake_deadline": "2026-10-08", "remaining_workdays": 2},
            "2026-09-28 收件, 受理期限 2026-10-08, 还剩 2 个工作日",
        ),
        (
            EventType.INTAKE_DEEMED_ACCEPTED,
            "intake",
            {"received_on": "2026-09-28", "intake_deadline": "2026-10-08", "intake_workdays": 5},
            "2026-09-28 收件, 受理期限 2026-10-08, 逾期未作受理决定, 依法视为受理",
        ),
        (
            EventType.CERTIFICATE_REMINDER,
            None,
            {"number": "JY1", "expires_on": "2031-12-05", "days_left": 30, "sent_to": "138"},
            "证照 JY1 于 2031-12-05 到期 (还剩 30 天), 已提醒 138",
        ),
    ]
    for kind, element, data, words in cases:
        event = CaseEvent(1, 2, kind, "system", at, element=element, data=data)
        assert describe(event, names) == words
