"""Use cases of the engine: each opens a unit of work, loads, acts, commits.

`Services` is what an entry point (the web app, the CLI) holds; it is built from a database
engine, a form library and a clock, and knows nothing of HTTP.
"""

from __future__ import annotations

from .context import Services

__all__ = ["Services"]
