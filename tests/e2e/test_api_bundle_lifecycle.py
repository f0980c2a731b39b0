"""The bundle lifecycle through the REST API (issue 16 §2): drafts, validate, publish, discard,
retire, restore, the state in the answers, the zip download, and who may do each."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tests.e2e.test_api import restaurant_zip
from tests.fixtures import bpmn
from tests.fixtures.restaurant import APPLICATION

BASE = "/api/v1/bundles"


def post_file(client: Any, url: str, headers: dict[str, str], data: bytes, **form: str) -> Any:
    return client.post(
        url,
        headers=headers,
        data={"file": (io.BytesIO(data), "restaurant.zip"), **form},
        content_type="multipart/form-data",
    )


def start(client: Any, users: dict[str, Any]) -> Any:
    body = {"bundle": "restaurant", "data": APPLICATION}
    return client.post("/api/v1/cases", json=body, headers=users["front_desk"].headers)


def test_a_draft_upload_then_publish(client: Any, users: dict[str, Any]) -> None:
    designer, clerk = users["designer"].headers, users["front_desk"].headers
    draft = post_file(client, BASE, designer, restaurant_zip(), publish="false")
    assert draft.status_code == 201 and (draft.json["version"], draft.json["status"]) == (
        1,
        "draft",
    )
    assert client.get(BASE, headers=clerk).json["bundles"] == []
    assert client.get(f"{BASE}/restaurant", headers=clerk).status_code == 404
    assert client.get(f"{BASE}/restaurant/versions/1", headers=clerk).status_code == 404
    [listed] = client.get(BASE, headers=designer).json["bundles"]
    assert (listed["state"], listed["published_version"], listed["status"]) == (
        "draft",
        None,
        "draft",
    )
    refused = start(client, users)
    assert refused.status_code == 409 and "尚未发布" in refused.json["error"]

    assert client.post(f"{BASE}/restaurant/versions/1/publish", headers=clerk).status_code == 403
    done = client.post(f"{BASE}/restaurant/versions/1/publish", headers=designer)
    assert done.status_code == 200
    assert done.json == {
        "key": "restaurant",
        "state": "published",
        "published_version": 1,
        "retired": False,
        "superseded_version": None,
    }
    again = client.post(f"{BASE}/restaurant/versions/1/publish", headers=designer)
    assert again.status_code == 409 and again.json["error"] == "第 1 版已发布, 只有草稿可以发布"
    detail = client.get(f"{BASE}/restaurant", headers=clerk).json
    assert (detail["version"], detail["status"], detail["state"], detail["retired"]) == (
        1,
        "published",
        "published",
        False,
    )
    assert start(client, users).status_code == 201
    # a query parameter works as the form field does; anything but true/false is refused
    second = client.post(
        f"{BASE}?publish=false",
        headers=designer,
        data={"file": (io.BytesIO(restaurant_zip()), "restaurant.zip")},
        content_type="multipart/form-data",
    )
    assert (second.status_code, second.json["status"]) == (201, "draft")
    odd = post_file(client, BASE, designer, restaurant_zip(), publish="maybe")
    assert odd.status_code == 422 and odd.json["errors"][0]["field"] == "publish"
    version_2 = client.get(f"{BASE}/restaurant/versions/2", headers=designer).json
    assert (version_2["status"], version_2["published_version"], version_2["latest_version"]) == (
        "draft",
        1,
        2,
    )


def test_uploads_publish_at_once_by_default(client: Any, users: dict[str, Any]) -> None:
    done = post_file(client, BASE, users["designer"].headers, restaurant_zip())
    assert (done.status_code, done.json["status"]) == (201, "published")
    assert start(client, users).status_code == 201


def test_discard(client: Any, users: dict[str, Any]) -> None:
    designer = users["designer"].headers
    post_file(client, BASE, designer, restaurant_zip())
    post_file(client, BASE, designer, restaurant_zip(), publish="false")
    url = f"{BASE}/restaurant/versions/2/discard"
    assert client.post(url, headers=users["auditor"].headers).status_code == 403
    done = client.post(url, headers=designer)
    assert done.status_code == 200 and done.json["published_version"] == 1
    again = client.post(url, headers=designer)
    assert again.status_code == 409 and "只有草稿可以放弃" in again.json["error"]
    published = client.post(f"{BASE}/restaurant/versions/2/publish", headers=designer)
    assert published.status_code == 409
    assert client.post(f"{BASE}/restaurant/versions/7/discard", headers=designer).status_code == 404
    assert client.post(f"{BASE}/nothing/versions/1/discard", headers=designer).status_code == 404


def test_retire_and_restore(client: Any, users: dict[str, Any]) -> None:
    admin = users["admin"].headers
    post_file(client, BASE, users["designer"].headers, restaurant_zip())
    running = start(client, users).json
    for role in ("designer", "front_desk", "auditor"):
        assert (
            client.post(f"{BASE}/restaurant/retire", headers=users[role].headers).status_code == 403
        )
    retired = client.post(f"{BASE}/restaurant/retire", headers=admin)
    assert retired.status_code == 200 and retired.json["state"] == "retired"
    assert client.post(f"{BASE}/restaurant/retire", headers=admin).status_code == 409
    refused = start(client, users)
    assert refused.status_code == 409 and "已停用" in refused.json["error"]
    assert client.get(BASE, headers=users["front_desk"].headers).json["bundles"] == []
    assert client.get(f"{BASE}/restaurant", headers=users["front_desk"].headers).json["retired"]
    # its running case is still worked
    task = running["tasks"][0]["id"]
    body = {"data": {"intake_decision": "refuse", "intake_opinion": "不属于本中心受理范围"}}
    worked = client.post(
        f"/api/v1/tasks/{task}/complete", json=body, headers=users["front_desk"].headers
    )
    assert worked.status_code == 200 and worked.json["status"] == "completed"
    assert (
        client.post(f"{BASE}/restaurant/restore", headers=users["designer"].headers).status_code
        == 403
    )
    restored = client.post(f"{BASE}/restaurant/restore", headers=admin)
    assert restored.status_code == 200 and restored.json["state"] == "published"
    assert client.post(f"{BASE}/restaurant/restore", headers=admin).status_code == 409
    assert start(client, users).status_code == 201
    assert client.post(f"{BASE}/nothing/retire", headers=admin).status_code == 404


def test_validate_checks_and_stores_nothing(client: Any, users: dict[str, Any]) -> None:
    designer = users["designer"].headers
    url = f"{BASE}/validate"
    good = post_file(client, url, designer, restaurant_zip())
    assert good.status_code == 200 and good.json["valid"] is True
    assert (good.json["key"], good.json["next_version"], good.json["dropped"]) == (
        "restaurant",
        1,
        [],
    )
    bad = bpmn.linear('camunda:candidateGroups="front_desk" camunda:formKey="nowhere.json"')
    refused = post_file(client, url, designer, bpmn.zipped({"p.bpmn": bad}))
    assert refused.status_code == 422 and refused.json["errors"][0]["element"] == "task"
    assert client.get(BASE, headers=designer).json["bundles"] == []
    assert post_file(client, url, users["front_desk"].headers, restaurant_zip()).status_code == 403
    missing = client.post(url, headers=designer)
    assert missing.status_code == 422


def test_a_version_downloads_as_a_zip(client: Any, users: dict[str, Any]) -> None:
    post_file(client, BASE, users["designer"].headers, restaurant_zip())
    url = f"{BASE}/restaurant/versions/1/bundle.zip"
    for role in ("designer", "admin", "auditor"):
        response = client.get(url, headers=users[role].headers)
        assert response.status_code == 200 and response.mimetype == "application/zip"
    assert 'filename="restaurant-v1.zip"' in response.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "bundle.json" in names and "forms/restaurant/intake.json" in names
    assert client.get(url, headers=users["front_desk"].headers).status_code == 403
    assert client.get(url).status_code == 401
    assert (
        client.get(
            f"{BASE}/restaurant/versions/2/bundle.zip", headers=users["admin"].headers
        ).status_code
        == 404
    )
