"""The transparency log at scale (docs/audit.md "The transparency log"): restaurant cases run
through the services, the log sequenced and a checkpoint signed every `--every` cases, as the
worker does once a minute; then every proof checked.

    python -m bench.tlog                  # 10,000 cases on SQLite, a checkpoint every 100 cases
    python -m bench.tlog --pg             # the same on PostgreSQL
    python -m bench.tlog --cases 1000     # smaller

Prints one JSON line: the cost of the log per event (sequencing and signing) against the cost of
the steps that wrote those events, and how many proofs were checked:

- `log_share_of_steps`: (sequencing + signing seconds) / (seconds the cases' steps took). The
  target is under 0.05: the log may cost at most 5 % of a step.
- every leaf's inclusion proof against the last signed root (from the leaf hashes read once),
  every consistency proof between consecutive checkpoints and a sample of inclusion proofs served
  by `tlog.inclusion` from the stored tree (the API's path), each verified with
  `engine.domain.merkle` against the roots in the signed notes, opened with the public key.
- `idle_sequence_ms`: a sequencing run that finds nothing new at the full size (the anti-join
  over every event the worker runs each minute).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import Numbers, log, make_env, pg_database, sqlite_database
from .persisted import run_case


def _measure(url: str, cases: int, every: int, sample: int) -> dict[str, Any]:
    from engine.domain import merkle, signed_note
    from engine.services import tlog

    env = make_env(url, "tlog")
    svc = env.svc
    numbers = Numbers("tl")
    verifier = signed_note.Verifier.from_text(tlog.public_key() or "")
    case_seconds = sequence_seconds = sign_seconds = 0.0
    notes: list[str] = []
    run_case(env, numbers)  # warm-up: specs and calendar cached
    for done in range(1, cases + 1):
        started = time.perf_counter()
        run_case(env, numbers)
        case_seconds += time.perf_counter() - started
        if done % every == 0 or done == cases:
            started = time.perf_counter()
            tlog.sequence(svc)
            sequenced = time.perf_counter()
            checkpoint = tlog.sign(svc)
            sign_seconds += time.perf_counter() - sequenced
            sequence_seconds += sequenced - started
            if checkpoint is not None:
                found = tlog.latest(svc)
                assert found is not None
                notes.append(found["note"])
        if done % 1000 == 0:
            log(f"{done} cases")
    started = time.perf_counter()
    tlog.sequence(svc)
    idle_ms = (time.perf_counter() - started) * 1000

    # every signed note opens with the public key; its root and size are what proofs meet
    checkpoints = []
    for note in notes:
        body, names = signed_note.open_note(note, [verifier])
        assert names == [verifier.name]
        checkpoints.append(signed_note.parse_checkpoint(body))
    last = checkpoints[-1]
    with svc.uow() as uow:
        leaves = uow.log.leaf_hashes(0, last.size)
    memory = merkle.MemorySource(leaves)
    assert merkle.root(memory, last.size) == last.root
    started = time.perf_counter()
    for index in range(last.size):
        proof = merkle.inclusion_proof(index, last.size, memory)
        assert merkle.verify_inclusion(index, last.size, leaves[index], proof, last.root)
    inclusion_seconds = time.perf_counter() - started
    for old, new in zip(checkpoints, checkpoints[1:], strict=False):
        served = tlog.consistency(svc, old.size, new.size)
        proof = [base64.b64decode(h) for h in served["proof"]]
        assert merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    # the API's path: proofs read from the stored tree, for a sample of events
    with svc.uow() as uow:
        events = uow.log.leaves(0, last.size)
    started = time.perf_counter()
    for row in random.Random(7).sample(events, min(sample, len(events))):
        served = tlog.inclusion(svc, int(row.case_id), int(row.seq), last.size)
        proof = [base64.b64decode(h) for h in served["proof"]]
        leaf = base64.b64decode(served["leaf_hash"])
        assert leaf == leaves[served["leaf_index"]]
        assert merkle.verify_inclusion(served["leaf_index"], last.size, leaf, proof, last.root)
    served_ms = (time.perf_counter() - started) * 1000 / max(1, min(sample, len(events)))
    svc.engine.dispose()
    log_seconds = sequence_seconds + sign_seconds
    return {
        "cases": cases,
        "events": last.size,
        "checkpoints": len(checkpoints),
        "case_seconds": round(case_seconds, 2),
        "sequence_seconds": round(sequence_seconds, 3),
        "sign_seconds": round(sign_seconds, 3),
        "log_us_per_event": round(log_seconds / last.size * 1e6, 2),
        "step_us_per_event": round(case_seconds / last.size * 1e6, 1),
        "log_share_of_steps": round(log_seconds / case_seconds, 4),
        "idle_sequence_ms": round(idle_ms, 2),
        "inclusion_proofs_verified": last.size,
        "inclusion_us_per_proof_in_memory": round(inclusion_seconds / last.size * 1e6, 1),
        "consistency_proofs_verified": len(checkpoints) - 1,
        "served_inclusion_proofs_verified": min(sample, len(events)),
        "served_inclusion_ms_per_proof": round(served_ms, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tlog", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=100, help="cases between checkpoints")
    parser.add_argument("--sample", type=int, default=1000, help="proofs served from the tree")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    from engine.domain import signed_note

    with tempfile.TemporaryDirectory(prefix="lianban-tlog-") as folder:
        key = Path(folder) / "log.key"
        key.write_text(signed_note.generate_key("bench-log")[0] + "\n")
        os.environ["LIANBAN_LOG_KEY"] = str(key)
        os.environ["LIANBAN_LOG_ORIGIN"] = "lianban/bench"
        os.environ.pop("LIANBAN_LOG_DIR", None)
        os.environ.pop("LIANBAN_LOG_WITNESSES", None)
        database = pg_database("tlog") if args.pg else sqlite_database()
        with database as url:
            figures = _measure(url, args.cases, args.every, args.sample)
    figures["database"] = "postgresql" if args.pg else "sqlite"
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
