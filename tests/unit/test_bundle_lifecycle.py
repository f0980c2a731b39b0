"""The bundle lifecycle's rules (engine/domain/bundle_lifecycle.py): which transition is allowed
from which state, and who may make it."""

from __future__ import annotations

import pytest

from engine.domain.bundle_lifecycle import (
    Action,
    BundleState,
    BundleStatus,
    VersionStatus,
    check_discard,
    check_publish,
    check_restore,
    check_retire,
    require_role,
    start_refusal,
)
from engine.domain.users import Role
from engine.errors import Conflict, Forbidden

LIVE = BundleStatus(published_version=2, retired=False)
ONLY_DRAFTS = BundleStatus(published_version=None, retired=False)
RETIRED = BundleStatus(published_version=2, retired=True)


def test_the_state_of_a_bundle() -> None:
    assert ONLY_DRAFTS.state is BundleState.DRAFT and not ONLY_DRAFTS.startable
    assert LIVE.state is BundleState.PUBLISHED and LIVE.startable
    assert RETIRED.state is BundleState.RETIRED and not RETIRED.startable
    assert BundleStatus(None, retired=True).state is BundleState.RETIRED
    assert [s.label for s in BundleState] == ["草稿", "已发布", "已停用"]
    assert VersionStatus.SUPERSEDED.label == "已被替代" and Action.DISCARD.label == "放弃草稿"


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        (Action.UPLOAD, {Role.DESIGNER, Role.ADMIN}),
        (Action.PUBLISH, {Role.DESIGNER, Role.ADMIN}),
        (Action.DISCARD, {Role.DESIGNER, Role.ADMIN}),
        (Action.RETIRE, {Role.ADMIN}),
        (Action.RESTORE, {Role.ADMIN}),
    ],
)
def test_who_may_make_each_transition(action: Action, allowed: set[Role]) -> None:
    for role in Role:
        if role in allowed:
            require_role(action, role)
        else:
            with pytest.raises(Forbidden):
                require_role(action, role)


def test_only_a_draft_newer_than_the_published_version_is_published() -> None:
    check_publish(VersionStatus.DRAFT, 1, ONLY_DRAFTS)
    check_publish(VersionStatus.DRAFT, 3, LIVE)
    check_publish(VersionStatus.DRAFT, 3, RETIRED)  # it stays retired
    for status in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.DISCARDED):
        with pytest.raises(Conflict, match="只有草稿可以发布"):
            check_publish(status, 3, LIVE)
    with pytest.raises(Conflict, match="第 2 版已发布, 不能再发布更早的第 1 版草稿"):
        check_publish(VersionStatus.DRAFT, 1, LIVE)


def test_only_a_draft_is_discarded() -> None:
    check_discard(VersionStatus.DRAFT, 3)
    for status in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.DISCARDED):
        with pytest.raises(Conflict, match="只有草稿可以放弃"):
            check_discard(status, 3)


def test_retire_and_restore_alternate() -> None:
    check_retire(LIVE)
    check_retire(ONLY_DRAFTS)
    with pytest.raises(Conflict, match="已经停用"):
        check_retire(RETIRED)
    check_restore(RETIRED)
    with pytest.raises(Conflict, match="没有停用"):
        check_restore(LIVE)


def test_why_no_case_may_start() -> None:
    assert start_refusal("开餐馆", LIVE) is None
    assert start_refusal("开餐馆", ONLY_DRAFTS) == "事项包「开餐馆」尚未发布, 不能新建办件"
    refusal = start_refusal("开餐馆", RETIRED)
    assert refusal is not None and "已停用" in refusal and "进行中的办件照常办理" in refusal
