"""An upload that drops what the latest version has (its bundle.json, forms, certificates) says
so and needs `replace=true` (issue 14, section 5): through the service, the API and the
designer's page, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest

from engine.bundles.source import from_path, from_upload
from engine.errors import Conflict
from engine.services import Services, catalogue, publishing
from tests.conftest import PROCESSES
from tests.e2e.test_pages_designer import _sign_in
from tests.fixtures import bpmn

RESTAURANT = PROCESSES / "restaurant"
BARE = (RESTAURANT / "restaurant.bpmn").read_bytes()


def versions(services: Services, designer: Any) -> int:
    return int(catalogue.bundle_detail(services, designer, "restaurant")["version"])


def test_a_bare_diagram_over_a_full_bundle_needs_confirmation(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    designer = users["designer"].user
    with pytest.raises(Conflict) as caught:
        publishing.deploy(services, from_upload("restaurant.bpmn", BARE), designer)
    messages = [e["message"] for e in caught.value.details["errors"]]
    assert messages[0].startswith("上传中没有 bundle.json")
    assert "证照「营业执照」(business_licence) 将不再发放" in messages
    assert "证照「食品经营许可证」(food_permit) 将不再发放" in messages
    assert versions(services, designer) == 1  # nothing stored
    done = publishing.deploy(services, from_upload("restaurant.bpmn", BARE), designer, replace=True)
    assert done["version"] == 2
    # the same full bundle again drops nothing: no confirmation asked
    assert publishing.deploy(services, from_path(RESTAURANT), designer)["version"] == 3


def test_dropping_a_form_or_a_certificate(services: Services, users: dict[str, Any]) -> None:
    from tests.fixtures.licences import METADATA

    designer = users["designer"].user
    form = {"type": "object", "properties": {"note": {"type": "string"}}}
    task = 'camunda:candidateGroups="front_desk" camunda:formKey="note.json"'
    first = {
        "p.bpmn": bpmn.linear(task),
        "note.json": form,
        "bundle.json": {**METADATA, "process": "p", "key": "k"},
    }
    publishing.deploy(services, from_upload("k.zip", bpmn.zipped(first)), designer)
    fewer = copy.deepcopy(METADATA) | {"process": "p", "key": "k"}
    fewer["items"] = fewer["items"][:1]
    second = {"p.bpmn": bpmn.linear(), "bundle.json": fewer}
    with pytest.raises(Conflict) as caught:
        publishing.deploy(services, from_upload("k.zip", bpmn.zipped(second)), designer)
    assert [(e["message"], e["file"]) for e in caught.value.details["errors"]] == [
        ("表单 note.json 将不再使用: 用到它的任务将没有表单", "note.json"),
        ("证照「食品经营许可证」(food_permit) 将不再发放", "bundle.json"),
    ]


def test_the_api_asks_for_replace_true(
    services: Services, users: dict[str, Any], client: Any, restaurant: Any
) -> None:
    def upload(query: str = "", form: dict[str, str] | None = None) -> Any:
        data: dict[str, Any] = {"file": (io.BytesIO(BARE), "restaurant.bpmn"), **(form or {})}
        return client.post(f"/api/v1/bundles{query}", headers=users["designer"].headers, data=data)

    refused = upload()
    assert refused.status_code == 409
    assert "replace=true" in refused.json["error"]
    assert refused.json["errors"][0]["file"] == "bundle.json"
    assert upload(form={"replace": "true"}).status_code == 201
    assert upload("?replace=true").status_code == 201


def test_the_designer_page_asks_to_confirm(
    services: Services, users: dict[str, Any], client: Any, restaurant: Any
) -> None:
    token = _sign_in(client, services, "designer")

    def upload(**form: str) -> Any:
        data: dict[str, Any] = {
            "csrf_token": token,
            "file": (io.BytesIO(BARE), "restaurant.bpmn"),
            **form,
        }
        return client.post("/designer/upload", data=data, content_type="multipart/form-data")

    asked = upload()
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409
    assert "需要确认: 新版本将不再包含上一版的部分内容" in page
    assert 'name="replace" value="true" required' in page
    assert "证照「营业执照」(business_licence) 将不再发放" in page
    assert versions(services, users["designer"].user) == 1
    done = upload(replace="true", mode="publish")  # the page's default would store a draft
    assert done.status_code == 302 and done.headers["Location"].endswith(
        "/designer/bundles/restaurant/2"
    )
    assert catalogue.bundle_detail(services, users["designer"].user, "restaurant")["metadata"] == {}
