"""The window's daily tools (issue 17 · C): the 已办 list, the staff case search, the printable
受理通知书 and 不予受理通知书, and the next step shown after completing a task."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup, escape

from engine.domain.users import Role
from engine.errors import Invalid
from engine.services import case_search, desk

from ..auth import page_user, role_required
from ..state import services

bp = Blueprint("desk", __name__)

SEARCH_FIELDS = (
    "number",
    "applicant",
    "id_number",
    "bundle",
    "status",
    "received_from",
    "received_to",
)
DONE_SIZES = (25, 50, 100)


@bp.get("/work/done")
@role_required(Role.CLERK)
def done() -> Any:
    try:
        size = int(request.args.get("size", desk.DONE_PAGE))
    except ValueError:
        size = desk.DONE_PAGE
    size = size if size in DONE_SIZES else desk.DONE_PAGE
    after = request.args.get("after") or None
    status = 200
    try:
        found = desk.done_tasks(services(), page_user(), size, after)
    except Invalid as err:
        found, status, after = desk.done_tasks(services(), page_user(), size), 422, None
        error = err.message
    else:
        error = None
    kept = {"size": size} if size != desk.DONE_PAGE else {}
    next_url = url_for("desk.done", **kept, after=found["next"]) if found["next"] else None
    first_url = url_for("desk.done", **kept) if after else None
    return render_template(
        "clerk/done.html",
        found=found,
        size=size,
        sizes=DONE_SIZES,
        next_url=next_url,
        first_url=first_url,
        error=error,
    ), status


@bp.get("/work/search")
@role_required(Role.CLERK)
def search() -> Any:
    criteria = {k: v for k, v in request.args.items() if k in (*SEARCH_FIELDS, "after")}
    shown = {k: criteria.get(k, "") for k in SEARCH_FIELDS}
    searched = any(criteria.get(k) for k in SEARCH_FIELDS)
    try:
        found = desk.staff_search(services(), page_user(), criteria)
    except Invalid as err:
        return render_template(
            "clerk/search.html",
            found=None,
            criteria=shown,
            errors={e.get("field"): e["message"] for e in err.errors},
            bundles=case_search.bundle_choices(services()),
            searched=True,
        ), 422
    kept = {k: v for k, v in criteria.items() if k != "after" and v}
    next_url = url_for("desk.search", **kept, after=found["next"]) if found["next"] else None
    first_url = url_for("desk.search", **kept) if criteria.get("after") else None
    return render_template(
        "clerk/search.html",
        found=found,
        criteria=shown,
        errors={},
        bundles=found["bundles"],
        searched=searched,
        next_url=next_url,
        first_url=first_url,
    )


@bp.get("/cases/<int:case_id>/notices/<kind>")
@role_required(Role.CLERK, Role.AUDITOR)
def notice(case_id: int, kind: str) -> Any:
    """受理通知书 (acceptance) or 不予受理通知书 (refusal), printable."""
    n = desk.decision_notice(services(), page_user(), case_id, kind)
    return Response(render_template("decision_notice.html", n=n), mimetype="text/html")


@bp.app_template_global("decision_notices")
def notices_of(case_id: int) -> list[dict[str, str]]:
    """The decision notices of a case with their links, for the case page."""
    return [
        {**n, "url": url_for("desk.notice", case_id=case_id, kind=n["kind"])}
        for n in desk.available_notices(services(), page_user(), case_id)
    ]


def next_step_message(task_id: str) -> Markup | None:
    """The flash after completing a task, with the next step as a link: the deadline after 受理
    (and its 受理通知书), the 补正告知书 after 补正, the 不予受理通知书, the certificates to
    print after 统一发证. None when the step leads nowhere in particular."""
    found = desk.next_step(services(), page_user(), task_id)
    case_id = found.get("case_id")
    if case_id is None:
        return None
    parts: list[Markup] = []

    def link(href: str, text: str, cls: str) -> Markup:
        return Markup('<a href="{}" class="{}" target="_blank" rel="noopener">{}</a>').format(
            href, cls, text
        )

    if "accepted" in found:
        deadline = found["accepted"]
        text = f"已受理, 承诺期限 {deadline}" if deadline else "已受理"
        parts.append(
            escape(text)
            + Markup(" · ")
            + link(
                url_for("desk.notice", case_id=case_id, kind=desk.ACCEPTANCE),
                "打印受理通知书",
                "next-acceptance",
            )
        )
    if found.get("correction"):
        parts.append(
            escape("已告知补正")
            + Markup(" · ")
            + link(
                url_for("cases.correction_notice", case_id=case_id),
                "打印补正材料告知书",
                "next-correction",
            )
        )
    if found.get("refused"):
        parts.append(
            escape("不予受理")
            + Markup(" · ")
            + link(
                url_for("desk.notice", case_id=case_id, kind=desk.REFUSAL),
                "打印不予受理通知书",
                "next-refusal",
            )
        )
    certs = found.get("certificates") or []
    if certs:
        links = Markup("、").join(
            link(
                url_for("cases.certificate_page", number=c["number"]),
                f"{c['title']} {c['number']}",
                "next-certificate",
            )
            for c in certs
        )
        parts.append(escape("已发证, 打印证照: ") + links)
    if not parts:
        return None
    head = Markup('已办理 (办件 <a href="{}">{}</a>): ').format(
        url_for("cases.case", case_id=case_id), case_id
    )
    return head + Markup("; ").join(parts)
