"""A `lianban serve` worker loads the app and then freezes what it keeps for life out of the
garbage collector (web/server.py): a full collection then walks only what requests made since,
instead of the whole app (60-110 ms on the benchmark machine, inside whichever request set it off).

Run in a fresh interpreter: freezing this test process would change every test after it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc
from web.server import _Server

app = _Server({"bind": "127.0.0.1:0", "workers": 1}).load()
frozen, left = gc.get_freeze_count(), len(gc.get_objects())
garbage = [[] for _ in range(3)]
garbage[0].append(garbage)  # a cycle made after loading is still collected
del garbage
print(app.name, frozen, left, gc.collect())
"""


def test_a_worker_freezes_the_loaded_app_and_still_collects_new_garbage(tmp_path: Path) -> None:
    env = {**os.environ, "LIANBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    name, frozen, left, collected = out.stdout.split()
    assert name == "web"
    assert int(frozen) > 10_000  # Flask, SQLAlchemy, SpiffWorkflow, the app
    assert int(left) < 1_000  # nothing of it is left for the collector to walk
    assert int(collected) >= 4
