"""Parsed process specs, cached per bundle version: a step never re-parses BPMN."""

from __future__ import annotations

import threading
from collections import OrderedDict

from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.serializer import specs_from_json
from engine.domain.bundles import BundleVersion
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
