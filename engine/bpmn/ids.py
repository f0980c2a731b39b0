"""Task ids that a replay can reproduce.

SpiffWorkflow gives every task a random `uuid4()`; `engine/bpmn/patches.py` makes it call
`next_task_id` instead. Within a step the engine installs a seed (`with task_ids("<case>:<event
seq>")`), and ids are then UUIDv5 of the seed and a counter: the same step run again on the same
state creates the same tasks with the same ids, so the stored state, and its hash, come out byte
for byte the same. Outside a step ids stay random.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import count

_NAMESPACE = uuid.UUID("6f1d3c2a-9d0e-5b7f-8a41-3c2b1e0f9a77")
_seed: ContextVar[tuple[str, Iterator[int]] | None] = ContextVar("lianban_task_ids", default=None)


@contextmanager
def task_ids(seed: str) -> Iterator[None]:
    token = _seed.set((seed, count()))
    try:
        yield
    finally:
        _seed.reset(token)


def next_task_id() -> uuid.UUID:
    """The id of the next task SpiffWorkflow creates: seeded within a step, else random."""
    current = _seed.get()
    if current is None:
        return uuid.uuid4()
    seed, counter = current
    return uuid.uuid5(_NAMESPACE, f"{seed}:{next(counter)}")
