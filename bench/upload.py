"""Upload checks at scale (issue 14): how long an upload of a large BPMN takes to be answered.

    python -m bench.upload            # about a minute and a half
    python -m bench.upload --quick    # about 30 s, smaller sizes
    python -m bench.upload --tiny     # a few seconds: that it runs (tests/bench/test_upload_bench.py)

Figures (seconds, each the median of several runs; stdout ends with one JSON object):

- `upload_chain_10000_s`: `compile_bundle` of the issue's 10,000-task chain (2.4 MB), as every
  upload runs it: refused for its size (over 500 elements in a process, over 5,000 in an upload),
  after every other check ran;
- `upload_chain_10000_http_s`: the same file posted to `/api/v1/bundles` of `lianban serve`
  (gunicorn, SQLite) by a designer, until the 422 is read (before: 60 s, then a 500 page);
- `upload_chain_10000_all_checks_s`: the same with the size limits lifted, so that SpiffWorkflow's
  parse and the spec's JSON run too: the whole pipeline at 10,000 tasks;
- `upload_<shape>_s` with `..._tasks`, `..._mb`: every shape of bench/large_bpmn.py at
  10,000 tasks (fewer for the shapes whose 10,000 would pass the 5 MB file limit), limits lifted;
- `upload_growth_chain`: all_checks time at 10,000 tasks over the time at 2,500 (linear: 4);
- `deploy_chain_498_s`: the largest chain accepted (498 tasks, 500 elements) checked, parsed and
  stored by `publishing.deploy` on SQLite.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.bundles import limits
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import MAX_FILE_BYTES, from_upload
from engine.services import publishing

from .common import log, median
from .large_bpmn import SHAPES, chain

LIBRARY = FormLibrary(None)


def _compile(document: bytes) -> str:
    """What the upload's answer would be: 'accepted' or its first problem."""
    try:
        compile_bundle(from_upload("upload.bpmn", document), LIBRARY)
    except BundleInvalid as err:
        return f"refused: {err.problems[0].message}"
    return "accepted"


def _timed(work: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return median(times), result


@contextmanager
def _unlimited() -> Iterator[None]:
    names = ("MAX_FLOW_NODES", "MAX_UPLOAD_FLOW_NODES", "MAX_EXPRESSIONS")
    saved = {name: getattr(limits, name) for name in names}
    for name in names:
        setattr(limits, name, 10**9)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(limits, name, value)


def _largest(shape: str, wanted: int) -> int:
    """`wanted` tasks, or fewer if that would pass the file size limit."""
    n = wanted
    while len(SHAPES[shape](n)) > MAX_FILE_BYTES:
        n = n * 9 // 10
    return n


def _post(base: str, token: str, document: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="chain.bpmn"\r\n'
            "Content-Type: application/xml\r\n\r\n"
        ).encode()
        + document
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        base + "/api/v1/bundles",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as err:
        err.read()
        return int(err.code)


def _http(document: bytes, runs: int) -> tuple[float, object]:
    from engine.persistence.db import make_engine
    from engine.persistence.schema import upgrade
    from engine.services import Services, accounts

    from .http import Server

    with tempfile.TemporaryDirectory(prefix="lianban-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'upload.db'}"
        engine = make_engine(url)
        upgrade(engine)
        _, token = accounts.create_user(Services(engine, None), "designer", "designer", [])
        engine.dispose()
        with Server(url, workers=1) as server:
            _post(server.base, token, chain(10))  # warm the worker
            return _timed(lambda: _post(server.base, token, document), runs)


def _deploy(document: bytes, runs: int) -> tuple[float, object]:
    from engine.persistence.db import make_engine
    from engine.persistence.schema import upgrade
    from engine.services import Services

    with tempfile.TemporaryDirectory(prefix="lianban-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'deploy.db'}")
        upgrade(engine)
        svc = Services(engine, None)
        try:
            return _timed(
                lambda: publishing.deploy(svc, from_upload("chain.bpmn", document), "bench", False)[
                    "version"
                ],
                runs,
            )
        finally:
            engine.dispose()


def run(quick: bool, tiny: bool = False) -> dict[str, Any]:
    """Every figure; `tiny`: the issue's chain cut to 600 tasks and the shapes to 100, one run
    each (not figures: only that every part runs)."""
    quick = quick or tiny
    runs = 1 if tiny else 3 if quick else 5
    figures: dict[str, Any] = {"mode": "tiny" if tiny else "quick" if quick else "full"}
    _compile(chain(10))  # load the schema and the parser's classes once
    tasks = 600 if tiny else 10_000
    issue = chain(tasks)
    figures["upload_chain_10000_mb"] = round(len(issue) / 1e6, 2)
    seconds, result = _timed(lambda: _compile(issue), runs)
    figures["upload_chain_10000_s"] = round(seconds, 3)
    figures["upload_chain_10000_result"] = result
    log(f"chain of 10,000 tasks: {seconds:.3f} s, {result}")
    seconds, status = _http(issue, runs)
    figures["upload_chain_10000_http_s"] = round(seconds, 3)
    figures["upload_chain_10000_http_status"] = status
    log(f"the same through lianban serve: {seconds:.3f} s, HTTP {status}")
    with _unlimited():
        seconds, result = _timed(lambda: _compile(issue), runs)
        figures["upload_chain_10000_all_checks_s"] = round(seconds, 3)
        figures["upload_chain_10000_all_checks_result"] = result
        log(f"chain of 10,000 tasks, size limit lifted: {seconds:.3f} s, {result}")
        quarter, _ = _timed(lambda: _compile(chain(tasks // 4)), runs)
        figures["upload_growth_chain"] = round(seconds / quarter, 2)
        for shape in sorted(SHAPES):
            n = _largest(shape, 100 if tiny else 2_500 if quick else 10_000)
            document = SHAPES[shape](n)
            seconds, result = _timed(lambda d=document: _compile(d), 1 if quick else 3)
            figures[f"upload_{shape}_s"] = round(seconds, 3)
            figures[f"upload_{shape}_tasks"] = n
            figures[f"upload_{shape}_mb"] = round(len(document) / 1e6, 2)
            log(f"{shape}: {n} tasks, {len(document) / 1e6:.2f} MB, {seconds:.3f} s, {result}")
    seconds, version = _deploy(chain(498), runs)
    figures["deploy_chain_498_s"] = round(seconds, 3)
    log(f"chain of 498 tasks deployed (version {version}): {seconds:.3f} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--tiny", action="store_true", help="only that every part runs")
    args = parser.parse_args()
    figures = run(args.quick, args.tiny)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:{width}}  {value}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
