"""效能监察 exports: every table of the dashboard as CSV (UTF-8 with a BOM, so Excel reads the
Chinese) or as an Excel workbook (openpyxl: the period in the first row, a Chinese header row,
numbers as numbers, columns wide enough for their text, the sheet named after the table)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from engine.domain.users import User

from . import dashboard
from .context import Services
from .dashboard import Period, bad_request

TABLES: dict[str, str] = {
    "totals": "总体指标",
    "by_bundle": "按事项",
    "by_group": "按办理组",
    "by_department": "按部门",
    "by_task": "按环节",
    "by_clerk": "按人员",
    "trend": "趋势",
    "open_now": "在办情况",
    "certificates": "证照",
    "cases": "办件清单",
}
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
RESULTS = {"open": "在办", "finished": "办结", "refused": "不予受理", "withdrawn": "撤回"}
TIMELINESS = {"early": "提前", "on_time": "按时", "overdue": "超期"}

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def _key(*path: str) -> Callable[[dict[str, Any]], Any]:
    def read(row: dict[str, Any]) -> Any:
        value: Any = row
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return read


# FIGURES as columns (by bundle) and as rows (totals)
FIGURE_COLUMNS: list[Column] = [
    ("收件", _key("received")),
    ("受理", _key("accepted")),
    ("不予受理", _key("refused")),
    ("撤回", _key("withdrawn")),
    ("办结", _key("finished")),
    ("提前办结", _key("early")),
    ("按时办结", _key("on_time")),
    ("超期办结", _key("overdue")),
    ("提前办结率(%)", _key("early_rate")),
    ("按时办结率(%)", _key("on_time_rate")),
    ("超期办结率(%)", _key("overdue_rate")),
    ("平均办理时长(工作日)", _key("handling", "avg_workdays")),
    ("90%办理时长(工作日)", _key("handling", "p90_workdays")),
    ("平均承诺时限(工作日)", _key("handling", "promised_avg")),
    ("平均法定时限(工作日)", _key("handling", "statutory_avg")),
    ("承诺压缩比(%)", _key("handling", "compression")),
    ("补正件数", _key("corrections", "cases")),
    ("补正轮次", _key("corrections", "rounds")),
    ("补正率(%)", _key("corrections", "rate")),
    ("容缺受理", _key("gaps", "count")),
    ("容缺未补齐件数", _key("gaps", "owed_cases")),
    ("容缺未补齐材料", _key("gaps", "owed_materials")),
    ("告知承诺", _key("commitment", "count")),
    ("批后核查不实", _key("commitment", "post_check_failed")),
    ("核查不实率(%)", _key("commitment", "failure_rate")),
    ("评价数", _key("ratings", "count")),
    *[
        (f"{dashboard.MEASURES[f'rating_{k}']}", _key("ratings", "levels", str(k)))
        for k in (5, 4, 3, 2, 1)
    ],
    ("好评率(%)", _key("ratings", "satisfaction")),
    ("差评", _key("ratings", "bad")),
    ("差评整改中", _key("ratings", "rectification_open")),
    ("差评按时整改", _key("ratings", "rectified_on_time")),
    ("差评逾期整改", _key("ratings", "rectified_late")),
    ("回访满意", _key("ratings", "follow_up_satisfied")),
    ("回访不满意", _key("ratings", "follow_up_unsatisfied")),
    ("最多跑一次", _key("visits", "one_visit")),
    ("最多跑一次率(%)", _key("visits", "one_visit_rate")),
    ("网上申报", _key("visits", "online")),
    ("全程网办", _key("visits", "online_full")),
    ("全程网办率(%)", _key("visits", "online_full_rate")),
    ("发证", _key("certificates")),
]
TASK_COLUMNS: list[Column] = [
    ("完成", _key("completed")),
    ("按时完成", _key("on_time")),
    ("超时完成", _key("overdue")),
    ("平均用时(工作日)", _key("avg_workdays")),
]


def _table(
    svc: Services,
    user: User,
    period: Period,
    table: str,
    bundle: str | None,
    drill: dict[str, Any],
) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of one table."""
    if table == "cases":
        found = dashboard.all_cases(svc, user, period, drill.get("measure"), bundle, drill)
        header = ["办件编号", "事项编码", "事项名称", "收件日期", "受理日期", "办结日期"]
        header += ["结果", "时效", "办理时长(工作日)", "评价"]
        return header, [
            [
                c["id"],
                c["bundle_key"],
                c["bundle_name"],
                c["received_on"],
                c["accepted_on"],
                c["ended_on"],
                RESULTS.get(c["result"], c["result"]),
                TIMELINESS.get(c["timeliness"] or "", None),
                c["handling_workdays"],
                c["rating"],
            ]
            for c in found["cases"]
        ]
    shown = dashboard.figures(svc, user, period, bundle)
    if table == "totals":
        totals = shown["totals"]
        return ["指标", "数值"], [[name, read(totals)] for name, read in FIGURE_COLUMNS]
    if table == "by_bundle":
        return _rows(
            ["事项编码", "事项名称"], [_key("key"), _key("name")], FIGURE_COLUMNS, shown[table]
        )
    if table == "by_group":
        cols = [*TASK_COLUMNS, ("当前待办", _key("open_now"))]
        return _rows(["办理组"], [_key("group")], cols, shown[table])
    if table == "by_department":
        return _rows(["部门"], [_key("department")], TASK_COLUMNS, shown[table])
    if table == "by_task":
        return _rows(
            ["事项编码", "环节编号", "环节名称"],
            [_key("bundle_key"), _key("element"), _key("name")],
            TASK_COLUMNS,
            shown[table],
        )
    if table == "by_clerk":
        return _rows(
            ["账号", "姓名", "部门"],
            [_key("clerk"), _key("display_name"), _key("department")],
            TASK_COLUMNS,
            shown[table],
        )
    if table == "trend":
        trend: list[Column] = [
            ("收件", _key("received")),
            ("办结", _key("finished")),
            ("超期办结", _key("overdue")),
            ("不予受理", _key("refused")),
        ]
        return _rows(["起始日期", "时段"], [_key("bucket"), _key("label")], trend, shown[table])
    if table == "open_now":
        now = shown["open_now"]
        rows = [
            [b["key"], b["name"], b["total"], b["warning"], b["overdue"]] for b in now["by_bundle"]
        ]
        rows.append(["合计", "", now["total"], now["warning"], now["overdue"]])
        return ["事项编码", "事项名称", "在办", "预警", "超期"], rows
    certs = shown["certificates"]
    rows = [[c["kind"], c["title"], c["count"]] for c in certs["issued"]]
    rows.append(["", "30 天内到期待换证", certs["renewals_30"]])
    rows.append(["", "90 天内到期待换证", certs["renewals_90"]])
    return ["证照类型", "证照名称", "件数"], rows


def _rows(
    names: list[str],
    readers: list[Callable[[dict[str, Any]], Any]],
    cols: Sequence[Column],
    items: list[dict[str, Any]],
) -> tuple[list[str], list[list[Any]]]:
    header = names + [name for name, _read in cols]
    every = [*readers, *(read for _name, read in cols)]
    return header, [[read(item) for read in every] for item in items]


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(title: str, heading: str, header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True)
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for i, name in enumerate(header):
        widest = max([_width(name), *(_width(r[i]) for r in rows[:1000])])
        letter = sheet.cell(row=2, column=i + 1).column_letter
        sheet.column_dimensions[letter].width = min(60, widest + 2)
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_table(
    svc: Services,
    user: User,
    period: Period,
    table: str | None,
    fmt: str | None,
    bundle: str | None = None,
    **drill: Any,
) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of one table; `drill`: the drill-down's arguments
    (measure, group, element, clerk, department) for the table `cases`."""
    if table not in TABLES:
        raise bad_request("table", "table 应为 " + "、".join(TABLES))
    if fmt not in FORMATS:
        raise bad_request("format", "format 应为 csv 或 xlsx")
    header, rows = _table(svc, user, period, table, bundle, drill)
    name = TABLES[table]
    if table == "cases":
        name = f"{name}_{dashboard.MEASURES[str(drill.get('measure'))]}"
    label = period.label.replace(" ", "")
    where = f"_{bundle}" if bundle else ""
    filename = f"效能监察_{name}{where}_{label}.{fmt}"
    if fmt == "csv":
        return filename, FORMATS[fmt], _csv(header, rows)
    scope = f" 事项: {bundle}" if bundle else ""
    heading = f"效能监察 {TABLES[table]} 统计期间: {period.label} ({period.first} 至 {period.last}){scope}"
    return filename, FORMATS[fmt], _xlsx(TABLES[table], heading, header, rows)
