"""bundle.json `time_limits.intake_workdays` / `intake_warning_workdays` (Art. 32)."""

from __future__ import annotations

import json

from engine.bundles.metadata import read_metadata


def test_a_negative_intake_limit_is_refused_at_upload() -> None:
    for key in ("intake_workdays", "intake_warning_workdays"):
        raw = {"time_limits": {key: -1}}
        meta, found = read_metadata({"bundle.json": json.dumps(raw).encode()})
        assert found and key in found[0].message, found
    meta, found = read_metadata(
        {"bundle.json": json.dumps({"time_limits": {"intake_workdays": 0}}).encode()}
    )
    assert found == [] and meta.time_policy.intake_limit == 0
    assert meta.time_policy.intake_warning == 1
