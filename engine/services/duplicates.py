"""The window's check before 收件: has this applicant an open case of the same bundle?"""

from __future__ import annotations

from typing import Any

from engine.domain.users import Role, User
from engine.errors import Forbidden, NotFound
from engine.persistence.idempotency import open_cases_of_applicant

from .context import Services


def open_cases(
    svc: Services, user: User, bundle_key: str, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """Running cases of `bundle_key` for the applicant of `data`: by ID number when given, else
    by name and contact phone together; nothing when neither identifies the applicant."""
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员可以收件")
    with svc.uow() as uow:
        found = uow.bundles.start_version(bundle_key)
        if found is None:
            raise NotFound(f"事项包 '{bundle_key}' 不存在")
        published = found[2]
        if published is None:
            return []
        version, _runtime = svc.runtimes.get(uow, published)
        fields = version.meta.applicant

        def given(name: str) -> str | None:
            value = data.get(name)
            return value.strip() if isinstance(value, str) and value.strip() else None

        id_number = given(fields.id_field)
        name, phone = given(fields.name_field), given(fields.phone_field)
        if id_number:
            match = {fields.id_field: id_number}
        elif name and phone:
            match = {fields.name_field: name, fields.phone_field: phone}
        else:
            return []
        rows = open_cases_of_applicant(uow.conn, bundle_key, match)
    return [
        {
            "id": r["id"],
            "applicant": (r["data"] or {}).get(fields.name_field),
            "created_at": r["created_at"].isoformat(),
            "created_by": r["created_by"],
        }
        for r in rows
    ]
