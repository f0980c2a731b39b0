"""The blank template saved as a draft through the editor's use case, published, and a case run
through it from 申请 to 办结 (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from engine.bundles.template import blank_template
from engine.services import Services, cases, drafting, publishing

APPLICATION = {
    "applicant_name": "张三",
    "applicant_id_number": "330102199001011234",
    "contact_phone": "13800000000",
}
FORMS = {
    "intake": ("front_desk", {"materials_checked": True, "intake_opinion": "材料齐全, 予以受理"}),
    "review_a": ("market_reviewer", {"review_a_opinion": "同意"}),
    "review_b": ("food_reviewer", {"review_b_opinion": "同意"}),
    "issuance": ("issuer", {"issue_note": "已当场送达"}),
}


def test_the_blank_template_deploys_and_a_case_runs_through_it(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    files = blank_template("leave", "请假审批")
    checked = drafting.check_draft(services, designer, files)
    assert checked["ok"] and checked["errors"] == []
    # a new bundle has no 办事指南 yet: the one warning says so (engine/bundles/guide.py)
    assert [w["message"][:14] for w in checked["warnings"]] == ["没有办事指南 (guide)"]

    saved = drafting.save_draft(services, designer, files)
    assert (saved["key"], saved["version"], saved["status"]) == ("leave", 1, "draft")
    publishing.publish(services, designer, "leave", 1)

    view = cases.start_case(services, users["front_desk"].user, "leave", APPLICATION)
    order, open_counts = [], []
    while view["tasks"]:
        open_counts.append(len(view["tasks"]))
        task = view["tasks"][0]
        clerk, form = FORMS[task["element"]]
        order.append(task["element"])
        view = cases.complete(services, users[clerk].user, task["id"], form)
    assert view["status"] == "completed"
    assert order[0] == "intake" and order[-1] == "issuance"
    assert sorted(order[1:3]) == ["review_a", "review_b"]
    assert open_counts == [1, 2, 1, 1]  # 并联: both reviews open at once after 一窗受理
    assert view["outcome"]["element"] == "end"
