"""The designer's editor (web/pages/designer_editor.py) through the test client: the files it
edits (a version's, with the shared-library forms it uses; the blank template's), the checks
storing nothing, a save as a new draft, refusals in Chinese, designers only, CSRF required.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from engine.services import Services
from tests.conftest import FORMS
from tests.fixtures.pages import sign_in

PASSWORD = "editor pages pw"


def _designer(app: Any, services: Services) -> tuple[Any, str]:
    client = app.test_client()
    return client, sign_in(client, services, "designer", PASSWORD)


def _post(client: Any, url: str, token: str | None, body: Any) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def _blank(client: Any, key: str = "leave", name: str = "请假审批") -> dict[str, str]:
    found = client.get(f"/designer/templates/blank/files.json?key={key}&name={name}")
    assert found.status_code == 200, found.get_data(as_text=True)
    files: dict[str, str] = found.get_json()["files"]
    return files


def _versions(services: Services) -> list[tuple[str, int, str]]:
    with services.uow() as uow:
        rows = uow.bundles.list_versions()
    return sorted((r["key"], r["version"], r["status"]) for r in rows)


def test_a_versions_files_include_the_library_forms_it_uses(
    app: Any, services: Services, users: Any, restaurant: Any
) -> None:
    client, _ = _designer(app, services)
    answer = client.get("/designer/bundles/restaurant/1/files.json")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "private, no-store"
    body = answer.get_json()
    assert body["bpmn"] == "restaurant.bpmn"
    files = body["files"]
    assert {"bundle.json", "restaurant.bpmn"} <= set(files)
    # the restaurant's forms live in the shared forms/ library, not in its bundle
    library = sorted(p.relative_to(FORMS).as_posix() for p in (FORMS / "restaurant").glob("*.json"))
    assert library and all(f"forms/{key}" in files for key in library)
    intake = json.loads(files["forms/restaurant/intake.json"])
    assert intake == json.loads((FORMS / "restaurant" / "intake.json").read_text())
    assert files["forms/restaurant/intake.json"].startswith('{\n  "')  # pretty-printed

    editor = client.get("/designer/bundles/restaurant/1/edit")
    assert editor.status_code == 200
    page = editor.get_data(as_text=True)
    assert 'data-files-url="/designer/bundles/restaurant/1/files.json"' in page
    assert 'data-save-url="/designer/drafts"' in page
    assert 'data-validate-url="/designer/drafts/validate"' in page
    assert 'data-base-version="1"' in page and 'data-key="restaurant"' in page
    for tab in ("diagram", "forms", "settings", "testrun"):
        assert f'data-tab="{tab}"' in page and f'id="tab-{tab}"' in page
    for label in ("流程图", "表单", "办件设置", "试运行", "检查", "保存为草稿"):
        assert label in page
    assert page.index("js/draft_store.js") < page.index("build/modeler.js")
    version_page = client.get("/designer/bundles/restaurant/1").get_data(as_text=True)
    assert 'href="/designer/bundles/restaurant/1/edit" data-action="edit">编辑 (另存为新草稿)' in (
        version_page
    )
    listing = client.get("/designer/bundles").get_data(as_text=True)
    assert 'href="/designer/new" data-action="new-bundle">新建事项 (空白模板)' in listing

    assert client.get("/designer/bundles/nothing/1/files.json").status_code == 404
    assert client.get("/designer/bundles/restaurant/9/edit").status_code == 404


def test_the_blank_template_checks_clean_and_saves_as_a_draft_not_in_the_guide(
    app: Any, services: Services, users: Any
) -> None:
    client, token = _designer(app, services)
    form = client.get("/designer/new")
    assert form.status_code == 200 and 'name="key"' in form.get_data(as_text=True)
    editor = client.get("/designer/new?key=leave&name=请假审批")
    assert editor.status_code == 200
    page = editor.get_data(as_text=True)
    assert 'data-files-url="/designer/templates/blank/files.json?key=leave&amp;name=' in page
    assert 'data-base-version=""' in page

    files = _blank(client)
    assert "leave.bpmn" in files and "bundle.json" in files
    checked = _post(client, "/designer/drafts/validate", token, {"files": files})
    assert checked.status_code == 200
    assert checked.get_json()["ok"] is True and checked.get_json()["errors"] == []
    assert _versions(services) == []  # a check stores nothing

    saved = _post(client, "/designer/drafts", token, {"files": files, "base": None})
    assert saved.status_code == 201, saved.get_data(as_text=True)
    body = saved.get_json()
    assert (body["key"], body["version"]) == ("leave", 1)
    assert body["url"] == "/designer/bundles/leave/1"
    assert _versions(services) == [("leave", 1, "draft")]
    version_page = client.get(body["url"]).get_data(as_text=True)
    assert 'data-status="draft">草稿</span>' in version_page
    # a draft is not in the public 办事指南
    public = app.test_client()
    assert "/guide/leave" not in public.get("/guide").get_data(as_text=True)
    assert public.get("/guide/leave").status_code == 404

    # edited again: the stored files come back and a second save is version 2, still a draft
    again = client.get("/designer/bundles/leave/1/files.json").get_json()
    assert again["files"]["leave.bpmn"] == files["leave.bpmn"]
    edited = dict(again["files"])
    edited["leave.bpmn"] = edited["leave.bpmn"].replace('name="部门甲审查"', 'name="营业执照审查"')
    second = _post(
        client, "/designer/drafts", token, {"files": edited, "base": {"key": "leave", "version": 1}}
    )
    assert second.status_code == 201 and second.get_json()["version"] == 2
    assert _versions(services) == [("leave", 1, "draft"), ("leave", 2, "draft")]


def test_refusals_come_back_as_problems_and_store_nothing(
    app: Any, services: Services, users: Any
) -> None:
    client, token = _designer(app, services)
    files = _blank(client)
    files["leave.bpmn"] = files["leave.bpmn"].replace(' camunda:candidateGroups="food_safety"', "")
    checked = _post(client, "/designer/drafts/validate", token, {"files": files})
    assert checked.status_code == 200
    body = checked.get_json()
    assert body["ok"] is False
    problem = next(p for p in body["errors"] if p["element"] == "review_b")
    assert problem["severity"] == "error" and problem["file"] == "leave.bpmn"
    assert "没有办理组" in problem["message"] and problem["line"]

    refused = _post(client, "/designer/drafts", token, {"files": files})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["message"] == "事项包未通过检查, 没有保存任何内容"
    assert any(p["element"] == "review_b" and "没有办理组" in p["message"] for p in body["errors"])
    assert all(p["severity"] == "error" for p in body["errors"])

    escaping = _post(client, "/designer/drafts", token, {"files": {**files, "../evil.json": "{}"}})
    assert escaping.status_code == 422
    assert any("越出" in p["message"] for p in escaping.get_json()["errors"])
    for bad in ({"files": []}, {"files": {"a.bpmn": 3}}, ["x"], {}):
        answer = _post(client, "/designer/drafts", token, bad)
        assert answer.status_code == 422 and "files" in answer.get_json()["message"]
    empty = _post(client, "/designer/drafts", token, {"files": {}})
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["message"]
    assert _versions(services) == []

    bad_key = client.get("/designer/templates/blank/files.json?key=有空格 的&name=x")
    assert bad_key.status_code == 422
    assert bad_key.get_json()["errors"][0]["message"].startswith("事项编码只能由")
    form = client.get("/designer/new?key=bad key&name=")
    assert form.status_code == 422
    page = form.get_data(as_text=True)
    assert "事项编码只能由" in page and "事项名称不能为空" in page


def test_only_designers_and_only_with_the_csrf_token(
    app: Any, services: Services, users: Any, restaurant: Any
) -> None:
    client, token = _designer(app, services)
    files = _blank(client)
    assert _post(client, "/designer/drafts", None, {"files": files}).status_code == 400
    assert _post(client, "/designer/drafts/validate", None, {"files": files}).status_code == 400
    assert _post(client, "/designer/drafts", "not-the-token", {"files": files}).status_code == 400
    assert _versions(services) == [("restaurant", 1, "published")]

    clerk = app.test_client()
    clerk_token = sign_in(clerk, services, "front_desk", PASSWORD)
    for url in (
        "/designer/new",
        "/designer/bundles/restaurant/1/edit",
        "/designer/bundles/restaurant/1/files.json",
        "/designer/templates/blank/files.json?key=a&name=b",
    ):
        assert clerk.get(url).status_code == 403, url
    assert _post(clerk, "/designer/drafts", clerk_token, {"files": files}).status_code == 403
    assert (
        _post(clerk, "/designer/drafts/validate", clerk_token, {"files": files}).status_code == 403
    )

    stranger = app.test_client()
    answer = stranger.get("/designer/bundles/restaurant/1/files.json")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert _versions(services) == [("restaurant", 1, "published")]


def test_a_draft_that_drops_what_the_latest_version_has_needs_replace(
    app: Any, services: Services, users: Any
) -> None:
    client, token = _designer(app, services)
    files = _blank(client)
    assert _post(client, "/designer/drafts", token, {"files": files}).status_code == 201
    fewer = {p: t for p, t in files.items() if p != "forms/leave/review_b.json"}
    fewer["leave.bpmn"] = files["leave.bpmn"].replace(' camunda:formKey="leave/review_b.json"', "")
    refused = _post(client, "/designer/drafts", token, {"files": fewer})
    assert refused.status_code == 409
    body = refused.get_json()
    assert "确认替换" in body["message"]
    assert [p["file"] for p in body["errors"]] == ["leave/review_b.json"]
    assert all(p["message"] and p["severity"] == "error" for p in body["errors"])
    assert _versions(services) == [("leave", 1, "draft")]
    confirmed = _post(client, "/designer/drafts", token, {"files": fewer, "replace": True})
    assert confirmed.status_code == 201 and confirmed.get_json()["version"] == 2
