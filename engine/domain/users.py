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
    display_name: str | None = None  # 姓名 as printed documents sign, e.g. 张敏
    department: str | None = None  # 科室/部门, e.g. 综合窗口

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def signature(self) -> str:
        """How a printed document names this user: "张敏 (综合窗口)", the login name without a
        display name."""
        return signature(self.name, self.display_name, self.department)


def signature(name: str, display_name: str | None, department: str | None) -> str:
    """The display name and department, "张敏 (综合窗口)"; the login name stands in for a
    missing display name."""
    shown = (display_name or "").strip() or name
    place = (department or "").strip()
    return f"{shown} ({place})" if place else shown


def new_token() -> str:
    return secrets.token_urlsafe(32)


# scrypt parameters for sign-in passwords: about 50 ms a check, 16 MiB of memory.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """A salted scrypt hash, stored as `scrypt$n$r$p$salt$hash` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


# What a name without a password is checked against: a hash of the same parameters as real
# ones (the same work), whose digest no password produces. Made up front: computing it on the
# first unknown name would make that one sign-in slower than the others.
STAND_IN_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${'00' * 16}${'00' * 64}"


def check_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches a hash made by `hash_password` (in constant time)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return secrets.compare_digest(actual.hex(), digest)


def hash_token(token: str) -> str:
    """Only a token's hash is stored: a leaked database yields no usable tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
