"""Running the app under gunicorn from `lianban serve`."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication

# CPython collects its oldest generation after this many collections of the middle one (its
# default third threshold); a worker does the same, but between requests (`collect_old_garbage`).
OLD_GENERATION_AFTER = 10


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        app = create_app()
        tune_garbage_collection()
        return app


def tune_garbage_collection() -> None:
    """Run in each worker once the app is loaded (gunicorn loads it in every worker).

    What the cyclic garbage collector costs is its full collections: once the app is loaded a
    worker's heap holds about 100,000 container objects (Flask, SQLAlchemy, SpiffWorkflow, the
    app), and a full collection walks all of them and the cycles requests left behind (kept
    workflows among them): 80-120 ms on the benchmark machine, about once every thousand
    requests of a worker under load, inside whichever request set it off. So:

    - what is alive now lives as long as the worker: frozen (after one last collection), it is
      never walked again; a full collection then takes 20-100 ms, most of it freeing the
      requests' garbage;
    - full collections no longer start by themselves in the middle of a request:
      `collect_old_garbage` runs one after a response has gone out, once the middle generation
      has been collected as many times as CPython waits for. Garbage waits for it no longer
      than it would have (at most until the request ends); the young and middle generations
      are collected as before, during requests (0.2 and 1-2 ms)."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 2**31 - 1)


def collect_old_garbage(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """gunicorn's post_request hook: the full collection CPython would have started during the
    request, started once the answer has gone out (the client no longer waits for it)."""
    if gc.get_count()[2] >= OLD_GENERATION_AFTER:
        gc.collect()


def run(host: str, port: int, workers: int) -> None:
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            "timeout": 60,
            "post_request": collect_old_garbage,
        }
    ).run()
