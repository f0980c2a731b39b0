"""The bundle lifecycle on the pages (issue 16 §2): the designer's upload as a draft, publish and
discard with a confirmation, the admin's retire and restore, the history; and what the public
办事指南 and the clerk's 收件 list show of each state. Flask's test client, SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, publishing
from tests.e2e.test_pages_designer import RESTAURANT, _restaurant_files, _sign_in, _zip


def signed_in(app: Any, services: Services, name: str) -> tuple[Any, str]:
    client = app.test_client()
    return client, _sign_in(client, services, name)


def public_and_desk(app: Any, services: Services) -> tuple[bool, bool, int, int]:
    """Whether the public 办事指南 list and the clerk's start list show the restaurant, and the
    status codes of its guide page and its start page."""
    public = app.test_client()
    front, _ = signed_in(app, services, "front_desk")
    listed = 'href="/guide/restaurant"' in public.get("/guide").get_data(as_text=True)
    startable = "/work/start/restaurant" in front.get("/work/start").get_data(as_text=True)
    guide = public.get("/guide/restaurant").status_code
    start = front.get("/work/start/restaurant").status_code
    return listed, startable, guide, start


def post(client: Any, url: str, token: str, confirm: bool = True, **form: str) -> Any:
    data = {"csrf_token": token, **form}
    if confirm:
        data["confirm"] = "yes"
    return client.post(url, data=data)


def test_a_page_upload_is_a_draft_until_published(
    app: Any, services: Services, users: dict[str, Any]
) -> None:
    designer, token = signed_in(app, services, "designer")
    upload = designer.post(
        "/designer/upload",
        data={"csrf_token": token, "file": (io.BytesIO(_zip(_restaurant_files())), "r.zip")},
        content_type="multipart/form-data",
    )
    assert (
        upload.status_code == 302 and upload.headers["Location"] == "/designer/bundles/restaurant/1"
    )
    page = designer.get(upload.headers["Location"]).get_data(as_text=True)
    assert "已将「我要开餐馆」第 1 版保存为草稿: 发布前不会出现在办事指南和收件列表中" in page
    assert 'data-status="draft">草稿</span>' in page
    assert 'data-action="publish">发布</button>' in page
    assert 'data-action="discard">放弃草稿</button>' in page
    assert page.count('name="confirm" value="yes" required') == 2
    assert 'data-action="retire"' not in page  # retiring is for admins
    assert 'href="/designer/bundles/restaurant/1/bundle.zip" download>下载' in page
    listing = designer.get("/designer/bundles").get_data(as_text=True)
    assert 'data-state="draft">草稿</span>' in listing and "尚无发布版本" in listing
    assert public_and_desk(app, services) == (False, False, 404, 409)

    # without the confirmation box nothing happens
    unconfirmed = post(designer, "/designer/bundles/restaurant/1/publish", token, confirm=False)
    assert unconfirmed.status_code == 302
    assert "请勾选确认后再提交" in designer.get("/designer/bundles/restaurant/1").get_data(
        as_text=True
    )
    assert public_and_desk(app, services)[0] is False

    done = post(designer, "/designer/bundles/restaurant/1/publish", token)
    assert done.status_code == 302 and done.headers["Location"] == "/designer/bundles/restaurant/1"
    page = designer.get("/designer/bundles/restaurant/1").get_data(as_text=True)
    assert "已发布第 1 版: 新办件将按此版本办理" in page
    assert (
        'data-status="published">已发布</span>' in page
        and 'data-action="publish">发布<' not in page
    )
    history = re.findall(r'<tr data-action="(\w+)">', page)
    assert history == ["publish", "upload"]  # the latest first
    assert public_and_desk(app, services) == (True, True, 200, 200)
    listing = designer.get("/designer/bundles").get_data(as_text=True)
    assert 'data-state="published">已发布</span>' in listing and "发布版本: 第 1 版" in listing
    again = post(designer, "/designer/bundles/restaurant/1/publish", token)
    assert again.status_code == 302
    assert "只有草稿可以发布" in designer.get("/designer/bundles/restaurant/1").get_data(
        as_text=True
    )


def test_publishing_from_the_upload_page_and_discarding_a_draft(
    app: Any, services: Services, users: dict[str, Any]
) -> None:
    designer, token = signed_in(app, services, "designer")

    def upload(mode: str) -> Any:
        data = {"csrf_token": token, "mode": mode}
        data["file"] = (io.BytesIO(_zip(_restaurant_files())), "r.zip")  # type: ignore[assignment]
        return designer.post("/designer/upload", data=data, content_type="multipart/form-data")

    assert upload("publish").status_code == 302
    page = designer.get("/designer/bundles/restaurant/1").get_data(as_text=True)
    assert "已发布「我要开餐馆」第 1 版: 新办件将按此版本办理" in page
    assert upload("draft").status_code == 302
    page = designer.get("/designer/bundles/restaurant/2").get_data(as_text=True)
    assert "确认发布第 2 版 (替代第 1 版, 已有办件不受影响)" in page
    done = post(designer, "/designer/bundles/restaurant/2/discard", token)
    assert done.status_code == 302
    page = designer.get("/designer/bundles/restaurant/2").get_data(as_text=True)
    assert "已放弃第 2 版草稿" in page and 'data-status="discarded">已放弃</span>' in page
    assert public_and_desk(app, services) == (True, True, 200, 200)  # version 1 still serves
    listing = designer.get("/designer/bundles").get_data(as_text=True)
    assert re.search(
        r'<tr data-version="2">.*?已放弃.*?<tr data-version="1">.*?已发布', listing, re.S
    )


def test_an_admin_retires_and_restores_a_bundle(
    app: Any, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_path(RESTAURANT), "test")
    admin, token = signed_in(app, services, "admin")
    designer, designer_token = signed_in(app, services, "designer")
    page = admin.get("/designer/bundles/restaurant/1").get_data(as_text=True)
    assert 'data-action="retire">停用</button>' in page
    refused = post(designer, "/designer/bundles/restaurant/retire", designer_token, version="1")
    assert refused.status_code == 403

    done = post(admin, "/designer/bundles/restaurant/retire", token, version="1")
    assert done.status_code == 302 and done.headers["Location"] == "/designer/bundles/restaurant/1"
    page = admin.get("/designer/bundles/restaurant/1").get_data(as_text=True)
    assert "已停用事项包: 不再受理新办件, 进行中的办件照常办理" in page
    assert 'data-action="restore">恢复</button>' in page and 'data-state="retired"' in page
    assert public_and_desk(app, services) == (False, False, 404, 409)
    front, front_token = signed_in(app, services, "front_desk")
    refused_start = front.post("/work/start/restaurant", data={"csrf_token": front_token})
    assert refused_start.status_code == 409
    assert "已停用, 不能新建办件" in refused_start.get_data(as_text=True)
    listing = admin.get("/designer/bundles").get_data(as_text=True)
    assert 'data-state="retired">已停用</span>' in listing

    # from the bundle list (no version): back to the list
    done = post(admin, "/designer/bundles/restaurant/restore", token)
    assert done.status_code == 302 and done.headers["Location"].startswith("/designer/bundles#")
    assert public_and_desk(app, services) == (True, True, 200, 200)
    page = admin.get("/designer/bundles/restaurant/1").get_data(as_text=True)
    assert re.findall(r'<tr data-action="(\w+)">', page) == ["restore", "retire", "upload"]


def test_the_version_downloads_from_the_designer_page(
    app: Any, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_path(RESTAURANT), "test")
    for name in ("designer", "auditor", "admin"):
        client, _ = signed_in(app, services, name)
        response = client.get("/designer/bundles/restaurant/1/bundle.zip")
        assert response.status_code == 200 and response.mimetype == "application/zip"
        assert "restaurant.bpmn" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    front, _ = signed_in(app, services, "front_desk")
    assert front.get("/designer/bundles/restaurant/1/bundle.zip").status_code == 403
