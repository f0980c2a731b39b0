"""The auditors' case search: criteria checked and read, cases found, each with its deadline mark.

Read-only: nothing here writes. Each case found carries its latest stored verification
(engine/services/verifications.py), so a tampered case is flagged in the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from engine.domain.bundle_metadata import ApplicantFields, BundleMetadata
from engine.domain.model import CaseStatus
from engine.domain.timelimits import Timeliness
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid
from engine.persistence.search_repository import CaseFilter, CaseRow, SearchRepository

from .case_pages import local_time

if TYPE_CHECKING:
    from .context import Services

DEFAULT_PAGE = 25
MAX_PAGE = 100
MAX_APPLICANT = 100
MAX_NUMBER = 2**63 - 1  # the largest case id (a signed 64-bit column)
_STATUSES = frozenset(str(s) for s in CaseStatus)


# -- the case search ----------------------------------------------------------------------------


def _problem(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "element": None, "message": message}


def _text(criteria: Mapping[str, Any], key: str) -> str:
    value = criteria.get(key)
    return value.strip() if isinstance(value, str) else ""


def _day(criteria: Mapping[str, Any], key: str, problems: list[dict[str, Any]]) -> date | None:
    text = _text(criteria, key)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_problem(key, "日期格式应为 年-月-日, 如 2026-03-02"))
        return None


def _whole(
    criteria: Mapping[str, Any],
    key: str,
    problems: list[dict[str, Any]],
    message: str,
    low: int = 1,
    high: int | None = None,
) -> int | None:
    text = _text(criteria, key)
    if not text:
        return None
    # ASCII digits only (`isdigit` alone takes "²", which `int` refuses), and no more than a
    # 64-bit column holds: a 23-digit number is a problem to show, not a database error.
    top = MAX_NUMBER if high is None else min(high, MAX_NUMBER)
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(top)):
        problems.append(_problem(key, message))
        return None
    value = int(text)
    if not low <= value <= top:
        problems.append(_problem(key, message))
        return None
    return value


def _parse(criteria: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    problems: list[dict[str, Any]] = []
    number = _text(criteria, "number").lstrip("#")
    parsed: dict[str, Any] = {
        "number": _whole({"number": number}, "number", problems, "办件编号应为正整数 (至多 19 位)"),
        "applicant": _text(criteria, "applicant") or None,
        "id_number": _text(criteria, "id_number") or None,
        "bundle": _text(criteria, "bundle") or None,
        "received_from": _day(criteria, "received_from", problems),
        "received_to": _day(criteria, "received_to", problems),
        "status": _text(criteria, "status") or None,
        "overdue": _text(criteria, "overdue") in ("1", "on", "true", "yes"),
        "limit": _whole(
            criteria, "limit", problems, f"每页条数应在 1 到 {MAX_PAGE} 之间", high=MAX_PAGE
        )
        or DEFAULT_PAGE,
        "after": _whole(criteria, "after", problems, "分页位置无效"),
    }
    if parsed["applicant"] and len(parsed["applicant"]) > MAX_APPLICANT:
        problems.append(_problem("applicant", f"申请人不超过 {MAX_APPLICANT} 个字"))
    if parsed["id_number"] and len(parsed["id_number"]) > MAX_APPLICANT:
        problems.append(_problem("id_number", f"证件号码不超过 {MAX_APPLICANT} 个字"))
    if parsed["status"] is not None and parsed["status"] not in _STATUSES:
        problems.append(_problem("status", "状态无效"))
    start, end = parsed["received_from"], parsed["received_to"]
    if start and end and start > end:
        problems.append(_problem("received_to", "结束日期不能早于开始日期"))
    return parsed, problems


def _applicant_fields(
    metadata: list[BundleMetadata],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    default = ApplicantFields()
    names, ids = {default.name_field}, {default.id_field}
    for meta in metadata:
        names.add(meta.applicant.name_field)
        ids.add(meta.applicant.id_field)
    return tuple(sorted(names)), tuple(sorted(ids))


def _row_view(svc: Services, row: CaseRow, today: date, calendar: Any) -> dict[str, Any]:
    warning = row.meta.time_policy.warning
    clock = row.clock.refreshed(calendar)
    fields = row.meta.applicant
    name = row.data.get(fields.name_field)
    applicant = {"name": name, "id_number": row.data.get(fields.id_field)} if name else None
    timeliness = str(clock.timeliness(today, calendar, warning))
    return {
        "id": row.id,
        "bundle": row.bundle_key,
        "bundle_name": row.bundle_name,
        "version": row.version,
        "applicant": applicant,
        "status": str(row.status),
        "status_label": row.status.label,
        "outcome": row.outcome,
        "received_at": local_time(svc, row.created_at),
        "ended_at": local_time(svc, row.ended_at),
        "deadline": clock.deadline.isoformat() if clock.deadline else None,
        "clock": str(clock.state),
        "timeliness": timeliness,
        "remaining_workdays": clock.remaining(today, calendar),
    }


def bundle_choices(svc: Services) -> list[dict[str, str]]:
    """Every bundle (key, name) for the search form's choice."""
    with svc.uow() as uow:
        return [{"key": k, "name": n} for k, n in SearchRepository(uow.conn).bundle_choices()]


def search_cases(svc: Services, user: User, criteria: Mapping[str, Any]) -> dict[str, Any]:
    """Cases matching the criteria (strings, as a search form sends them), newest first.

    number (办件编号), applicant (part of the applicant's name: one or two characters match the
    name's start, a surname or a whole name, three or more anywhere; or the exact id number),
    bundle (key), received_from / received_to (local dates, inclusive), status, overdue (only
    cases past their 承诺期限: running late now, or ended late), limit, after (the `next` of the
    page before). Raises Invalid with each problem by field."""
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以查询办件")
    return find_cases(svc, criteria)


def find_cases(svc: Services, criteria: Mapping[str, Any]) -> dict[str, Any]:
    """`search_cases` without asking who searches: the caller has checked (the window's staff
    search, engine/services/desk.py, lets clerks search too). id_number: the applicant's id
    number, exactly."""
    parsed, problems = _parse(criteria)
    if problems:
        raise Invalid("查询条件有误", problems)
    today = svc.today()
    limit: int = parsed["limit"]
    with svc.uow() as uow:
        repo = SearchRepository(uow.conn)
        choices = repo.bundle_choices()
        name_fields, id_fields = (
            _applicant_fields(repo.version_metadata(parsed["bundle"]))
            if parsed["applicant"] or parsed["id_number"]
            else ((), ())
        )
        start, end = parsed["received_from"], parsed["received_to"]
        wanted = CaseFilter(
            number=parsed["number"],
            applicant=parsed["applicant"],
            name_fields=name_fields,
            id_fields=id_fields,
            id_number=parsed["id_number"],
            bundle_key=parsed["bundle"],
            received_from=svc.local_midnight(start) if start else None,
            received_before=svc.local_midnight(end + timedelta(days=1)) if end else None,
            status=CaseStatus(parsed["status"]) if parsed["status"] else None,
            late_on=today if parsed["overdue"] else None,
        )
        calendar = svc.calendars.get(uow)
        found: list[dict[str, Any]] = []
        cursor = parsed["after"]
        more = False
        # Overdue is decided exactly on the calendar; the query's own test only narrows it
        # down (a weekend after the deadline is not yet 超期), so a page may need more rows.
        while True:
            rows = repo.search(wanted, limit + 1, cursor)
            for row in rows:
                view = _row_view(svc, row, today, calendar)
                if parsed["overdue"] and view["timeliness"] != Timeliness.OVERDUE:
                    continue
                if len(found) == limit:
                    more = True
                    break
                found.append(view)
            if more or len(rows) <= limit:
                break
            cursor = rows[-1].id
        # issue 20: a case whose latest verification failed is flagged, not shown as 正常
        checked = uow.verifications.latest([c["id"] for c in found])
    for view in found:
        v = checked.get(view["id"])
        view["verification"] = (
            None
            if v is None
            else {
                "ok": v.ok,
                "verified_at": v.verified_at.isoformat(),
                "first_bad_seq": v.first_bad_seq,
                "reason": v.reason,
                # as verifications.flag_text words it (not imported: it searches through here)
                "flag": None if v.ok else f"校验失败: 第 {v.first_bad_seq} 步 {v.reason or ''}",
            }
        )
    shown = {k: v for k, v in parsed.items() if k not in ("limit", "after")}
    return {
        "cases": found,
        "next": found[-1]["id"] if more else None,
        "limit": limit,
        "criteria": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in shown.items()},
        "bundles": [{"key": k, "name": n} for k, n in choices],
    }
