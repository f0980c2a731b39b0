"""engine/bpmn/patches.py: every patch of SpiffWorkflow is in effect, and only on the pinned
version. (What each patch is for is tested where it matters: the clock in
tests/processes/test_constructs.py, the task ids by every re-execution test, the bounds in
tests/unit/test_multi_instance_limits.py, the quiet `_set_state` in
tests/unit/test_runtime_guards.py, the compiled XPath in tests/unit/test_upload_scale.py.)"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module
import SpiffWorkflow.task as task_module

from engine.bpmn import patches
from engine.bpmn.clock import engine_time
from engine.bpmn.ids import task_ids

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


def test_the_pinned_version_is_the_one_pyproject_pins() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"SpiffWorkflow=={patches.PINNED_VERSION}" in dependencies


def test_any_other_version_is_refused() -> None:
    patches.check_version(patches.PINNED_VERSION)
    with pytest.raises(patches.UnsupportedSpiffWorkflow, match="3.2.1 is installed"):
        patches.check_version("3.2.1")


def test_importing_the_engine_under_another_version_fails_loudly() -> None:
    """In a fresh interpreter whose package metadata reports another SpiffWorkflow."""
    script = (
        "import importlib.metadata as m\n"
        "real = m.version\n"
        "m.version = lambda name: '3.1.1' if name == 'SpiffWorkflow' else real(name)\n"
        "import engine.bpmn\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0
    assert "UnsupportedSpiffWorkflow: SpiffWorkflow 3.1.1 is installed" in run.stderr


@pytest.mark.parametrize("patch", patches.PATCHES, ids=lambda p: p.name)
def test_every_patch_is_in_effect(patch: patches.Patch) -> None:
    assert getattr(patch.owner, patch.name) is patch.replacement
    assert patch.why


def test_spiffworkflow_reads_the_step_clock() -> None:
    with engine_time(lambda: AT):
        assert timer_module.datetime.now(UTC) == AT
        assert task_module.time.time() == AT.timestamp()
    assert abs(task_module.time.time() - datetime.now(UTC).timestamp()) < 60


def test_spiffworkflow_task_ids_are_seeded_within_a_step() -> None:
    with task_ids("case:7"):
        first = [task_module.uuid4() for _ in range(3)]
    with task_ids("case:7"):
        again = [task_module.uuid4() for _ in range(3)]
    assert first == again and len(set(first)) == 3
    assert task_module.uuid4() != task_module.uuid4()  # outside a step: random


def test_a_timer_date_without_a_zone_is_read_in_lianban_timezone() -> None:
    # the default LIANBAN_TIMEZONE is Asia/Shanghai (UTC+8), whatever the server's own zone
    due = timer_module.TimerEventDefinition.get_datetime("2026-03-04T09:00:00")
    assert due == datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
    zoned = timer_module.TimerEventDefinition.get_datetime("2026-03-04T09:00:00+00:00")
    assert zoned == datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
