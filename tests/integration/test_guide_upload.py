"""The 办事指南 through the API on SQLite and PostgreSQL: an upload whose guide lacks entries is
refused naming each; one without a guide is accepted with a warning; the materials' samples and
blank forms are stored with the version and served by the public guide as downloads (the right
headers, nothing outside the materials' files, traversal refused, unknown paths 404); the editor's
drafts keep them; the bundle's .zip carries them."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from engine.services import accounts, drafting
from tests.conftest import PROCESSES
from tests.interop.harness import Interop

BUNDLE = PROCESSES / "restaurant_joint"
GROUPS = (
    "front_desk",
    "market_regulation",
    "food_safety",
    "inspection",
    "issuance",
    "supervisors",
    "fire_safety",
    "health",
    "food_reviewer",
    "food_reviewer_b",
)
BLANK = "files/application_form_blank.pdf"
SAMPLE = "files/application_form_sample.pdf"


def restaurant_files(**changes: Any) -> dict[str, bytes]:
    """The shipped bundle's files by path in the zip; `changes` edit its bundle.json."""
    files = {
        f"restaurant_joint/{p.relative_to(BUNDLE).as_posix()}": p.read_bytes()
        for p in sorted(BUNDLE.rglob("*"))
        if p.is_file()
    }
    meta = json.loads(files["restaurant_joint/bundle.json"])
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    files["restaurant_joint/bundle.json"] = json.dumps(meta, ensure_ascii=False).encode()
    return files


@pytest.fixture
def desk(interop: Interop) -> Interop:
    for group in GROUPS:
        interop.clerk(group=group)
    return interop


def test_the_restaurant_uploads_clean_and_its_guide_serves_the_forms(desk: Interop) -> None:
    answer = desk.accepted("restaurant_joint.zip", restaurant_files())
    assert answer["warnings"] == []
    page = desk.client.get("/guide/restaurant_joint")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for fact in (
        "YJS-CY-002",
        "杭州市上城区市场监督管理局",
        "《中华人民共和国食品安全法》",
        "第三十五条",
        "不收费",
        "解放东路 18 号",
        "0571-87000000",
        "12345",
        "开办餐馆证照联办申请表",
    ):
        assert fact in html, fact
    assert f'href="/guide/restaurant_joint/files/{BLANK}"' in html
    assert f'href="/guide/restaurant_joint/files/{SAMPLE}"' in html

    for path in (BLANK, SAMPLE):
        got = desk.client.get(f"/guide/restaurant_joint/files/{path}")
        assert got.status_code == 200
        assert got.data == (BUNDLE / path).read_bytes() and got.data.startswith(b"%PDF-")
        assert got.headers["Content-Type"] == "application/pdf"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        name = path.rsplit("/", 1)[-1]
        assert got.headers["Content-Disposition"].startswith("attachment")
        assert name in got.headers["Content-Disposition"]


@pytest.mark.parametrize(
    "path",
    [
        "files/../bundle.json",
        "files/%2e%2e/bundle.json",
        "..%2Fbundle.json",
        "bundle.json",  # in the upload, but no material's file
        "restaurant_joint.bpmn",
        "files/unknown.pdf",
        "files/application_form_blank.PDF.exe",
    ],
)
def test_nothing_but_the_materials_files_is_served(desk: Interop, path: str) -> None:
    desk.accepted("restaurant_joint.zip", restaurant_files())
    got = desk.client.get(f"/guide/restaurant_joint/files/{path}")
    assert got.status_code == 404
    assert "%PDF" not in got.get_data(as_text=True)
    assert "不存在" in got.get_data(as_text=True) or "没有文件" in got.get_data(as_text=True)


def test_an_unknown_or_unpublished_bundle_serves_no_file(desk: Interop) -> None:
    assert desk.client.get(f"/guide/nothing/files/{BLANK}").status_code == 404
    files = restaurant_files()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    drafted = desk.client.post(
        "/api/v1/bundles?publish=false",
        headers=desk.designer,
        data={"file": (io.BytesIO(zipped.getvalue()), "restaurant_joint.zip")},
        content_type="multipart/form-data",
    )
    assert drafted.status_code == 201, drafted.get_json()
    if drafted.get_json().get("status") == "draft":  # a draft is no public guide
        assert desk.client.get(f"/guide/restaurant_joint/files/{BLANK}").status_code == 404


def test_a_guide_missing_entries_is_refused_naming_each(desk: Interop) -> None:
    guide = json.loads((BUNDLE / "bundle.json").read_text())["guide"]
    for key in ("fee", "scope", "legal_basis"):
        del guide[key]
    del guide["phones"]["consult"]
    messages = desk.refused("restaurant_joint.zip", restaurant_files(guide=guide, materials=[]))
    assert messages == [
        "办事指南缺少 收费标准 (guide.fee)",
        "办事指南缺少 咨询电话 (guide.phones.consult)",
        "办事指南缺少 适用范围 (guide.scope)",
        "办事指南缺少 设定依据 (至少一部法律法规及其条款) (guide.legal_basis)",
        "办事指南缺少 申请材料 (至少一项) (materials)",
    ]
    answer = desk.upload("restaurant_joint.zip", restaurant_files(guide=guide))
    body = answer.get_json()
    assert (
        answer.status_code == 422
        and body["error"]
        and body["errors"][0]["file"].endswith("bundle.json")
    )


def test_a_material_file_not_in_the_upload_is_refused(desk: Interop) -> None:
    files = restaurant_files()
    del files[f"restaurant_joint/{BLANK}"]
    assert desk.refused("restaurant_joint.zip", files) == [
        f"材料的空白表格 materials/0/blank_form '{BLANK}' 上传的事项包中没有这个文件"
        " (路径相对于 bundle.json 所在的文件夹)"
    ]


def test_without_a_guide_the_upload_is_accepted_with_a_warning(desk: Interop) -> None:
    files = restaurant_files(guide=None)
    answer = desk.accepted("restaurant_joint.zip", files)
    assert [w["message"][:14] for w in answer["warnings"]] == ["没有办事指南 (guide)"]
    assert answer["warnings"][0]["file"] == "restaurant_joint/bundle.json"
    page = desk.client.get("/guide/restaurant_joint").get_data(as_text=True)
    assert "本事项尚未公布完整的办事指南" in page


def test_the_editor_keeps_the_forms_and_the_zip_carries_them(desk: Interop) -> None:
    desk.accepted("restaurant_joint.zip", restaurant_files())
    user = accounts.authenticate(desk.services, desk.designer["Authorization"][7:])
    loaded = drafting.version_files(desk.services, user, "restaurant_joint", 1)
    assert f"restaurant_joint/{BLANK}" not in loaded["files"]  # the editor edits text
    paths = [a["path"] for a in loaded["attachments"]]
    assert paths == [f"restaurant_joint/{BLANK}", f"restaurant_joint/{SAMPLE}"]
    meta = json.loads(loaded["files"]["restaurant_joint/bundle.json"])
    meta["guide"]["fee"] = "不收取任何费用"
    loaded["files"]["restaurant_joint/bundle.json"] = json.dumps(meta, ensure_ascii=False)
    saved = drafting.save_draft(desk.services, user, loaded["files"])
    assert saved["version"] == 2 and saved["warnings"] == []
    version = desk.client.get("/api/v1/bundles/restaurant_joint/versions/2", headers=desk.admin)
    assert version.get_json()["metadata"]["guide"]["fee"] == "不收取任何费用"

    got = desk.client.get(
        "/api/v1/bundles/restaurant_joint/versions/2/bundle.zip", headers=desk.admin
    )
    assert got.status_code == 200
    with zipfile.ZipFile(io.BytesIO(got.data)) as archive:
        assert archive.read(f"restaurant_joint/{BLANK}") == (BUNDLE / BLANK).read_bytes()
        assert archive.read(f"restaurant_joint/{SAMPLE}") == (BUNDLE / SAMPLE).read_bytes()


CATALOGUE = (
    "newborn",
    "convenience_store",
    "pharmacy",
    "hotel",
    "company_setup",
    "company_deregistration",
    "disability_allowance",
)


@pytest.mark.parametrize("key", CATALOGUE)
def test_every_catalogue_guide_offers_its_application_form_blank_and_filled(
    services: Any, client: Any, key: str
) -> None:
    """Each shipped bundle, deployed as `lianban deploy processes` does, gives its 一表申请 as a
    blank form and a sample on its public guide (scripts/make_guide_forms.py writes them)."""
    from engine.bundles.source import from_path
    from engine.services import publishing

    publishing.deploy(services, from_path(PROCESSES / key), "test")
    html = client.get(f"/guide/{key}").get_data(as_text=True)
    for name in ("application_form_blank.pdf", "application_form_sample.pdf"):
        assert f'href="/guide/{key}/files/{name}"' in html, name
        got = client.get(f"/guide/{key}/files/{name}")
        assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
        assert got.data == (PROCESSES / key / name).read_bytes() and got.data.startswith(b"%PDF-")
