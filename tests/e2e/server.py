"""Running `lianban serve` as real processes for tests, and talking to it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

LIANBAN = Path(sys.executable).with_name("lianban")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, db_url: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    assert LIANBAN.exists(), f"the lianban command is not installed next to {sys.executable}"
    env = {**os.environ, "LIANBAN_DATABASE_URL": db_url}
    return subprocess.run(
        [str(LIANBAN), *args], env=env, capture_output=True, text=True, timeout=120, check=check
    )


class Server:
    """`lianban serve` with several worker processes, stopped on exit."""

    def __init__(self, db_url: str, workers: int = 3) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LIANBAN_DATABASE_URL": db_url}
        # A file, not a pipe: nobody reads the log while the server runs, and a full pipe blocks it.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [str(LIANBAN), "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,  # its own process group: kill() takes every worker with it
            text=True,
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                output = self.log.read()
                self.__exit__()
                raise RuntimeError(f"lianban serve exited: {output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("lianban serve did not start listening within 30 s")

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def kill(self) -> None:
        """SIGKILL the server and all its workers at once, whatever they are doing."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)
        self.log.close()

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")
