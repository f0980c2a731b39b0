"""Sign-in timing: does the time of a refused sign-in tell whether the name exists?

`python -m bench.sign_in [N]` posts N sign-ins of each kind to `/login` through the Flask app on
a fresh SQLite database (CSRF token and all, as a browser does), with the throttle's limits raised
so that none is refused, and prints the median and spread of each kind in milliseconds: a wrong
password for a real user, an unknown name, a user without a password (API token only), and the
right password. Before the accounts work the first took about 45 ms and the second about 4 ms
(scrypt ran only for existing users); now all four do the same scrypt work.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from engine.domain.throttle import Limit, Limits
from engine.persistence.db import make_engine
from engine.persistence.schema import upgrade
from engine.services import Services, accounts
from engine.services.accounts import set_password

PASSWORD = "correct horse"
UNLIMITED = Limit(10**9, timedelta(minutes=1), timedelta(seconds=1), timedelta(seconds=1))


def main(n: int = 30) -> None:
    from web import create_app

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        limits = Limits(sign_in_account=UNLIMITED, sign_in_address=UNLIMITED)
        svc = Services(engine, None, throttle_limits=limits)
        accounts.create_user(svc, "front_desk", "clerk", ["front_desk"])
        accounts.create_user(svc, "token_only", "clerk", [])
        set_password(svc, "front_desk", PASSWORD)
        app = create_app({"SERVICES": svc, "TESTING": True})
        kinds = {
            "wrong password, real user": ("front_desk", "wrong password"),
            "unknown name": ("no_such_user", "wrong password"),
            "user without a password": ("token_only", "wrong password"),
            "right password": ("front_desk", PASSWORD),
        }
        timings: dict[str, list[float]] = {k: [] for k in kinds}
        for round_ in range(n + 2):  # two rounds of warm-up, kinds interleaved against drift
            for kind, (name, password) in kinds.items():
                client = app.test_client()
                form = client.get("/login").get_data(as_text=True)
                token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
                data = {"name": name, "password": password, "csrf_token": token}
                start = time.perf_counter()
                status = client.post("/login", data=data).status_code
                elapsed = (time.perf_counter() - start) * 1000
                assert status == (302 if password == PASSWORD else 401), (kind, status)
                if round_ >= 2:
                    timings[kind].append(elapsed)
        engine.dispose()
    print(f"sign-in timing over {n} attempts each (ms): median, p10-p90")
    for kind, values in timings.items():
        deciles = statistics.quantiles(values, n=10)
        print(
            f"  {kind:28} {statistics.median(values):6.1f}   {deciles[0]:6.1f}-{deciles[-1]:6.1f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
