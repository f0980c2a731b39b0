"""Parsed process specs, cached per bundle version: a step never re-parses BPMN; and the live
workflows of recently stepped cases."""

from __future__ import annotations

import threading
from collections import OrderedDict

from engine.bpmn.case_workflow import CaseWorkflow
from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.serializer import specs_from_json
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case, CaseStatus
from engine.errors import NotFound
from engine.persistence.unit_of_work import UnitOfWork


class RuntimeCache:
    """Bundle versions are immutable, so their runtimes can be kept for the process's life."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[BundleVersion, ProcessRuntime]] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times specs were rebuilt from storage (tests read this)

    def cached(self, version_id: int) -> tuple[BundleVersion | None, ProcessRuntime | None]:
        with self._lock:
            found = self._items.get(version_id)
        return found if found is not None else (None, None)

    def get(self, uow: UnitOfWork, version_id: int) -> tuple[BundleVersion, ProcessRuntime]:
        """The version and its runtime; its specs are rebuilt only on the first use."""
        with self._lock:
            found = self._items.get(version_id)
            if found is not None:
                self._items.move_to_end(version_id)
                return found
        version = uow.bundles.get_version(version_id)
        if version is None:
            raise NotFound(f"流程版本 {version_id} 不存在")
        entry = (version, ProcessRuntime(specs_from_json(version.specs_json)))
        with self._lock:
            self.loads += 1
            self._items[version_id] = entry
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return entry


class LiveWorkflows:
    """The workflows of recently stepped cases, kept in memory so that the next step of such a
    case skips rebuilding the workflow from its stored state.

    An entry is the workflow together with the exact state text it was stored as; it is used
    only when the case's stored state, read under the case's lock, is still that text, so a step
    taken meanwhile by another process (or a rollback here) simply means a miss and the state is
    read as before. A step takes its entry out (no two steps can share a workflow object) and a
    step puts it back only after its transaction committed: a failed step never leaves a
    half-moved workflow behind. Continuing a workflow in memory or rebuilding it from its state
    gives the same steps: the audit replay runs cases the first way and checks every recorded
    state hash, which the steps computed the second way."""

    # A compacted restaurant workflow takes about 18 KB: 1,024 of them about 18 MB a process.
    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[str, CaseWorkflow]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # tests read these
        self.misses = 0

    def take(self, case_id: int, state: str) -> CaseWorkflow | None:
        with self._lock:
            found = self._items.pop(case_id, None)
            if found is not None and found[0] == state:
                self.hits += 1
                return found[1]
            self.misses += 1
            return None

    def keep(self, case: Case, workflow: CaseWorkflow) -> None:
        """Keep a running case's workflow, stored as `case.state`, after a committed step (a
        concluded case's is left to the garbage collector: it will not be stepped again)."""
        if self.size <= 0 or case.status != CaseStatus.RUNNING:
            return
        with self._lock:
            self._items[case.id] = (case.state, workflow)
            self._items.move_to_end(case.id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
