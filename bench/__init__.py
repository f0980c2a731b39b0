"""lianban's benchmark suite (issue 6): `python -m bench` (all) or `python -m bench --quick`.

It measures the engine against the bare SpiffWorkflow library on the restaurant case, in memory,
on SQLite, on PostgreSQL and through the REST API, plus the worklist with many open tasks, the
cost of a step as a case's history grows, and replay verification. See docs/performance.md.

This module imports nothing: `bench.spiff_alone` must run without any of lianban loaded.
"""
