"""Where a task's own limit comes from (docs/time-limits.md): the element's `time_limit`, or the
送达 limit of the Administrative Licensing Law Art. 44 for an issuance task."""

from __future__ import annotations

from .bundle_versions import BundleVersion

DELIVERY = "delivery"  # 送达 (Art. 44): `time_limits.delivery_workdays` from the decision
OWN = "own"  # the element's own `time_limit`
ISSUE = "issue"  # the `certificate_action` of 统一发证


def limit_kind(version: BundleVersion | None, element: str) -> str | None:
    """OWN (the element states a `time_limit`, which wins), DELIVERY (an issuance task,
    `certificate_action: issue`, of a bundle with a time policy), or None (no limit of its own)."""
    info = version.human_tasks.get(element) if version else None
    if version is None or info is None:
        return None
    if info.properties.get("time_limit") is not None:
        return OWN
    policy = version.time_policy
    if info.properties.get("certificate_action") == ISSUE and (
        policy.limit is not None or policy.statutory_limit is not None
    ):
        return DELIVERY
    return None
