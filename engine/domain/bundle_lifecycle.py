"""A bundle's lifecycle: a version is a draft until published (or discarded); the bundle as a whole
can be retired (no new cases) and restored. Which transition is allowed from which state, and
who may make it: pure rules, checked by the use cases in engine/services/publishing.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.errors import Conflict, Forbidden

from .users import Role


class VersionStatus(StrEnum):
    DRAFT = "draft"  # stored, checked, not used for cases
    PUBLISHED = "published"  # the version new cases start on (one per bundle)
    SUPERSEDED = "superseded"  # was published; its running cases keep it
    DISCARDED = "discarded"  # a draft given up; kept, never used

    @property
    def label(self) -> str:
        return _VERSION_LABELS[self]


class BundleState(StrEnum):
    """What a bundle is as a whole, for the lists: startable or not."""

    DRAFT = "draft"  # no version published yet
    PUBLISHED = "published"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


class Action(StrEnum):
    UPLOAD = "upload"  # a new version, stored as a draft or published at once
    PUBLISH = "publish"
    DISCARD = "discard"
    RETIRE = "retire"
    RESTORE = "restore"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_VERSION_LABELS = {
    VersionStatus.DRAFT: "草稿",
    VersionStatus.PUBLISHED: "已发布",
    VersionStatus.SUPERSEDED: "已被替代",
    VersionStatus.DISCARDED: "已放弃",
}
_STATE_LABELS = {
    BundleState.DRAFT: "草稿",
    BundleState.PUBLISHED: "已发布",
    BundleState.RETIRED: "已停用",
}
_ACTION_LABELS = {
    Action.UPLOAD: "上传",
    Action.PUBLISH: "发布",
    Action.DISCARD: "放弃草稿",
    Action.RETIRE: "停用",
    Action.RESTORE: "恢复",
}

# Who may make each transition.
ALLOWED_ROLES: dict[Action, frozenset[Role]] = {
    Action.UPLOAD: frozenset({Role.DESIGNER, Role.ADMIN}),
    Action.PUBLISH: frozenset({Role.DESIGNER, Role.ADMIN}),
    Action.DISCARD: frozenset({Role.DESIGNER, Role.ADMIN}),
    Action.RETIRE: frozenset({Role.ADMIN}),
    Action.RESTORE: frozenset({Role.ADMIN}),
}

_FORBIDDEN = {
    Action.UPLOAD: "只有流程设计员和管理员可以上传事项包",
    Action.PUBLISH: "只有流程设计员和管理员可以发布事项包",
    Action.DISCARD: "只有流程设计员和管理员可以放弃草稿",
    Action.RETIRE: "只有管理员可以停用事项包",
    Action.RESTORE: "只有管理员可以恢复事项包",
}


@dataclass(frozen=True, slots=True)
class BundleStatus:
    """A bundle's lifecycle as stored: its published version (None: none yet) and whether retired."""

    published_version: int | None
    retired: bool

    @property
    def state(self) -> BundleState:
        if self.retired:
            return BundleState.RETIRED
        return BundleState.PUBLISHED if self.published_version is not None else BundleState.DRAFT

    @property
    def startable(self) -> bool:
        """Whether clerks may start new cases on it (and the public 办事指南 shows it)."""
        return self.state is BundleState.PUBLISHED


def require_role(action: Action, role: Role) -> None:
    if role not in ALLOWED_ROLES[action]:
        raise Forbidden(_FORBIDDEN[action])


def check_publish(status: VersionStatus, version: int, bundle: BundleStatus) -> None:
    """A draft newer than the published version may be published."""
    if status is not VersionStatus.DRAFT:
        raise Conflict(f"第 {version} 版{status.label}, 只有草稿可以发布")
    if bundle.published_version is not None and version < bundle.published_version:
        raise Conflict(
            f"第 {bundle.published_version} 版已发布, 不能再发布更早的第 {version} 版草稿; "
            "请放弃这份草稿"
        )


def check_discard(status: VersionStatus, version: int) -> None:
    if status is not VersionStatus.DRAFT:
        raise Conflict(f"第 {version} 版{status.label}, 只有草稿可以放弃")


def check_retire(bundle: BundleStatus) -> None:
    if bundle.retired:
        raise Conflict("事项包已经停用")


def check_restore(bundle: BundleStatus) -> None:
    if not bundle.retired:
        raise Conflict("事项包没有停用, 无需恢复")


def start_refusal(name: str, bundle: BundleStatus) -> str | None:
    """Why no new case may start on the bundle (None: it may)."""
    if bundle.retired:
        return f"事项包「{name}」已停用, 不能新建办件 (进行中的办件照常办理)"
    if bundle.published_version is None:
        return f"事项包「{name}」尚未发布, 不能新建办件"
    return None
