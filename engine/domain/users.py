"""Users and their roles: who may do what."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    DESIGNER = "designer"  # 流程设计员
    CLERK = "clerk"  # 窗口/审批人员
    AUDITOR = "auditor"  # 审计
    ADMIN = "admin"  # 管理员


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    groups: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Only a token's hash is stored: a leaked database yields no usable tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
