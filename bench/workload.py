"""The benchmark's workload: the restaurant case every throughput figure runs, as data.

A copy kept apart from the tests' fixtures on purpose: figures are compared across versions
(docs/performance.md), so what is measured must not move when a test changes its data. If the
restaurant bundle's forms change, the tiny run in tests/bench fails and this file is updated,
with the change noted beside the figures. Plain data: `bench.spiff_alone` loads it without any
of lianban.
"""

from __future__ import annotations

from typing import Any

APPLICATION: dict[str, Any] = {
    "applicant_name": "张三",
    "applicant_id_number": "91330102MA2H0ABC1X",
    "shop_name": "老张面馆",
    "shop_address": "杭州市上城区解放路 1 号",
    "business_scope": "热食类食品制售",
    "premises_area_m2": 85.5,
    "contact_phone": "13800138000",
}
ACCEPT: dict[str, Any] = {"intake_decision": "accept", "intake_opinion": "材料齐全"}
# the 补正 loop of the long-case figures: 一窗受理 asks for materials, the applicant supplies them
CORRECT: dict[str, Any] = {
    "intake_decision": "correct",
    "missing_materials": ["premises_proof", "health_certificates"],
}
CORRECTED: dict[str, Any] = {"supplied_materials": ["premises_proof", "health_certificates"]}
ISSUANCE: dict[str, Any] = {
    "licence_number": "91330102MA2H0ABC1X",
    "permit_number": "JY13301020000017",
    "delivery_method": "window",
}

# 一窗受理 accepts, both reviews grant without a site inspection, 统一发证 issues both
# certificates (the issue's "restaurant case").
PATH = "granted_without_inspection"
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("intake", ACCEPT),
    ("review_food", {"food_approved": True, "needs_inspection": False}),
    ("review_licence", {"licence_approved": True, "licence_opinion": "同意"}),
    ("joint_issuance", ISSUANCE),
]
END = "concluded"
ISSUE_ELEMENT = "joint_issuance"
PATHS: dict[str, tuple[list[tuple[str, dict[str, Any]]], str]] = {PATH: (STEPS, END)}
