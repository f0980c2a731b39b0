"""The 办件档案 as a reader reads it: the printed archive (HTML) and the CSV of its events.

`audit.export` gives the archive as data (the JSON export, machine-readable, unchanged). This
module puts that archive into words for the printed page and the spreadsheet:

- each event by its Chinese name (`EventType.label`), who did it as documents sign
  ("张敏 (综合窗口)"), the task by its name, and what it did in a sentence: `case_pages.describe`
  for every event, and for a completed step its decision, opinion and fields in the form's words
  (`case_record.labelled_data`); no raw JSON, codes or internal ids in the body;
- every time LOCAL (the centre's time zone, LIANBAN_TIMEZONE), written "2026-09-28 09:00";
- the documents issued: the certificates (title, number, valid until) and the notices the case
  printed (受理通知书, 补正材料告知书, 不予受理通知书, 不予许可决定书, 延期通知书,
  特别程序告知书, 听证告知书) with their dates;
- the signed checkpoint of the transparency log the archive carries (`archive["log"]`), if any;
- the technical appendix: each event's type code, task and element ids and hashes.

Read-only: nothing here writes.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.certificates import CertificateStatus
from engine.domain.model import CaseEvent, CaseStatus, EventType
from engine.domain.users import User

from . import case_record, desk, intake
from .case_pages import ACTOR_NAMES, describe, element_names, local_time

if TYPE_CHECKING:
    from .context import Services

TIME_FORMAT = "年-月-日 时:分"  # what local_time writes: "2026-09-28 09:00"

CSV_COLUMNS = (
    "序号",
    "时间",
    "事件",
    "办理人",
    "环节",
    "内容",
    # the technical columns: what the hash chain covers, for machines and verification
    "事件类型代码",
    "任务编号",
    "环节编号",
    "数据(JSON)",
    "哈希",
    "状态哈希",
)

# an ISO date-time in an event's data (stored in UTC): shown as local time
_ISO_TIME = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?"
)

_STATUS = {str(s): s.label for s in CaseStatus}
_CERTIFICATE_STATUS = {str(s): s.label for s in CertificateStatus}


def _local(svc: Services, text: str) -> str:
    """`text` with every ISO date-time in it written as local time (a time without an offset
    is UTC, as the engine stores it)."""

    def local(found: re.Match[str]) -> str:
        offset = found.group(3) or "+00:00"
        offset = "+00:00" if offset == "Z" else offset
        try:
            at = datetime.fromisoformat(f"{found.group(1)}T{found.group(2)}:00{offset}")
        except ValueError:
            return found.group(0)
        return local_time(svc, at)

    return _ISO_TIME.sub(local, text)


def _step_words(step: Mapping[str, Any]) -> str:
    """A completed step in the form's words: "审查结论: 准予登记; 审查意见: 同意; ..."."""
    parts = []
    for part in (step.get("decision"), step.get("opinion")):
        if part:
            parts.append(f"{part['label']}: {part['text']}")
    for field in step.get("fields", []):
        parts.append(f"{field['label']}: {field['text']}")
    if step.get("note"):
        parts.append(str(step["note"]))
    if step.get("undone"):
        parts.append(f"(第 {step['undone']['seq']} 步{step['undone']['label']})")
    return "; ".join(parts)


def _content(
    svc: Services,
    event: CaseEvent,
    names: Mapping[str, str],
    step: Mapping[str, Any] | None,
    record: Mapping[str, Any],
    bundle_name: str,
) -> str:
    """What the event did, in words, without repeating the task's name (its own column)."""
    task = names.get(event.element or "", event.element or "")
    data = event.data
    if event.type == EventType.CASE_STARTED:
        text = f"申请「{bundle_name}」(第 {data.get('version', '')} 版)"
        if data.get("agent"):
            agent = data["agent"].get("name")
            text += f", 帮办代办: {agent} 代 {data['on_behalf_of'].get('name')} 申请"
        return text
    if event.type == EventType.CASE_DATA_CORRECTED:
        labels = record.get("labels") or {}
        titles = record.get("value_titles") or {}

        def words(name: str, value: Any) -> str:
            titled = titles.get(name, {}).get(json.dumps(value, ensure_ascii=False))
            return str(titled or case_record.show_value(value, None, {})["text"])

        changes = []
        for name, change in (data.get("fields") or {}).items():
            if isinstance(change, Mapping):
                old, new = words(name, change.get("old")), words(name, change.get("new"))
                changes.append(f"{labels.get(name, name)}: {old} → {new}")
        return _local(svc, "; ".join(changes))
    detail = describe(event, names)
    if task and detail.startswith(task):
        detail = detail[len(task) :].strip(" ;,")
    detail = detail.replace("→ 转入 ", "转入: ").replace("→ 重新办理 ", "重新办理: ")
    if step is not None:
        detail = "; ".join(p for p in (_step_words(step), detail) if p)
    return _local(svc, detail)


def _who(actor: str, signatures: Mapping[str, str]) -> str:
    return ACTOR_NAMES.get(actor) or signatures.get(actor, actor)


def _documents(svc: Services, version: Any, events: list[CaseEvent]) -> list[dict[str, Any]]:
    """The notices the case printed, in order, each {title, date, seq, note}."""
    found: list[dict[str, Any]] = []

    def add(title: str, event: CaseEvent, note: str = "") -> None:
        found.append(
            {
                "title": title,
                "date": event.at.astimezone(svc.tz).date().isoformat(),
                "seq": event.seq,
                "note": note,
            }
        )

    for kind, event in desk.notice_events(version, events).items():
        add(desk.NOTICE_TITLES[kind], event)
    for event in intake.corrections(version, events):
        add("补正材料告知书", event)
    for event in events:
        data = event.data
        if event.type == EventType.EXTENSION_GRANTED:
            add(
                "延期通知书",
                event,
                f"延期 {data.get('workdays')} 个工作日, 期限延至 {data.get('deadline')}",
            )
        elif event.type == EventType.CLOCK_PAUSED and isinstance(data.get("procedure"), dict):
            add("特别程序告知书", event, str(data["procedure"].get("label") or ""))
        elif event.type == EventType.HEARING_RIGHTS_NOTIFIED:
            add("听证告知书", event, f"可在 {data.get('request_by')} 前要求听证")
        elif event.type == EventType.CASE_COMPLETED:
            outcome = data.get("outcome") or {}
            name = str(outcome.get("name") or "")
            if "不予许可" in name or "不予批准" in name:
                add("不予许可决定书", event)
    found.sort(key=lambda d: d["seq"])
    return found


def _certificates(case: Mapping[str, Any], events: list[CaseEvent]) -> list[dict[str, Any]]:
    """The certificates issued: title, number, issued on, valid until, status in words."""
    kept = case.get("certificates") or []
    if kept:
        return [
            {
                "title": c["title"],
                "number": c["number"],
                "issued_on": c.get("issued_on") or "",
                "expires_on": c.get("expires_on") or "长期有效",
                "status": _CERTIFICATE_STATUS.get(str(c.get("status")), str(c.get("status"))),
            }
            for c in kept
        ]
    issued = []
    for event in events:
        if event.type == EventType.CERTIFICATES_ISSUED:
            for c in event.data.get("certificates") or []:
                issued.append(
                    {
                        "title": c.get("title"),
                        "number": c.get("number"),
                        "issued_on": "",
                        "expires_on": c.get("expires_on") or "长期有效",
                        "status": "",
                    }
                )
    return issued


def log_signature(svc: Services, log: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The signed checkpoint an archive carries (`archive["log"]`, engine/services/
    archive_proofs.py), read for the page: origin, size, root (hex), the names of the keys that
    signed, the signing time (local), how many of the case's events it proves and how many came
    after it (`pending`). None without one."""
    if not log or not log.get("checkpoint"):
        return None
    note = str(log["checkpoint"])
    body, _, signatures = note.partition("\n\n")
    lines = body.split("\n")
    root = lines[2] if len(lines) > 2 else ""
    try:
        root = base64.b64decode(root, validate=True).hex()
    except (binascii.Error, ValueError):
        pass
    signers = []
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == "\u2014":
            signers.append(parts[1])
    signed_at = log.get("signed_at")
    return {
        "origin": lines[0] if lines else "",
        "size": log.get("size") or (lines[1] if len(lines) > 1 else ""),
        "root": root,
        "signers": signers,
        "signed_at": local_time(svc, str(signed_at)) if signed_at else "",
        "proofs": len(log.get("proofs") or []),
        "pending": len(log.get("pending") or []),
    }


def _event(case_id: int, found: Mapping[str, Any]) -> CaseEvent:
    """An event of the archive (`CaseEvent.to_dict`) as the engine's object."""
    return CaseEvent(
        case_id=case_id,
        seq=int(found["seq"]),
        type=EventType(found["type"]),
        actor=str(found["actor"]),
        at=datetime.fromisoformat(str(found["at"])),
        task_id=found.get("task"),
        element=found.get("element"),
        data=dict(found.get("data") or {}),
        hash=str(found.get("hash") or ""),
        state_hash=str(found.get("state_hash") or ""),
    )


def readable(svc: Services, user: User, case_id: int, archive: Mapping[str, Any]) -> dict[str, Any]:
    """The archive in words, for the printed 办件档案 and the CSV: `record` (the case's record,
    `case_record.labelled_data`), `facts` (the case's header), `events` (each {seq, at, label,
    who, task, content, and the technical type, task_id, element, data, hash, state_hash}),
    `documents`, `certificates`, `log` (or None), `exported` ({by, at}) and `time_note`."""
    record = case_record.labelled_data(svc, user, case_id)
    with svc.uow() as uow:
        case_row = uow.cases.existing(case_id)
        version, runtime = svc.runtimes.get(uow, case_row.bundle_version_id)
    # the events as the archive holds them (not read again: the page shows what was exported)
    events = [_event(case_id, e) for e in archive["events"]]
    names = element_names(runtime)
    signatures = archive.get("signatures") or {}
    case = archive["case"]
    steps = {step["seq"]: step for step in record["steps"]}
    bundle = archive["bundle"]
    rows = []
    for event in events:
        rows.append(
            {
                "seq": event.seq,
                "at": local_time(svc, event.at),
                "label": event.type.label,
                "who": _who(event.actor, signatures),
                "task": names.get(event.element or "", event.element or "")
                if event.element
                else "",
                "content": _content(
                    svc, event, names, steps.get(event.seq), record, str(bundle["name"])
                ),
                "type": str(event.type),
                "task_id": event.task_id or "",
                "element": event.element or "",
                "data": event.data,
                "hash": event.hash,
                "state_hash": event.state_hash,
            }
        )
    outcome = case.get("outcome") or {}
    tz_name = str(getattr(svc.tz, "key", svc.tz))
    return {
        "record": record,
        "facts": {
            "status": _STATUS.get(str(case.get("status")), str(case.get("status"))),
            "outcome": outcome.get("name") if isinstance(outcome, Mapping) else None,
            "received_at": local_time(svc, case.get("created_at")),
            "ended_at": local_time(svc, case.get("ended_at")),
            "deadline": case.get("deadline") or "",
            "statutory_deadline": case.get("statutory_deadline") or "",
        },
        "events": rows,
        "documents": _documents(svc, version, events),
        "certificates": _certificates(case, events),
        "log": log_signature(svc, archive.get("log")),
        "exported": {
            "by": _who(str(archive["exported_by"]), signatures),
            "at": local_time(svc, archive["exported_at"]),
        },
        "time_note": f"本档案中的时间均为当地时间 ({tz_name}), 格式: {TIME_FORMAT}",
    }


def events_csv(svc: Services, user: User, case_id: int, archive: Mapping[str, Any]) -> str:
    """The history as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese right), with
    Chinese headers: the readable columns first (local times), then the technical ones the hash
    chain covers (`CSV_COLUMNS`)."""
    view = readable(svc, user, case_id, archive)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in view["events"]:
        writer.writerow(
            [
                row["seq"],
                row["at"],
                row["label"],
                row["who"],
                row["task"],
                row["content"],
                row["type"],
                row["task_id"],
                row["element"],
                json.dumps(row["data"], ensure_ascii=False, sort_keys=True),
                row["hash"],
                row["state_hash"],
            ]
        )
    return out.getvalue()
