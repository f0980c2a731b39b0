"""Clerk pages: the worklist of the clerk's groups, a task's page, starting a case at the desk."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import config
from engine.domain.task_limits import work_time_text
from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid, ServiceError
from engine.services import (
    case_record,
    cases,
    catalogue,
    desk,
    documents,
    duplicates,
    extension,
    follow_ups,
    hearing,
    idempotency,
    intake,
    multi_sign,
    queries,
)

from ..auth import page_user, role_required, safe_next
from ..forms_render import (
    decision_fields,
    field_errors,
    field_names,
    form_conditions,
    form_fields,
    parse_form,
    reorder_like,
    undeclared_fields,
)
from ..instructions import render_instructions
from ..labels import CLAIMED_LABELS, TIMELINESS_LABELS
from ..state import services
from . import kept_form
from .desk import next_step_message

bp = Blueprint("clerk", __name__, url_prefix="/work")
# the render_form macro (templates/macros/form.html) works from these fields, on every page
bp.add_app_template_global(form_fields, "form_fields")
bp.add_app_template_global(form_conditions, "form_conditions")

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
# how many earlier pages "上一页" can go back to (their cursors ride along in the URL)
TRAIL = 20


@bp.app_template_filter("clerk_time")
def clerk_time(value: Any, with_time: bool = True) -> str:
    """An ISO time as local wall time, "2026-11-22 10:41"."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(config.timezone())
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


@bp.app_template_filter("due_moment")
def due_moment(value: Any) -> str:
    """An hour limit's due moment (ISO) in local wall time, "12月7日 11:30"."""
    try:
        moment = datetime.fromisoformat(str(value)).astimezone(config.timezone())
    except ValueError:
        return str(value)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


@bp.app_template_filter("work_time")
def work_time(minutes: Any) -> str:
    """Working minutes as "1 个工作小时 30 分钟"."""
    return work_time_text(int(minutes))


# ------------------------------------------------------------------ the worklist


def _filters(args: Mapping[str, str]) -> dict[str, str]:
    found = {
        "bundle": args.get("bundle", "").strip(),
        "element": args.get("element", "").strip(),
        "flag": args.get("flag", "").strip(),
        "claimed": args.get("claimed", "all").strip() or "all",
        "q": args.get("q", "").strip(),
    }
    if found["flag"] not in TIMELINESS_LABELS:
        found["flag"] = ""
    if found["claimed"] not in CLAIMED_LABELS:
        found["claimed"] = "all"
    return found


def _page_size(args: Mapping[str, str]) -> int:
    try:
        size = int(args.get("size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


def _link(filters: dict[str, str], size: int, after: str | None, trail: list[str]) -> str:
    params = {k: v for k, v in filters.items() if v and not (k == "claimed" and v == "all")}
    if size != PAGE_SIZE:
        params["size"] = str(size)
    if after:
        params["after"] = after
    if trail:
        params["trail"] = ",".join(trail[-TRAIL:])
    return url_for("clerk.worklist") + ("?" + urlencode(params) if params else "")


def _task_choices() -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The bundles one can filter by, and their task elements (element, name)."""
    svc, user = services(), page_user()
    bundles = catalogue.list_bundles(svc, user, with_retired=True)
    elements: dict[str, str] = {}
    for b in bundles:
        for t in catalogue.bundle_detail(svc, user, b["key"], b["version"])["human_tasks"]:
            elements.setdefault(t["element"], t["name"])
    return bundles, sorted(elements.items(), key=lambda kv: kv[1])


def _render_worklist(args: Mapping[str, str], status: int = 200) -> Any:
    filters, size = _filters(args), _page_size(args)
    after = args.get("after") or None
    trail = [c for c in args.get("trail", "").split(",") if c][-TRAIL:]
    user = page_user()
    try:
        found = queries.worklist(
            services(),
            user,
            size,
            after,
            bundle=filters["bundle"] or None,
            element=filters["element"] or None,
            flag=filters["flag"] or None,
            claimed=filters["claimed"],
            search=filters["q"] or None,
        )
    except Invalid as err:  # a stale cursor or a bad filter: say so, show the first page
        flash(_invalid_text(err), "error")
        found = queries.worklist(services(), user, size, None)
        after, trail, status = None, [], 422
    bundles, elements = _task_choices()
    here = _link(filters, size, after, trail)
    pager = {
        "next": _link(filters, size, found["next"], [*trail, after or "-"])
        if found["next"]
        else None,
        "prev": _link(filters, size, None if trail[-1] == "-" else trail[-1], trail[:-1])
        if trail
        else (_link(filters, size, None, []) if after else None),
        "first": _link(filters, size, None, []) if after else None,
        "number": len(trail) + 1 if after else 1,
    }
    return (
        render_template(
            "clerk/worklist.html",
            page=found,
            tasks=found["tasks"],
            filters=filters,
            size=size,
            sizes=PAGE_SIZES,
            pager=pager,
            here=here,
            bundles=bundles,
            elements=elements,
            filtered=any(v for k, v in filters.items() if k != "claimed")
            or filters["claimed"] != "all",
            me_name=user.name,
            can_receive=bool(desk.receivable_bundles(services(), user)),  # issue 17 · C
        ),
        status,
    )


@bp.get("/")
@role_required(Role.CLERK)
def worklist() -> Any:
    return _render_worklist(request.args)


def _invalid_text(err: Invalid) -> str:
    details = "; ".join(str(e.get("message")) for e in err.errors if e.get("message"))
    return f"{err.message}: {details}" if details else err.message


# ------------------------------------------------------------------ claim / unclaim


def _claim_action(task_id: str, claim: bool) -> Any:
    back = safe_next(request.form.get("next")) or url_for("clerk.worklist")
    svc, user = services(), page_user()
    try:
        if claim:
            cases.claim(svc, user, task_id)
        else:
            cases.unclaim(svc, user, task_id)
    except (Conflict, Forbidden) as err:
        flash(err.message, "error")
        status = err.status
        where = urlsplit(back)
        if where.path == url_for("clerk.task", task_id=task_id):
            return _render_task(task_id, status=status)
        if where.path == url_for("clerk.worklist"):  # the same page, filters and all
            return _render_worklist({k: v[-1] for k, v in parse_qs(where.query).items()}, status)
        return redirect(back)
    flash("已认领" if claim else "已取消认领, 任务回到组内待办", "success")
    return redirect(back)


@bp.post("/tasks/<task_id>/claim")
@role_required(Role.CLERK)
def claim(task_id: str) -> Any:
    return _claim_action(task_id, True)


@bp.post("/tasks/<task_id>/unclaim")
@role_required(Role.CLERK)
def unclaim(task_id: str) -> Any:
    return _claim_action(task_id, False)


# ------------------------------------------------------------------ a task's page


def _form(bundle: dict[str, Any], key: str | None) -> dict[str, Any] | None:
    """A bundle version's form, with its fields in the order of the form file (the database may
    have reordered them): the file carried in the bundle, else the shared forms folder's."""
    schema = bundle["forms"].get(key or "") if key else None
    if schema is None or not key:
        return schema
    svc = services()
    files = catalogue.bundle_files(svc, bundle["key"], bundle["version"])
    raw: Any = next((text for path, text in files.items() if path in (key, f"forms/{key}")), None)
    raw = raw if raw is not None else svc.forms.get(key)
    try:
        original = json.loads(raw) if raw is not None else None
    except ValueError:
        return schema
    ordered: dict[str, Any] = reorder_like(schema, original)
    return ordered


def _task_context(task_id: str) -> dict[str, Any]:
    svc, user = services(), page_user()
    task = queries.get_task(svc, user, task_id)
    case = queries.get_case(svc, user, task["case_id"])
    bundle = catalogue.bundle_page(svc, user, case["bundle"], case["version"])
    # 整改 and 回访 (opened by the engine, no diagram) have their forms in follow_ups
    schema = _form(bundle, task.get("form")) or follow_ups.engine_form(task.get("kind"))
    schema = schema or extension.engine_form(task.get("kind"))  # 延期审批 (issue 19 · 2)
    schema = schema or hearing.engine_form(task.get("kind"))  # 听证笔录 (issue 19 · 6)
    if task["status"] == "open":  # 补正: only the materials asked for (issue 17 · D)
        schema = intake.task_form(
            bundle["meta"], task.get("element"), schema, case.get("data") or {}
        )
    return {
        "task": task,
        "complaint": follow_ups.complaint(svc, case["id"])
        if task.get("kind") in ("rectification", "follow_up")
        else None,
        "case": case,
        # 申请信息 and the earlier steps' decisions, in the forms' words (issue 17 · A)
        "record": case_record.labelled_data(svc, user, case["id"]),
        "bundle": bundle,
        "schema": schema,
        # SpiffArena's instructionsForEndUser: markdown, {{ field }} filled in, escaped
        "instructions": render_instructions(
            next(
                (
                    t.get("instructions")
                    for t in bundle["human_tasks"]
                    if t["element"] == task.get("element")
                ),
                None,
            ),
            case.get("data"),
        ),
        "radios": decision_fields(schema),
        "materials": intake.material_states(
            bundle["meta"], case.get("data") or {}, task.get("element")
        ),
        # 本件不需要: materials whose condition does not hold on this case, listed apart
        "not_needed": intake.not_needed(bundle["meta"], case.get("data") or {})
        if bundle["meta"].conditional_materials
        else [],
        "mine": task.get("assignee") == user.name,
        # 会签/或签 under way: "会签 (1/3)" (issue 18 · 4)
        "sign": multi_sign.case_progress(svc, user, case["id"]).get(task.get("element") or "")
        if task["status"] == "open" and task.get("kind") == "bpmn"
        else None,
        "can_work": task["status"] == "open"
        and case["status"] != "error"  # 出错: nothing to submit until an administrator acts
        and case["status"] != "suspended"  # 挂起: nothing to submit until it is resumed
        and (task.get("assignee") in (None, user.name))
        and not task.get("owner")  # 委派: the delegate answers, the owner waits (handover.py)
        and (
            user.name == task.get("assignee")
            or bool(set(task["groups"]) & set(user.groups))
            or user.name in task.get("candidate_users", ())  # candidateUsers (issue 22)
        ),
        "me_name": user.name,
    }


def _render_task(
    task_id: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    other_errors: list[str] | None = None,
    status: int = 200,
    held: list[dict[str, Any]] | None = None,
) -> Any:
    ctx = _task_context(task_id)
    if values is None and ctx["task"]["status"] != "open":
        values = ctx["case"].get("data") or {}  # what the case holds now, read-only
    if values is None and ctx["schema"]:
        values = {
            k: p["default"]
            for k, p in (ctx["schema"].get("properties") or {}).items()
            if isinstance(p, dict) and "default" in p
        }
    return (
        render_template(
            "clerk/task.html",
            **ctx,
            values=values or {},
            errors=errors or {},
            other_errors=other_errors or [],
            held=held or [],  # files of a refused submit kept for the next (17 · B)
            max_bytes=services().limits.attachment_bytes,
        ),
        status,
    )


def _split_errors(err: Invalid, schema: dict[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """Invalid's problems as {field: message} for the fields of the form, and the rest as text."""
    by_field = field_errors(err.errors)
    known = field_names(schema)
    inline = {k: v for k, v in by_field.items() if k in known}
    rest = [
        f"{k}: {v}" if k and k != "(表单)" else v for k, v in by_field.items() if k not in known
    ]
    return inline, rest or ([] if inline else [err.message])


def _posted(schema: dict[str, Any] | None) -> dict[str, Any]:
    """The posted form as data typed by its schema. A posted name that is no field of the form
    (a forged request, or a page older than the form) is refused, never silently dropped."""
    unknown = undeclared_fields(schema, request.form, request.files)
    if unknown:
        raise Invalid(
            "表单填写有误",
            [{"field": name, "message": f"表单没有字段 {name}, 不能填写"} for name in unknown],
        )
    return parse_form(
        schema, request.form, request.files, attachment_bytes=services().limits.attachment_bytes
    )


@bp.get("/tasks/<task_id>")
@role_required(Role.CLERK)
def task(task_id: str) -> Any:
    return _render_task(task_id)


@bp.post("/tasks/<task_id>")
@role_required(Role.CLERK)
def complete(task_id: str) -> Any:
    svc, user = services(), page_user()
    schema = _task_context(task_id)["schema"]
    # a refused submit shows everything typed again, accepted files held (issue 17 · B)
    try:
        data, file_errors = kept_form.parse_page_form(
            schema, request.form, request.files, svc.limits.attachment_bytes
        )
    except Invalid as err:
        return _render_task(task_id, None, {}, [_invalid_text(err)], status=422)
    file_errors |= kept_form.resolve_held(schema, data, user.name)

    def refused(errors: dict[str, str], rest: list[str], status: int) -> Any:
        values, held = kept_form.held_for_page(schema, data, user.name)
        return _render_task(task_id, values, errors, rest, status=status, held=held)

    if file_errors:
        return refused(file_errors, [], 422)
    try:
        cases.complete(svc, user, task_id, data)
    except Invalid as err:
        inline, rest = _split_errors(err, schema)
        return refused(inline, rest, 422)
    except (Conflict, Forbidden) as err:
        # an incident says where the process failed and why (engine/services/incidents.py)
        where = [str(e["message"]) for e in err.details.get("errors", []) if e.get("message")]
        flash("; ".join([err.message, *where]), "error")
        return refused({}, [], err.status)
    flash(next_step_message(task_id) or "已办理", "success")  # issue 17 · C: the next step
    return redirect(url_for("clerk.worklist"))


# ------------------------------------------------------------------ starting a case (一窗受理)


@bp.get("/start")
@role_required(Role.CLERK)
def start_list() -> Any:
    svc, user = services(), page_user()
    bundles = [
        catalogue.bundle_page(svc, user, b["key"], b["version"])
        for b in desk.receivable_bundles(svc, user)  # the window's bundles only (17 · C)
    ]
    return render_template("clerk/start_list.html", bundles=bundles)


def _render_start(
    key: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    other_errors: list[str] | None = None,
    status: int = 200,
    held: list[dict[str, Any]] | None = None,
    duplicates: list[dict[str, Any]] | None = None,
) -> Any:
    bundle = catalogue.start_page(services(), page_user(), key)
    schema = _form(bundle, bundle.get("start_form"))
    return (
        render_template(
            "clerk/start.html",
            bundle=bundle,
            schema=schema,
            values=values or {},
            errors=errors or {},
            other_errors=other_errors or [],
            materials=bundle["meta"].materials,
            # issue 17 · B: files kept, the form's one-time token, the same applicant's open cases
            held=held or [],
            form_token=kept_form.form_token_of(request.form) or kept_form.new_form_token(),
            duplicates=duplicates or [],
            max_bytes=services().limits.attachment_bytes,
        ),
        status,
    )


@bp.get("/start/<bundle_key>")
@role_required(Role.CLERK)
def start(bundle_key: str) -> Any:
    return _render_start(bundle_key)


@bp.post("/start/<bundle_key>")
@role_required(Role.CLERK)
def start_post(bundle_key: str) -> Any:
    """收件: Post/Redirect/Get to the receipt; a form sent twice (refresh, back and again) starts
    one case; the same applicant's open case of the bundle is shown before a second one is made
    (仍然收件 goes on); a refused submit shows everything typed again (issue 17 · B)."""
    svc, user = services(), page_user()
    bundle = catalogue.start_page(svc, user, bundle_key)
    schema = _form(bundle, bundle.get("start_form"))
    try:
        data, file_errors = kept_form.parse_page_form(
            schema, request.form, request.files, svc.limits.attachment_bytes
        )
    except Invalid as err:
        return _render_start(bundle_key, {}, {}, [_invalid_text(err)], status=422)
    file_errors |= kept_form.resolve_held(schema, data, user.name)

    def refused(
        errors: dict[str, str],
        rest: list[str],
        status: int,
        same: list[dict[str, Any]] | None = None,
    ) -> Any:
        values, held = kept_form.held_for_page(schema, data, user.name)
        return _render_start(bundle_key, values, errors, rest, status, held, same)

    if file_errors:
        return refused(file_errors, [], 422)
    token = kept_form.form_token_of(request.form)
    if not request.form.get(kept_form.ANYWAY) and not (
        token and idempotency.sent_before(svc, user, token)
    ):
        same = duplicates.open_cases(svc, user, bundle_key, data)
        if same:
            return refused({}, [], 409, same)

    def run() -> tuple[Any, int]:
        case = cases.start_case(svc, user, bundle_key, data)
        # the 查询码 is only known now: kept for the receipt's one GET, never in the URL or cookie
        receipt = {"access_code": case.get("access_code")}
        idempotency.keep_for_next_page(svc, user, f"receipt {case['id']}", receipt)
        return {"case_id": case["id"]}, 201

    try:
        if token:
            answer, _status, repeat = idempotency.page_once(svc, user, token, run)
        else:
            (answer, _status), repeat = run(), False
    except Invalid as err:
        inline, rest = _split_errors(err, schema)
        return refused(inline, rest, 422)
    except ServiceError as err:
        if isinstance(err, Conflict | Forbidden):
            flash(err.message, "error")
            return refused({}, [], err.status)
        raise
    if repeat:
        flash(f"此表单已经收件 (办件 {answer['case_id']}), 没有重复创建办件", "info")
    return redirect(url_for("clerk.receipt", case_id=answer["case_id"]))


@bp.get("/cases/<int:case_id>/receipt")
@role_required(Role.CLERK)
def receipt(case_id: int) -> Any:
    """The 收件回执 of a case, printable; its 查询码 only on the first view after 收件."""
    svc, user = services(), page_user()
    case = queries.get_case(svc, user, case_id)
    bundle = catalogue.bundle_page(svc, user, case["bundle"], case["version"])
    kept = idempotency.take_for_page(svc, user, f"receipt {case_id}")
    code = kept.get("access_code") if isinstance(kept, dict) else None
    next_task = next(
        (
            t
            for t in case["tasks"]
            if user.name == t.get("assignee")
            or set(t["groups"]) & set(user.groups)
            or user.name in t.get("candidate_users", ())
        ),
        None,
    )
    page = render_template(
        "clerk/receipt.html",
        case={**case, "access_code": code},
        bundle=bundle,
        next_task=next_task,
        received_by=documents.signature_of(svc, case["created_by"]),
        fresh=code is not None,
    )
    return page, 200, {"Cache-Control": "no-store"}
