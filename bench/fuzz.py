"""`python -m bench.fuzz` (`make fuzz`): the API fuzz of tests/e2e/test_fuzz_api.py at length.

Every operation of docs/openapi.yaml gets `--examples` generated requests (500 by default; the
test suite sends 40) on SQLite and on PostgreSQL, drawn from `--seed` (a new one each run unless
given, printed so a run can be repeated). Prints each database's figures and findings, then one
JSON line; exits 1 when anything answered 5xx or broke the spec.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from contextlib import AbstractContextManager
from types import SimpleNamespace
from typing import Any

from engine.services import accounts
from tests.fixtures.api_fuzz import Report, build_world, fuzz

from .common import FORMS, log, pg_database, sqlite_database

CLERKS = {
    "front_desk": ["front_desk"],
    "market_reviewer": ["market_regulation"],
    "food_reviewer": ["food_safety"],
    "inspector": ["inspection"],
    "issuer": ["issuance"],
    "other_clerk": ["front_desk"],
}


def _world_on(url: str) -> Any:
    from engine.persistence.db import make_engine
    from engine.persistence.schema import upgrade
    from engine.services import Services, calendar
    from web import create_app

    engine = make_engine(url)
    upgrade(engine)
    svc = Services(engine, FORMS)
    calendar.seed(svc)
    specs = [(n, "clerk", g) for n, g in CLERKS.items()]
    specs += [("designer", "designer", []), ("auditor", "auditor", []), ("admin", "admin", [])]
    users = {}
    for name, role, groups in specs:
        user, token = accounts.create_user(svc, name, role, groups)
        users[name] = SimpleNamespace(user=user, token=token)
    app = create_app({"SERVICES": svc, "TESTING": True})
    return build_world(svc, users, app), engine


def run(database: str, examples: int, seed: int) -> Report:
    place: AbstractContextManager[str] = (
        sqlite_database() if database == "sqlite" else pg_database("fuzz")
    )
    with place as url:
        world, engine = _world_on(url)
        try:
            return fuzz(world, examples, random_seed=seed, progress=log)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=500, help="requests per operation")
    parser.add_argument("--seed", type=int, default=None, help="the random seed (default: new)")
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both", help="where"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results: dict[str, Any] = {"seed": seed, "examples_per_operation": args.examples}
    failed = False
    for database in databases:
        log(f"fuzzing on {database}, seed {seed}, {args.examples} requests per operation")
        report = run(database, args.examples, seed)
        print(f"## {database}\n{report.summary()}\n")
        failed |= bool(report.findings)
        results[database] = {
            "requests": report.examples,
            "operations": len(report.per_operation),
            "seconds": round(report.seconds, 1),
            "requests_per_second": round(report.examples / report.seconds, 1),
            "statuses": {str(s): n for s, n in sorted(report.statuses.items())},
            "findings": [
                {
                    "operation": f.operation,
                    "status": f.status,
                    "problem": f.problem,
                    "count": f.count,
                }
                for f in report.findings.values()
            ],
        }
    print(json.dumps(results, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
