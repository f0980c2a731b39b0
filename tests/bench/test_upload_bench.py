"""`python -m bench.upload` at tiny sizes, so it cannot rot: every part runs (in process, through
`lianban serve`, each shape, a deploy) and the last line is its JSON. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_the_upload_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.upload", "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["mode"] == "tiny"
    assert figures["upload_chain_10000_result"].startswith("refused: 流程 'p' 有 602 个元素")
    assert figures["upload_chain_10000_http_status"] == 422
    assert figures["upload_chain_10000_all_checks_result"] == "accepted"
    shapes = [k for k in figures if k.endswith("_tasks")]
    assert len(shapes) == 9 and all(figures[k] == 100 for k in shapes)
    assert all(figures[k] > 0 for k in figures if k.endswith("_s"))
