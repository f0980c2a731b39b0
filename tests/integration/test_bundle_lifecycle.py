"""The bundle lifecycle (issue 16 §2): drafts, publish, discard, retire, restore, each recorded
with who and when; what clerks and the public see of each state; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine.bundles.source import BundleSource, from_path, from_upload
from engine.errors import Conflict, Forbidden, NotFound
from engine.persistence.db import make_engine
from engine.persistence.schema import alembic_config
from engine.services import Services, cases, catalogue, publishing
from tests.conftest import PROCESSES
from tests.fixtures.restaurant import APPLICATION, REFUSE

RESTAURANT = PROCESSES / "restaurant"


def changed_restaurant(old: str = "一窗受理", new: str = "综合窗口受理") -> BundleSource:
    source = from_path(RESTAURANT)
    name = next(p for p in source.files if p.endswith(".bpmn"))
    source.files[name] = source.files[name].replace(old.encode(), new.encode())
    return source


def task_of(view: dict[str, Any], element: str) -> dict[str, Any]:
    return next(t for t in view["tasks"] if t["element"] == element)


def start(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    return cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)


def history(services: Services) -> list[tuple[Any, ...]]:
    with services.uow() as uow:
        rows = uow.bundles.transitions("restaurant")
    return [(r["version"], r["action"], r["from_state"], r["to_state"], r["actor"]) for r in rows]


def test_a_draft_is_neither_startable_nor_public_until_published(
    services: Services, users: dict[str, Any]
) -> None:
    designer, clerk = users["designer"].user, users["front_desk"].user
    done = publishing.deploy(services, from_path(RESTAURANT), designer, publish=False)
    assert (done["version"], done["status"]) == (1, "draft")
    with pytest.raises(Conflict, match="尚未发布, 不能新建办件"):
        start(services, users)
    assert catalogue.public_guides(services) == []
    with pytest.raises(NotFound):
        catalogue.public_guide(services, "restaurant")
    assert catalogue.list_bundles(services, clerk) == []
    assert catalogue.startable_bundles(services, designer) == []
    with pytest.raises(NotFound):  # a clerk does not see a draft at all
        catalogue.bundle_detail(services, clerk, "restaurant")
    with pytest.raises(NotFound):
        catalogue.bundle_detail(services, clerk, "restaurant", 1)
    [listed] = catalogue.list_bundles(services, designer)
    assert (listed["state"], listed["published_version"], listed["status"]) == (
        "draft",
        None,
        "draft",
    )
    detail = catalogue.bundle_detail(services, designer, "restaurant")
    assert (detail["version"], detail["status"], detail["state"]) == (1, "draft", "draft")

    done = publishing.publish(services, designer, "restaurant", 1)
    assert done == {
        "key": "restaurant",
        "state": "published",
        "published_version": 1,
        "retired": False,
        "superseded_version": None,
    }
    assert start(services, users)["version"] == 1
    assert [g["key"] for g in catalogue.public_guides(services)] == ["restaurant"]
    assert [b["version"] for b in catalogue.list_bundles(services, clerk)] == [1]
    assert history(services) == [
        (1, "upload", None, "draft", "designer"),
        (1, "publish", "draft", "published", "designer"),
    ]


def test_new_cases_start_on_the_published_version_and_keep_theirs(
    services: Services, users: dict[str, Any]
) -> None:
    designer, admin = users["designer"].user, users["admin"].user
    publishing.deploy(services, from_path(RESTAURANT), designer)  # published at once
    v1_case = start(services, users)
    draft = publishing.deploy(services, changed_restaurant(), designer, publish=False)
    assert draft["version"] == 2
    # a draft changes nothing for clerks or the public: still version 1
    assert start(services, users)["version"] == 1
    assert catalogue.public_guide(services, "restaurant")["version"] == 1
    assert catalogue.bundle_detail(services, users["front_desk"].user, "restaurant")["version"] == 1
    designer_view = catalogue.bundle_detail(services, designer, "restaurant")
    assert (designer_view["version"], designer_view["latest_version"]) == (1, 2)

    assert publishing.publish(services, admin, "restaurant", 2)["superseded_version"] == 1
    v2_case = start(services, users)
    assert v2_case["version"] == 2 and task_of(v2_case, "intake")["name"] == "综合窗口受理"
    assert catalogue.public_guide(services, "restaurant")["version"] == 2
    # the v1 case keeps its version and its route
    done = cases.complete(
        services, users["front_desk"].user, task_of(v1_case, "intake")["id"], REFUSE
    )
    assert (done["version"], done["status"]) == (1, "completed")
    overview = catalogue.version_overview(services, designer, "restaurant", 1)
    assert (overview["status"], overview["published_version"]) == ("superseded", 2)
    assert [(t["action"], t["version"], t["actor"]) for t in overview["history"]] == [
        ("publish", 2, "admin"),
        ("upload", 2, "designer"),
        ("upload", 1, "designer"),
    ]


def test_discarding_a_draft_and_the_wrong_transitions(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    publishing.deploy(services, from_path(RESTAURANT), designer)
    publishing.deploy(services, changed_restaurant(), designer, publish=False)  # v2
    publishing.deploy(services, changed_restaurant(new="三号窗口"), designer, publish=False)
    with pytest.raises(Conflict, match="只有草稿可以发布"):
        publishing.publish(services, designer, "restaurant", 1)
    with pytest.raises(Conflict, match="只有草稿可以放弃"):
        publishing.discard(services, designer, "restaurant", 1)
    assert publishing.discard(services, designer, "restaurant", 2)["published_version"] == 1
    with pytest.raises(Conflict, match="第 2 版已放弃, 只有草稿可以发布"):
        publishing.publish(services, designer, "restaurant", 2)
    with pytest.raises(Conflict, match="只有草稿可以放弃"):
        publishing.discard(services, designer, "restaurant", 2)
    publishing.publish(services, designer, "restaurant", 3)
    with pytest.raises(NotFound):
        publishing.publish(services, designer, "restaurant", 9)
    with pytest.raises(NotFound):
        publishing.discard(services, designer, "nothing", 1)
    # an older draft cannot be published over a newer published version
    publishing.deploy(services, changed_restaurant(new="四号窗口"), designer, publish=False)
    publishing.deploy(services, changed_restaurant(new="五号窗口"), designer)  # v5, published
    with pytest.raises(Conflict, match="不能再发布更早的第 4 版草稿"):
        publishing.publish(services, designer, "restaurant", 4)
    with services.uow() as uow:
        statuses = [uow.bundles.version_status("restaurant", n) for n in range(1, 6)]
    assert statuses == ["superseded", "discarded", "superseded", "draft", "published"]
    with pytest.raises(Forbidden):
        publishing.publish(services, users["front_desk"].user, "restaurant", 4)
    with pytest.raises(Forbidden):
        publishing.discard(services, users["auditor"].user, "restaurant", 4)


def test_a_retired_bundle_takes_no_new_cases_and_its_running_ones_finish(
    services: Services, users: dict[str, Any]
) -> None:
    designer, admin, clerk = users["designer"].user, users["admin"].user, users["front_desk"].user
    publishing.deploy(services, from_path(RESTAURANT), designer)
    running = start(services, users)
    with pytest.raises(Forbidden, match="只有管理员可以停用事项包"):
        publishing.retire(services, designer, "restaurant")
    assert publishing.retire(services, admin, "restaurant")["state"] == "retired"
    with pytest.raises(Conflict, match="已停用, 不能新建办件"):
        start(services, users)
    with pytest.raises(Conflict, match="已经停用"):
        publishing.retire(services, admin, "restaurant")
    with pytest.raises(Conflict, match="已停用"):
        catalogue.start_page(services, clerk, "restaurant")
    assert catalogue.public_guides(services) == []
    assert catalogue.list_bundles(services, clerk) == []
    # the clerk's worklist filter still offers it: its running cases are worked
    assert [b["key"] for b in catalogue.list_bundles(services, clerk, with_retired=True)] == [
        "restaurant"
    ]
    assert catalogue.bundle_detail(services, clerk, "restaurant")["retired"] is True
    done = cases.complete(services, clerk, task_of(running, "intake")["id"], REFUSE)
    assert done["status"] == "completed"
    # publishing while retired keeps it retired
    publishing.deploy(services, changed_restaurant(), designer, publish=False)
    assert publishing.publish(services, designer, "restaurant", 2)["state"] == "retired"
    with pytest.raises(Forbidden):
        publishing.restore(services, designer, "restaurant")
    assert publishing.restore(services, admin, "restaurant")["state"] == "published"
    with pytest.raises(Conflict, match="没有停用"):
        publishing.restore(services, admin, "restaurant")
    assert start(services, users)["version"] == 2
    assert history(services)[-4:] == [
        (None, "retire", "published", "retired", "admin"),
        (2, "upload", None, "draft", "designer"),
        (2, "publish", "draft", "published", "designer"),
        (None, "restore", "retired", "published", "admin"),
    ]


def test_transitions_are_append_only(services: Services, users: dict[str, Any]) -> None:
    publishing.deploy(services, from_path(RESTAURANT), users["designer"].user)
    for statement in (
        "UPDATE bundle_transitions SET actor = 'x'",
        "DELETE FROM bundle_transitions",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with services.engine.begin() as conn:
                conn.execute(text(statement))
    assert len(history(services)) == 1


def test_validate_stores_nothing(services: Services, users: dict[str, Any]) -> None:
    designer = users["designer"].user
    found = publishing.validate(services, from_path(RESTAURANT), designer)
    assert found["valid"] is True and found["key"] == "restaurant" and found["next_version"] == 1
    assert catalogue.list_bundles(services, designer) == []
    with pytest.raises(Forbidden):
        publishing.validate(services, from_path(RESTAURANT), users["front_desk"].user)


def test_the_cli_redeploy_skips_only_what_is_already_so(
    services: Services, users: dict[str, Any]
) -> None:
    first = publishing.deploy(services, from_path(RESTAURANT), "cli", publish=False)
    again = publishing.deploy(services, from_path(RESTAURANT), "cli", True, publish=False)
    assert (again["version"], again["unchanged"], again["status"]) == (1, True, "draft")
    # the same files deployed published: a draft is not what was asked, so a new version
    published = publishing.deploy(services, from_path(RESTAURANT), "cli", skip_unchanged=True)
    assert (first["version"], published["version"], published["status"]) == (1, 2, "published")
    same = publishing.deploy(services, from_path(RESTAURANT), "cli", skip_unchanged=True)
    assert (same["version"], same["unchanged"]) == (2, True)


def test_a_version_downloads_as_the_zip_it_was_made_from(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    done = publishing.deploy(services, from_path(RESTAURANT), designer)
    data = catalogue.bundle_zip(services, users["auditor"].user, "restaurant", 1)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "bundle.json" in names and any(n.endswith(".bpmn") for n in names)
    # uploaded again, it is the same bundle: the same checksum, stored as nothing new
    again = publishing.deploy(
        services, from_upload("restaurant.zip", data), designer, skip_unchanged=True
    )
    assert (again["checksum"], again["unchanged"]) == (done["checksum"], True)
    with pytest.raises(Forbidden):
        catalogue.bundle_zip(services, users["front_desk"].user, "restaurant", 1)
    with pytest.raises(NotFound):
        catalogue.bundle_zip(services, designer, "restaurant", 2)


def test_the_migration_publishes_each_bundles_latest_version(
    services: Services, users: dict[str, Any], db_url: str
) -> None:
    designer = users["designer"].user
    publishing.deploy(services, from_path(RESTAURANT), designer)
    publishing.deploy(services, changed_restaurant(), designer)
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0008")
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    with services.uow() as uow:
        lifecycle = uow.bundles.lifecycle("restaurant")
        statuses = [uow.bundles.version_status("restaurant", n) for n in (1, 2)]
    assert lifecycle is not None and (lifecycle.published_version, lifecycle.retired) == (2, False)
    assert statuses == ["superseded", "published"]
    assert history(services) == [
        (1, "upload", None, "published", "designer"),
        (2, "upload", None, "published", "designer"),
    ]
    assert start(services, users)["version"] == 2
