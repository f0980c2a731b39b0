"""The load generator: a process of its own, talking HTTP/1.1 to `lianban serve` on loopback.

    python -m bench.load < plan.json      (prints one JSON object)

The plan names the server (host, port), the clerks' tokens by element, the application, the
steps, a prefix for certificate numbers and the load:

- `"mode": "closed"`: `concurrency` desks, each running whole cases back to back for `seconds`
  after `warmup` seconds; gives cases per second at that concurrency;
- `"mode": "open"`: cases started at a fixed `rate` per second (evenly spaced, whatever the
  answers' speed: an open-loop, paced load) for `seconds`; gives the latency of every request.

A case is `POST /api/v1/cases` and then `POST /api/v1/tasks/ID/complete` for each step, each
task id read from the previous answer. The client is asyncio over plain sockets: one event loop,
little work per request. It asks for keep-alive and reuses a connection when the server keeps it
(gunicorn's sync workers close every connection, so each request then connects anew; the
connect is inside the measured time). Every run is bounded: it stops after its seconds and waits
at most `drain` seconds for cases under way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import certificate_numbers


class HttpError(Exception):
    pass


class Connection:
    """One client connection, reopened whenever the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, token: str, body: Any = None
    ) -> tuple[int, bytes]:
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n"
            f"Connection: keep-alive\r\nContent-Length: {len(payload)}\r\n"
        )
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        assert self.reader is not None and self.writer is not None
        self.writer.write(head.encode() + b"\r\n" + payload)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
        }
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        else:
            data = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, data


@dataclass
class Stats:
    cases_done: list[float] = field(default_factory=list)  # monotonic time each case ended
    latency: dict[str, list[float]] = field(default_factory=dict)  # seconds, by request kind
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    connections: int = 0
    late_starts: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.latency.setdefault(kind, []).append(seconds)
        self.requests += 1


class Desk:
    """Runs whole cases through the API, recording each request's time."""

    def __init__(self, plan: dict[str, Any], stats: Stats, numbers: Any) -> None:
        self.plan = plan
        self.stats = stats
        self.numbers = numbers
        self.conn = Connection(plan["host"], plan["port"])

    async def _call(self, kind: str, path: str, token: str, body: Any) -> Any:
        started = time.perf_counter()
        status, data = await self.conn.request("POST", path, token, body)
        elapsed = time.perf_counter() - started
        if status >= 300:
            raise HttpError(f"{kind} {status}: {data[:200].decode('utf-8', 'replace')}")
        self.stats.add(kind, elapsed)
        return json.loads(data)

    async def case(self) -> bool:
        plan = self.plan
        try:
            view = await self._call(
                "start",
                "/api/v1/cases",
                plan["tokens"][plan["start_element"]],
                {"bundle": plan["bundle"], "data": plan["application"]},
            )
            for element, form in plan["steps"]:
                if element == plan["issue_element"]:
                    numbers = certificate_numbers(plan["number_prefix"], next(self.numbers))
                    form = {**form, **numbers}
                task = next(
                    t["id"]
                    for t in view["tasks"]
                    if t["element"] == element and t["status"] == "open"
                )
                view = await self._call(
                    "complete",
                    f"/api/v1/tasks/{task}/complete",
                    plan["tokens"][element],
                    {"data": form},
                )
            if view["status"] != "completed":
                raise HttpError(f"case {view['id']} is {view['status']} after its last step")
        except (HttpError, OSError, asyncio.IncompleteReadError, StopIteration, KeyError) as err:
            self.stats.errors.append(f"{type(err).__name__}: {err}")
            await self.conn.close()
            return False
        self.stats.cases_done.append(time.monotonic())
        return True

    async def close(self) -> None:
        self.stats.connections += self.conn.opened
        await self.conn.close()


def _summary(stats: Stats, window: tuple[float, float]) -> dict[str, Any]:
    start, end = window
    done = [t for t in stats.cases_done if start <= t <= end]
    seconds = end - start
    result: dict[str, Any] = {
        "seconds": seconds,
        "cases": len(done),
        "cases_per_s": len(done) / seconds if seconds > 0 else 0.0,
        "cases_total": len(stats.cases_done),
        "requests": stats.requests,
        "connections": stats.connections,
        "errors": len(stats.errors),
        "error_samples": stats.errors[:5],
        "late_starts": stats.late_starts,
        "latency_ms": {},
    }
    for kind, values in stats.latency.items():
        ordered = sorted(values)

        def rank(q: float, ordered: list[float] = ordered) -> float:
            return ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1] * 1000  # nearest rank

        result["latency_ms"][kind] = {
            "n": len(ordered),
            "p50": rank(50),
            "p90": rank(90),
            "p99": rank(99),
            "max": ordered[-1] * 1000,
            "mean": sum(ordered) / len(ordered) * 1000,
        }
    return result


async def closed(plan: dict[str, Any]) -> dict[str, Any]:
    stats = Stats()
    numbers = itertools.count(1)
    began = time.monotonic()
    window = (began + plan["warmup"], began + plan["warmup"] + plan["seconds"])

    async def desk_loop() -> None:
        desk = Desk(plan, stats, numbers)
        try:
            while time.monotonic() < window[1]:
                if not await desk.case() and len(stats.errors) > plan.get("max_errors", 20):
                    return
        finally:
            await desk.close()

    tasks = [asyncio.create_task(desk_loop()) for _ in range(plan["concurrency"])]
    await asyncio.wait(tasks, timeout=plan["warmup"] + plan["seconds"] + plan["drain"])
    for task in tasks:
        task.cancel()
    summary = _summary(stats, window)
    summary["concurrency"] = plan["concurrency"]
    return summary


async def open_loop(plan: dict[str, Any]) -> dict[str, Any]:
    stats = Stats()
    numbers = itertools.count(1)
    rate, seconds = plan["rate"], plan["seconds"]
    count = max(1, int(rate * seconds))
    began = time.monotonic() + 0.05
    running: set[asyncio.Task[None]] = set()

    async def one_case() -> None:
        desk = Desk(plan, stats, numbers)
        try:
            await desk.case()
        finally:
            await desk.close()

    for k in range(count):
        due = began + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            stats.late_starts += 1  # the client itself fell behind its schedule
        task = asyncio.create_task(one_case())
        running.add(task)
        task.add_done_callback(running.discard)
    ended = time.monotonic()
    if running:
        await asyncio.wait(running, timeout=plan["drain"])
    for task in list(running):
        task.cancel()
    summary = _summary(stats, (began, max(ended, began + seconds)))
    summary["cases_per_s"] = len(stats.cases_done) / seconds
    summary["rate"] = rate
    summary["unfinished"] = count - len(stats.cases_done) - len(stats.errors)
    return summary


def main() -> None:
    plan = json.loads(sys.stdin.read())
    run = closed if plan["mode"] == "closed" else open_loop
    print(json.dumps(asyncio.run(run(plan)), ensure_ascii=False))


if __name__ == "__main__":
    main()
