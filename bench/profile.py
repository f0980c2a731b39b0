"""Profiles of the figures that miss their targets (docs/performance.md), reproducible:

    python -m bench.profile sqlite     # restaurant cases through the services on SQLite (py-spy)
    python -m bench.profile pg         # the same on PostgreSQL (py-spy; --cprofile for cProfile)
    python -m bench.profile step       # 补正-loop steps after ~400 earlier steps, SQLite
    python -m bench.profile replay     # audit.replay of a 1,000-event 补正-loop case
    python -m bench.profile http       # the gunicorn workers under load (py-spy, both workers)

All but http run in a child process under py-spy (--cprofile: cProfile in this process instead).
Each prints the functions with the most inclusive time (what a cost is made of) and the most
self time (where the interpreter actually spends it), as shares of the whole.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from engine.services import cases, queries

from .common import ROOT, Numbers, log, make_env, pg_database, sqlite_database


def _short(text: str) -> str:
    """Paths without their install prefix (site-packages, the checkout, the stdlib)."""
    return re.sub(r"[^\s(]*/(site-packages|python3\.11)/|" + re.escape(str(ROOT)) + "/", "", text)


def _print_pstats(profile: cProfile.Profile, top: int) -> None:
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((ct, tt, f"{_short(file)}:{line}({name})"))
    print(f"total {total:.3f} s")
    print("-- inclusive (cumulative) --")
    for ct, _tt, where in sorted(rows, reverse=True)[:top]:
        print(f"{ct / total:6.1%}  {ct:8.3f} s  {where}")
    print("-- self --")
    for _ct, tt, where in sorted(rows, key=lambda r: r[1], reverse=True)[:top]:
        print(f"{tt / total:6.1%}  {tt:8.3f} s  {where}")


def _profiled(body: Any, top: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    body()
    profile.disable()
    _print_pstats(profile, top)


def profile_cases(url_kind: str, n: int, top: int, plain: bool = False) -> None:
    from . import persisted

    def run(url: str) -> None:
        env = make_env(url)
        numbers = Numbers("F")
        persisted.run_case(env, numbers)
        started = time.perf_counter()
        if plain:  # under an outside sampler
            for _ in range(n):
                persisted.run_case(env, numbers)
        else:
            _profiled(lambda: [persisted.run_case(env, numbers) for _ in range(n)], top)
        log(f"{n} cases in {time.perf_counter() - started:.2f} s")
        env.close()

    if url_kind == "sqlite":
        with sqlite_database() as url:
            run(url)
    else:
        with pg_database("profile") as url:
            run(url)


def step(top: int, plain: bool = False) -> None:
    from . import history

    with sqlite_database() as url:
        env = make_env(url)
        loop = history.correction_loop(env, 400)
        case = queries.get_case(env.svc, env.clerk_for("intake").user, loop.case_id)

        def late_steps() -> None:
            nonlocal case
            from .common import CORRECT, CORRECTED

            for _ in range(40):
                [task] = case["tasks"]
                form = CORRECT if task["element"] == "intake" else CORRECTED
                case = cases.complete(env.svc, env.clerk_for("intake").user, task["id"], form)

        late_steps() if plain else _profiled(late_steps, top)
        env.close()


def replay(top: int, plain: bool = False) -> None:
    from engine.services import audit

    from . import history

    with sqlite_database() as url:
        env = make_env(url)
        loop = history.correction_loop(env, 999)
        if plain:
            audit.replay(env.svc, None, loop.case_id)
        else:
            _profiled(lambda: audit.replay(env.svc, None, loop.case_id), top)
        env.close()


def http(seconds: float, top: int) -> None:
    """py-spy on both gunicorn workers while a closed-loop load (4 desks) runs."""
    from . import http as http_bench

    pyspy = Path(sys.executable).with_name("py-spy")
    with pg_database("profile") as url:
        env = make_env(url)
        with http_bench.Server(url, workers=2) as server:
            http_bench.run_load(
                http_bench.plan(server, env, tag="w", mode="closed", concurrency=4, seconds=2)
            )
            out = Path(tempfile.mkdtemp(prefix="lianban-pyspy-"))
            load = threading.Thread(
                target=http_bench.run_load,
                args=(
                    http_bench.plan(
                        server, env, tag="l", mode="closed", concurrency=4, seconds=seconds + 4
                    ),
                ),
            )
            load.start()
            time.sleep(1)
            before = _cpu_by_kind(server)
            began = time.monotonic()
            spies = [
                subprocess.Popen(
                    [str(pyspy), "record", "-p", str(pid), "-d", str(int(seconds))]
                    + [
                        "-r",
                        "200",
                        "-F",
                        "-f",
                        "raw",
                        "-o",
                        str(out / f"{pid}.txt"),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid in server.worker_pids()
            ]
            for spy in spies:
                spy.wait(timeout=seconds + 60)
            after = _cpu_by_kind(server)
            wall = time.monotonic() - began
            load.join()
        env.close()
    print(f"CPU time over {wall:.1f} s of load, in cores (the machine has {os.cpu_count()}):")
    for kind in sorted(after, key=lambda k: -(after[k] - before.get(k, 0.0))):
        print(f"  {kind:28} {(after[kind] - before.get(kind, 0.0)) / wall:5.2f}")
    try:
        _print_raw(list(out.glob("*.txt")), top, "both workers, idle time excluded")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _cpu_by_kind(server: Any) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each kind of process on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    workers = set(server.worker_pids())
    found: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        if int(proc.name) in workers:
            kind = "gunicorn workers"
        elif command.startswith("postgres"):
            kind = "postgresql"
        elif "bench.load" in command:
            kind = "load generator (bench.load)"
        elif "py-spy" in command:
            kind = "py-spy"
        else:
            kind = "other"
        found[kind] = found.get(kind, 0.0) + used
    return found


def _print_raw(files: list[Path], top: int, what: str, within: str | None = None) -> None:
    """Shares of py-spy samples (raw, collapsed stacks): inclusive and self, per frame; only
    the samples whose stack passes through `within`, when given."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for file in files:
        for line in file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or (within and within not in stack):
                continue
            frames = [_short(f) for f in stack.split(";")]
            n = int(count)
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    print(f"{total} samples ({what})")
    print("-- inclusive --")
    for frame, n in inclusive.most_common(top):
        print(f"{n / total:6.1%}  {frame}")
    print("-- self --")
    for frame, n in own.most_common(top):
        print(f"{n / total:6.1%}  {frame}")


WITHIN = {
    "sqlite": "run_case (bench/",
    "pg": "run_case (bench/",
    "step": "late_steps (bench/",
    "replay": "replay_case (engine/services/audit",
}


def sampled(what: str, cases_n: int, top: int) -> None:
    """`what` run in a child process under py-spy (little overhead, unlike cProfile); only the
    samples inside the measured cases are counted."""
    pyspy = Path(sys.executable).with_name("py-spy")
    out = Path(tempfile.mkdtemp(prefix="lianban-pyspy-")) / "raw.txt"
    subprocess.run(
        # --idle: one thread, so every sample is wall time, waits on the disk included
        [str(pyspy), "record", "-r", "500", "-F", "--idle", "-f", "raw", "-o", str(out), "--"]
        + [sys.executable, "-m", "bench.profile", what, "--plain", "--cases", str(cases_n)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _print_raw([out], top, f"{what} at 500 Hz, wall time", within=WITHIN[what])
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("what", choices=["sqlite", "pg", "step", "replay", "http"])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--cprofile", action="store_true", help="cProfile in process, not py-spy")
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.what != "http" and not (args.plain or args.cprofile):
        sampled(args.what, args.cases, args.top)
    elif args.what in ("sqlite", "pg"):
        profile_cases(args.what, args.cases, args.top, plain=args.plain)
    elif args.what == "step":
        step(args.top, plain=args.plain)
    elif args.what == "replay":
        replay(args.top, plain=args.plain)
    else:
        http(args.seconds, args.top)


if __name__ == "__main__":
    main()
