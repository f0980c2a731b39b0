"""The editor's 表单 and 办件设置 tabs in the browser: a form built field by field with its live
preview (the clerk page's own rendering), the JS model's round trip of every restaurant form, and
bundle.json's items, materials and time limits edited and saved as a new draft."""

from __future__ import annotations

import json
from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, catalogue, publishing
from tests.conftest import FORMS, PROCESSES

from .conftest import Pages

RESTAURANT = PROCESSES / "restaurant"
EDIT = "/designer/bundles/restaurant/1/edit"
NEW_FORM = "forms/restaurant/permit_check.json"


def _open_editor(pages: Pages, live_services: Services, tab: str) -> Any:
    publishing.deploy(live_services, from_path(RESTAURANT), "designer")
    page = pages.new("designer")
    pages.goto(page, EDIT)
    page.wait_for_selector("#editor[data-ready=true]")
    page.click(f"button[data-tab={tab}]")
    return page


def _draft_json(page: Any, path: str) -> Any:
    return json.loads(page.evaluate("p => window.LianbanDraft.get(p)", path))


def _wait_preview(page: Any, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('#fe-preview').innerText.includes(t)", arg=text
    )


def test_a_form_built_in_the_editor_shows_in_the_preview_as_the_clerk_sees_it(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    page = _open_editor(pages, live_services, "forms")
    # every form the version uses is listed; the first is open with its preview
    assert page.locator("#fe-forms [data-form-path]").count() == 12
    _wait_preview(page, "开办餐馆申请表(一表申请)")

    page.fill("#fe-new-name", "permit_check")
    page.click("#fe-new")
    assert "restaurant/permit_check.json" in page.locator("#fe-new-note").inner_text()
    assert "流程图" in page.locator("#fe-new-note").inner_text()
    page.fill("#fe-form-title", "许可核验")
    assert "还没有任务使用此表单" in page.locator("#fe-usage").inner_text()

    # a required text field with a pattern (a refused pattern is said at once)
    page.click("#fe-add-field")
    phone = page.locator(".fe-field").nth(0)
    phone.locator(".fe-name").fill("shop_phone")
    phone.locator(".fe-title").fill("联系电话")
    phone.locator(".fe-required").check()
    phone.locator("input[data-prop=pattern]").fill("(1)\\1")
    assert "反向引用" in phone.locator(".fe-pattern-error").inner_text()
    phone.locator("input[data-prop=pattern]").fill("^1[3-9][0-9]{9}$")
    assert phone.locator(".fe-pattern-error").is_hidden()
    phone.locator("input[data-prop=maxLength]").fill("11")
    phone.locator(".fe-name").fill("2bad")
    assert "以字母开头" in phone.locator(".fe-name-error").inner_text()
    phone.locator(".fe-name").fill("shop_phone")

    # a choice with labels
    page.click("#fe-add-field")
    decision = page.locator(".fe-field").nth(1)
    decision.locator(".fe-name").fill("check_result")
    decision.locator(".fe-title").fill("核验结论")
    decision.locator(".fe-kind").select_option("select")
    decision = page.locator(".fe-field").nth(1)
    decision.locator("[data-option-value='0']").fill("pass")
    decision.locator("[data-option-label='0']").fill("通过")
    decision.locator("[data-option-value='1']").fill("fail")
    decision.locator("[data-option-label='1']").fill("不通过")

    # a field shown and required only when the choice is 不通过
    page.click("#fe-add-field")
    reason = page.locator(".fe-field").nth(2)
    reason.locator(".fe-name").fill("fail_reason")
    reason.locator(".fe-title").fill("不通过理由")
    reason.locator(".fe-kind").select_option("textarea")
    reason = page.locator(".fe-field").nth(2)
    reason.locator("[data-condition-on]").check()
    reason = page.locator(".fe-field").nth(2)
    reason.locator("[data-condition-field]").select_option("check_result")
    reason.locator("[data-condition-value]").select_option('"fail"')

    # the conditional field is in the preview, hidden until its condition holds, as on the
    # clerk's page; choosing 不通过 there shows it
    preview = page.locator("#fe-preview")
    preview.locator("textarea[name=fail_reason]").wait_for(state="attached")
    assert preview.locator("textarea[name=fail_reason]").is_hidden()
    preview.locator("select[name=check_result]").select_option("fail")
    _wait_preview(page, "不通过理由")
    assert preview.locator("label.required[for=f-shop_phone]").inner_text() == "联系电话"
    assert preview.locator("input[name=shop_phone]").get_attribute("maxlength") == "11"
    assert preview.locator("select[name=check_result] option").all_inner_texts() == [
        "— 请选择 —",
        "通过",
        "不通过",
    ]
    assert preview.locator("textarea[name=fail_reason]").count() == 1

    saved = _draft_json(page, NEW_FORM)
    assert saved["title"] == "许可核验"
    assert list(saved["properties"]) == ["shop_phone", "check_result", "fail_reason"]
    assert saved["required"] == ["shop_phone"]
    assert saved["properties"]["shop_phone"]["pattern"] == "^1[3-9][0-9]{9}$"
    assert saved["properties"]["check_result"]["oneOf"] == [
        {"const": "pass", "title": "通过"},
        {"const": "fail", "title": "不通过"},
    ]
    assert saved["allOf"] == [
        {
            "if": {"properties": {"check_result": {"const": "fail"}}, "required": ["check_result"]},
            "then": {"required": ["fail_reason"], "properties": {"fail_reason": {"minLength": 1}}},
        }
    ]

    # a label changed: the preview follows
    page.locator(".fe-field").nth(1).locator("[data-option-label='1']").fill("退回补正")
    _wait_preview(page, "退回补正")
    assert (
        "退回补正" in _draft_json(page, NEW_FORM)["properties"]["check_result"]["oneOf"][1]["title"]
    )

    # the preview checks as 提交办理 does: 不通过 without a reason is refused inline
    preview.locator("select[name=check_result]").select_option("fail")
    preview.locator("input[name=shop_phone]").fill("13800000000")
    preview.locator("[data-preview-check]").click()
    page.wait_for_selector("#form-editor[data-preview-state=checked]")
    assert preview.locator("#f-fail_reason-error").inner_text() == "必填"
    condition = page.locator(".fe-field").nth(2).locator("[data-condition-value]")
    assert condition.locator("option:checked").inner_text() == "退回补正"
    page.evaluate("window.scrollTo(0, 0)")
    pages.shot(page, "form_editor")

    # the JSON view shows the same file; a parse error is said where it is
    page.click("[data-fe-view=json]")
    assert json.loads(page.locator("#fe-json").input_value()) == _draft_json(page, NEW_FORM)
    page.locator("#fe-json").fill('{"title": "x",\n  "type": }')
    assert "第 2 行" in page.locator("#fe-json-error").inner_text()
    # valid JSON but no valid form: the preview says why, as a deploy would
    page.locator("#fe-json").fill('{"type": "object", "properties": {"a": {"type": "text"}}}')
    page.wait_for_selector("#form-editor[data-preview-state=refused]")
    assert "表单无效" in page.locator("#fe-preview-status").inner_text()

    # an unused form can be deleted from the draft
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#fe-delete")
    assert page.evaluate("p => window.LianbanDraft.get(p)", NEW_FORM) is None
    assert page.locator("#fe-forms [data-form-path]").count() == 12


def test_every_restaurant_form_survives_the_editors_model_unchanged(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    page = _open_editor(pages, live_services, "forms")
    forms = {
        p.name: json.loads(p.read_text("utf-8"))
        for p in sorted((FORMS / "restaurant").glob("*.json"))
    }
    assert len(forms) == 12
    back = page.evaluate(
        "forms => Object.fromEntries(Object.entries(forms).map(([k, s]) =>"
        " [k, window.LianbanFormModel.save(window.LianbanFormModel.load(s))]))",
        forms,
    )
    for name, schema in forms.items():
        assert back[name] == schema, name
    # a renamed field keeps its condition; a removed one leaves the required lists
    edited = page.evaluate(
        """s => { const M = window.LianbanFormModel, m = M.load(s);
          m.fields.find(f => f.name === "intake_opinion").name = "opinion";
          m.fields = m.fields.filter(f => f.name !== "supply_workdays");
          return M.save(m); }""",
        forms["intake.json"],
    )
    assert list(edited["properties"])[-1] == "opinion"
    assert edited["allOf"][1]["then"] == {
        "required": ["opinion"],
        "properties": {"opinion": {"minLength": 1}},
    }
    assert edited["allOf"][2]["then"] == {
        "required": ["deferred_materials"],
        "properties": {"deferred_materials": {"minItems": 1}},
    }
    # and loading a form in the page, then touching nothing, leaves its file as it was
    page.click("[data-form-path='forms/restaurant/intake.json']")
    assert "用于: 一窗受理 (intake)" in page.locator("#fe-usage").inner_text()
    _wait_preview(page, "一窗受理")
    pages.shot(page, "form_editor_intake")
    page.click("#fe-delete")  # a form the diagram uses stays
    assert "不能删除" in page.locator("#fe-usage").inner_text()
    page.locator(".fe-field").nth(0).locator(".fe-title").fill("受理决定")
    assert _draft_json(page, "forms/restaurant/intake.json") == forms["intake.json"]
    # the task using it is one click away on the diagram
    page.click("#fe-usage [data-select-element=intake]")
    assert page.locator("#tab-diagram").is_visible()


def test_bundle_settings_are_edited_and_saved_as_a_new_draft(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    page = _open_editor(pages, live_services, "settings")
    page.wait_for_selector("#settings-editor[data-ready=true]")
    settings = page.locator("#settings-editor")
    assert settings.locator("[data-item]").count() == 2
    assert settings.locator("[data-material]").count() == 10

    settings.locator("[data-se=basic] input[data-key=issuer]").fill("杭州市市场监督管理局")
    food = settings.locator("[data-item='1']")
    food.locator("input[data-key=promised_workdays]").fill("5")
    food.locator("input[data-key=validity_years]").fill("500")
    assert "不能大于 100" in food.inner_text()
    food.locator("input[data-key=validity_years]").fill("3")
    food.locator("input[data-key=number_pattern]").fill("JY(?=1)")
    assert "环视" in food.inner_text()
    food.locator("input[data-key=number_pattern]").fill("JY[0-9]{14}")
    # the certificate's number field is picked from the forms' fields
    options = page.eval_on_selector_all("#se-form-fields option", "os => os.map(o => o.value)")
    assert "permit_number" in options and "shop_name" in options
    food.locator("input[data-key=number_field]").fill("permit_no")
    assert "草稿的表单中没有字段 “permit_no”" in food.inner_text()
    food.locator("input[data-key=number_field]").fill("permit_number")
    assert "草稿的表单中没有字段" not in food.inner_text()

    page.click("[data-se-add=material]")
    row = settings.locator("[data-material='10']")
    row.locator("input[data-key=code]").fill("fire_safety")
    row.locator("input[data-key=name]").fill("消防安全承诺书")
    row.locator("input[data-key=deferrable]").check()

    starts = settings.locator("select[data-key=starts_at]")
    labels = starts.locator("option").all_inner_texts()
    assert any("一窗受理" in label and "intake" in label for label in labels), labels
    starts.select_option("intake")
    settings.locator("input[data-key=warning_workdays]").fill("1")
    pages.shot(page, "settings_editor")

    bundle = page.evaluate("() => window.LianbanDraft.bundle()")
    original = json.loads((RESTAURANT / "bundle.json").read_text("utf-8"))
    assert bundle["issuer"] == "杭州市市场监督管理局"
    assert bundle["items"][1]["promised_workdays"] == 5
    assert bundle["items"][1]["certificate"]["validity_years"] == 3
    assert bundle["materials"][10] == {
        "code": "fire_safety",
        "name": "消防安全承诺书",
        "required": True,
        "deferrable": True,
    }
    assert bundle["time_limits"] == {
        "starts_at": "intake",
        "warning_workdays": 1,
        "escalation_group": "supervisors",
    }
    for kept in ("applicant", "intake", "process", "description"):
        assert bundle[kept] == original[kept]  # what the tab does not show is kept

    page.click("[data-editor-action=save]")
    page.wait_for_url("**/designer/bundles/restaurant/2")
    stored = json.loads(catalogue.bundle_files(live_services, "restaurant", 2)["bundle.json"])
    assert stored == bundle


def test_a_new_bundle_gets_a_field_and_a_material_and_is_saved(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    page = pages.new("designer")
    pages.goto(page, "/designer/new?key=shop_sign&name=" + "户外招牌设置")
    page.wait_for_selector("#editor[data-ready=true]")
    page.click("button[data-tab=forms]")
    page.click("[data-form-path='forms/shop_sign/intake.json']")
    page.click("#fe-add-field")
    field = page.locator(".fe-field").last
    field.locator(".fe-name").fill("sign_area_m2")
    field.locator(".fe-title").fill("招牌面积(平方米)")
    field.locator(".fe-kind").select_option("number")
    field = page.locator(".fe-field").last
    field.locator("input[data-prop=maximum]").fill("50")
    field.locator(".fe-required").check()
    _wait_preview(page, "招牌面积(平方米)")
    assert page.locator("#fe-preview input[name=sign_area_m2]").get_attribute("max") == "50"

    page.click("button[data-tab=settings]")
    assert page.locator("[data-se=basic] input[data-key=name]").input_value() == "户外招牌设置"
    page.click("[data-se-add=material]")
    row = page.locator("[data-se=materials] tr").last
    row.locator("input[data-key=code]").fill("sign_design")
    row.locator("input[data-key=name]").fill("招牌设计效果图")

    page.click("[data-editor-action=save]")
    page.wait_for_url("**/designer/bundles/shop_sign/1")
    files = catalogue.bundle_files(live_services, "shop_sign", 1)
    intake = json.loads(files["forms/shop_sign/intake.json"])
    assert intake["properties"]["sign_area_m2"] == {
        "type": "number",
        "title": "招牌面积(平方米)",
        "maximum": 50,
    }
    assert intake["required"][-1] == "sign_area_m2"
    materials = json.loads(files["bundle.json"])["materials"]
    assert materials[-1]["code"] == "sign_design"
