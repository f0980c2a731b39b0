"""How a `lianban serve` worker runs Python's cyclic garbage collector (web/server.py): it freezes
the loaded app out of every later collection, and full collections run after a response has
gone out (gunicorn's post_request) rather than inside whichever request set them off.

Run in a fresh interpreter: freezing the test process would change every test after it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc
from collections import deque

from web.server import _Server, collect_old_garbage

app = _Server({"bind": "127.0.0.1:0", "workers": 1}).load()
frozen, left = gc.get_freeze_count(), len(gc.get_objects())

full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "stop" and info["generation"] == 2 else None)
kept = deque(maxlen=20_000)  # cycles that live a while, then die (as cached workflows do)
for _ in range(200_000):
    cycle = []
    cycle.append(cycle)
    kept.append(cycle)
during_request = len(full)
middle_collections = gc.get_count()[2]
collect_old_garbage(None, None, {}, None)  # after the response
after_response = len(full)
print(app.name, frozen, left, during_request, middle_collections, after_response, gc.get_count()[2])
"""


def test_a_worker_freezes_the_app_and_runs_full_collections_between_requests(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LIANBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    name, frozen, left, during, middle, after, middle_after = out.stdout.split()
    assert name == "web"
    assert int(frozen) > 10_000  # Flask, SQLAlchemy, SpiffWorkflow, the app
    assert int(left) < 1_000  # nothing of it is left for the collector to walk
    assert int(during) == 0  # no full collection started by itself in the "request"
    assert int(middle) >= 10  # although CPython would have started one by now
    assert int(after) == 1 and int(middle_after) == 0  # the hook ran it, once
