"""Whole cases through the REST API: `lianban serve --workers 2` (gunicorn) on PostgreSQL, the
load from another process (bench.load): cases per second at the best of a few concurrencies
(closed loop), then request latency under an open-loop load paced at half that peak."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .common import APPLICATION, ISSUE_ELEMENT, ROOT, RUN_TAG, STEPS, Env, log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lianban() -> str:
    beside = Path(sys.executable).with_name("lianban")
    found = str(beside) if beside.exists() else shutil.which("lianban")
    if not found:
        raise RuntimeError(f"the lianban command is not installed next to {sys.executable}")
    return found


class Server:
    """`lianban serve` on loopback with its own process group, stopped on exit."""

    def __init__(self, db_url: str, workers: int = 2) -> None:
        self.workers = workers
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.base = f"http://{self.host}:{self.port}"
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [_lianban(), "serve", "--host", self.host, "--port", str(self.port)]
            + ["--workers", str(workers)],
            env={**os.environ, "LIANBAN_DATABASE_URL": db_url},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,  # the access log
            stderr=self.log,
            start_new_session=True,
            text=True,
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lianban serve exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.base + "/", timeout=5) as answer:
                    answer.read()
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("lianban serve did not answer within 60 s")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master), e.g. for py-spy."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def __exit__(self, *exc: Any) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def plan(server: Server, env: Env, **load: Any) -> dict[str, Any]:
    tokens = {element: env.clerk_for(element).token for element in env.groups}
    return {
        "host": server.host,
        "port": server.port,
        "tokens": tokens,
        "bundle": "restaurant",
        "start_element": "intake",
        "application": APPLICATION,
        "steps": STEPS,
        "issue_element": ISSUE_ELEMENT,
        "number_prefix": f"{RUN_TAG}{load.pop('tag')}",
        "drain": 30,
        "warmup": 0,
        **load,
    }


def run_load(the_plan: dict[str, Any]) -> dict[str, Any]:
    """Run bench.load in its own process; its answer is the last line it prints."""
    limit = the_plan.get("warmup", 0) + the_plan["seconds"] + the_plan["drain"] + 60
    out = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(the_plan, ensure_ascii=False),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=limit,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.load failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(
    server: Server,
    env: Env,
    concurrencies: list[int],
    peak_seconds: float,
    paced_seconds: float,
    warmup: float,
) -> dict[str, Any]:
    """Peak cases/s over the given concurrencies, then latency at half of that peak."""
    run_load(plan(server, env, tag="w", mode="closed", concurrency=4, seconds=warmup))
    levels = {}
    for concurrency in concurrencies:
        result = run_load(
            plan(
                server,
                env,
                tag=f"c{concurrency}",
                mode="closed",
                concurrency=concurrency,
                seconds=peak_seconds,
                warmup=min(1.0, warmup),
            )
        )
        log(
            f"http closed loop, {concurrency} desks: {result['cases_per_s']:.1f} cases/s, "
            f"{result['errors']} errors"
        )
        levels[concurrency] = result
    best = max(levels, key=lambda c: levels[c]["cases_per_s"])
    peak = levels[best]["cases_per_s"]
    if peak <= 0:
        raise RuntimeError(f"no case completed through the API: {levels}")
    paced = run_load(plan(server, env, tag="p", mode="open", rate=peak / 2, seconds=paced_seconds))
    log(
        f"http open loop at {peak / 2:.1f} cases/s: complete p50 "
        f"{paced['latency_ms'].get('complete', {}).get('p50', float('nan')):.1f} ms, "
        f"{paced['errors']} errors"
    )
    return {"levels": levels, "peak_concurrency": best, "peak": peak, "paced": paced}
