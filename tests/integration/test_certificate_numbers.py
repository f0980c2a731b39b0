"""Certificate numbers are checked at 统一发证 against the kind's pattern from bundle.json, or a
safe default (issue 14, section 5); the PDF's file name is written per RFC 6266; a renewal sets
`renewal_of` itself, which no form may. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Invalid
from engine.services import Services, cases, publishing, queries
from tests.fixtures import bpmn
from tests.fixtures import restaurant as r
from tests.fixtures.licences import APPLICATION, METADATA, PROCESS
from tests.integration.test_cases import task_of


def deploy(services: Services, metadata: dict[str, Any]) -> None:
    files = {"licences.bpmn": PROCESS, "bundle.json": json.dumps(metadata)}
    publishing.deploy(services, from_upload("licences.zip", bpmn.zipped(files)), "test")


def issue(services: Services, users: dict[str, Any], numbers: dict[str, str]) -> Any:
    case = cases.start_case(services, users["front_desk"].user, "licences", APPLICATION)
    task = case["tasks"][0]["id"]
    before = queries.get_case(services, users["auditor"].user, case["id"])
    try:
        return cases.complete(services, users["issuer"].user, task, numbers)
    except Invalid as err:
        after = queries.get_case(services, users["auditor"].user, case["id"])
        assert after == before  # nothing issued, the task still open
        raise err


@pytest.mark.parametrize(
    "bad",
    ['JY"13301', "JY/1330", "JY\r\n1330", "JY 1330", "JY\t13", "J" * 65, "JY;1330", "JY%2F1"],
)
def test_numbers_that_would_break_addresses_or_headers_are_refused(
    services: Services, users: dict[str, Any], bad: str
) -> None:
    deploy(services, METADATA)
    with pytest.raises(Invalid) as caught:
        issue(services, users, {"licence_number": "LIC-1", "permit_number": bad})
    [problem] = caught.value.errors
    assert problem["field"] == "permit_number"
    assert (
        "格式不正确: 只能由字母、数字、汉字、连字符和括号组成, 不超过 64 个字符"
        in problem["message"]
    )


def test_a_kinds_own_pattern(services: Services, users: dict[str, Any]) -> None:
    metadata = copy.deepcopy(METADATA)
    metadata["items"][1]["certificate"]["number_pattern"] = "JY[0-9]{14}"
    deploy(services, metadata)
    with pytest.raises(Invalid) as caught:
        issue(services, users, {"licence_number": "LIC-1", "permit_number": "JY-2"})
    assert caught.value.errors == [
        {"field": "permit_number", "message": "证号 'JY-2' 不符合食品经营许可证的编号规则"}
    ]
    done = issue(
        services, users, {"licence_number": "浙(2026)1", "permit_number": "JY13301020000017"}
    )
    assert sorted(c["number"] for c in done["certificates"]) == ["JY13301020000017", "浙(2026)1"]


def test_a_pattern_re2_cannot_run_is_refused_at_upload(services: Services) -> None:
    metadata = copy.deepcopy(METADATA)
    metadata["items"][0]["certificate"]["number_pattern"] = "(a)\\1"
    with pytest.raises(Invalid) as caught:
        deploy(services, metadata)
    [problem] = caught.value.errors
    assert "items/0/certificate/number_pattern" in problem["message"]
    assert problem["file"] == "bundle.json"


def test_the_pdf_names_its_file_safely(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    deploy(services, METADATA)
    issue(services, users, {"licence_number": "浙(2026)食经字1", "permit_number": "JY-1"})
    pdf = client.get("/api/v1/certificates/浙(2026)食经字1/pdf", headers=users["auditor"].headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        'inline; filename="_(2026)___1.pdf"; '
        "filename*=UTF-8''%E6%B5%99%282026%29%E9%A3%9F%E7%BB%8F%E5%AD%971.pdf"
    )


def test_a_restaurant_permit_renews_and_renewal_of_is_the_engines(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    front = users["front_desk"].user
    with pytest.raises(Invalid) as caught:
        cases.start_case(
            services, front, "restaurant", {**r.APPLICATION, "renewal_of": "JY13301020000017"}
        )
    assert [e["field"] for e in caught.value.errors] == ["renewal_of"]
    case = cases.start_case(services, front, "restaurant", r.APPLICATION)
    case = cases.complete(services, front, task_of(case, "intake")["id"], r.ACCEPT)
    case = cases.complete(
        services, users["market_reviewer"].user, task_of(case, "review_licence")["id"], r.LICENCE_OK
    )
    case = cases.complete(
        services, users["food_reviewer"].user, task_of(case, "review_food")["id"], r.FOOD_OK
    )
    case = cases.complete(
        services, users["issuer"].user, task_of(case, "joint_issuance")["id"], r.ISSUANCE
    )
    renewal = cases.renew(services, front, r.ISSUANCE["permit_number"])
    assert renewal["data"] == {**r.APPLICATION, "renewal_of": r.ISSUANCE["permit_number"]}
    started = queries.events(services, users["auditor"].user, renewal["id"])[0]
    assert started["data"]["data"]["renewal_of"] == r.ISSUANCE["permit_number"]
