"""Use cases of the engine: each opens a unit of work, loads, acts, commits.

A use case is a function of one of these modules taking the shared `Services` first
(`cases.complete(services, actor, task_id, data)`); an entry point (a web route, the CLI, a test)
holds one `Services`, built from a database engine, a form library and a clock, and calls the
modules directly. Nothing here knows HTTP.
"""

from __future__ import annotations

from .context import Services

__all__ = ["Services"]
