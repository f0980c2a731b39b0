"""Run a corpus of public BPMN files through lianban as a designer and clerks would, and say
what became of each: refused clearly, refused confusingly, accepted and ran to the end, accepted
and stuck, or a 5xx.

    python -m tests.interop.corpus LIST [--mirror DIR] [--json OUT]
    python -m tests.interop.corpus docs/interop.md     # the corpus the docs report on

LIST has one entry per line, `owner/name path` (a `.bpmn`/`.bpmn20.xml` file, or a folder
uploaded as one zip with every `.bpmn`, `.dmn` and `.json` in it, as SpiffArena keeps a process
model); `#` starts a comment. A `.md` LIST is read from its ```corpus block. Files are read
from bare git clones under DIR (`git clone --bare https://github.com/owner/name
DIR/owner+name/repo`; default `/work/.mirror`) and never copied into this repository
(docs/interop.md lists the corpus used). Each entry gets a fresh SQLite database; a case is
started with data made from the start form, each open task is completed with data made from its
form (the smallest values the form accepts), and due timers are fired by the worker on a clock
moved a year on when nothing else is open.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.persistence.db import make_engine
from engine.persistence.schema import upgrade
from engine.services import Services, accounts, calendar, worker
from tests.fixtures.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".json")
# English prose in a message (four words or more), after quoted names and ids are taken out
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){3,}\b")
_QUOTED = re.compile(r"\[[^\]]*\]|'[^']*'|`[^`]*`|\"[^\"]*\"|\([^)]*\)|（[^）]*）")


@dataclass
class Outcome:
    repo: str
    path: str
    result: str  # refused-clear | refused-confusing | ran-to-end | stuck | step-refused | 5xx
    messages: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def _git_ls(mirror: Path, path: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(mirror), "ls-tree", "-r", "--name-only", "HEAD", "--", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return [p for p in out if p]


def _git_show(mirror: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(mirror), "show", f"HEAD:{path}"], capture_output=True, check=True
    ).stdout


def read_entry(mirrors: Path, repo: str, path: str) -> tuple[str, bytes]:
    """The upload for an entry: (file name, content); a folder becomes a zip."""
    mirror = mirrors / repo.replace("/", "+") / "repo"
    if path.lower().endswith((".bpmn", ".xml")):
        return path.rsplit("/", 1)[-1], _git_show(mirror, path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in _git_ls(mirror, path):
            if name.lower().endswith(SUFFIXES):
                archive.writestr(name[len(path) :].lstrip("/"), _git_show(mirror, name))
    return path.rstrip("/").rsplit("/", 1)[-1] + ".zip", buffer.getvalue()


def sample(schema: dict[str, Any], depth: int = 0) -> Any:
    """The smallest value a JSON Schema accepts, as far as a form asks (None: leave it out)."""
    if depth > 6 or not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    for key in ("oneOf", "anyOf"):
        for option in schema.get(key, []):
            if isinstance(option, dict) and "const" in option:
                return option["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        value = {}
        for name in schema.get("required", []):
            made = sample(schema.get("properties", {}).get(name, {}), depth + 1)
            value[name] = made if made is not None else "示例"
        return value
    if kind == "array":
        item = sample(schema.get("items", {}), depth + 1)
        return [item] * max(1, schema.get("minItems", 1)) if item is not None else []
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return int(low) + (1 if "exclusiveMinimum" in schema else 0) or 1
    if kind == "boolean":
        return True
    formats = {"date": "2026-03-02", "date-time": "2026-03-02T09:00:00+08:00", "email": "a@b.cn"}
    if schema.get("format") in formats:
        return formats[schema["format"]]
    return "示例" * max(1, (schema.get("minLength") or 1) // 2)


def _form_data(forms: dict[str, Any], key: str | None) -> dict[str, Any]:
    if not key or key not in forms:
        return {}
    made = sample(forms[key])
    return made if isinstance(made, dict) else {}


def _is_clear(message: str) -> bool:
    return not _ENGLISH.search(_QUOTED.sub("", message))


class Runner:
    def __init__(self, template: Path, work: Path) -> None:
        self.template = template
        self.work = work

    def run(self, repo: str, path: str, name: str, content: bytes) -> Outcome:
        from web import create_app

        database = self.work / "case.db"
        shutil.copy(self.template, database)
        clock = FakeClock()
        engine = make_engine(f"sqlite:///{database}")
        svc = Services(engine, ROOT / "forms", clock=clock)
        try:
            client = create_app({"SERVICES": svc, "TESTING": True}).test_client()
            return self._run(svc, client, clock, Outcome(repo, path, ""), name, content)
        finally:
            engine.dispose()

    def _run(
        self, svc: Services, client: Any, clock: FakeClock, out: Outcome, name: str, data: bytes
    ) -> Outcome:
        designer = self._user(svc, "designer", "designer", [])
        answer = client.post(
            "/api/v1/bundles",
            headers=designer,
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        body = answer.get_json(silent=True) or {}
        if answer.status_code >= 500:
            out.result, out.messages = "5xx", [str(answer.status_code)]
            return out
        if answer.status_code != 201:
            out.messages = [e.get("message", "") for e in body.get("errors", [])] or [
                body.get("error", "")
            ]
            clear = all(_is_clear(m) for m in out.messages)
            out.result = "refused-clear" if clear else "refused-confusing"
            return out
        key, version = body["key"], body["version"]
        detail = client.get(f"/api/v1/bundles/{key}/versions/{version}", headers=designer)
        forms = detail.get_json().get("forms", {})
        starter = self._user(svc, "window", "clerk", [])
        started = client.post(
            "/api/v1/cases",
            headers=starter,
            json={"bundle": key, "data": _form_data(forms, detail.get_json().get("start_form"))},
        )
        if started.status_code >= 500:
            out.result, out.messages = "5xx", ["start"]
            return out
        if started.status_code != 201:
            out.result = "step-refused"
            out.messages = [f"start: {started.get_json()}"]
            return out
        case = started.get_json()
        admin = self._user(svc, "admin", "admin", [])
        for _ in range(60):
            if case["status"] != "running":
                break
            if not case["tasks"]:
                clock.advance(days=400)
                worker.run_due(svc)
                case = client.get(f"/api/v1/cases/{case['id']}", headers=admin).get_json()
                if case["status"] == "running" and not case["tasks"]:
                    break
                continue
            task = case["tasks"][0]
            who = self._worker(svc, task)
            if not task.get("assignee"):
                client.post(f"/api/v1/tasks/{task['id']}/claim", headers=who)
            done = client.post(
                f"/api/v1/tasks/{task['id']}/complete",
                headers=who,
                json={"data": _form_data(forms, task.get("form"))},
            )
            if done.status_code >= 500:
                out.result, out.messages = "5xx", [f"complete {task['element']}"]
                return out
            if done.status_code != 200:
                out.result = "step-refused"
                out.messages = [f"{task['element']}: {done.get_json()}"]
                return out
            out.steps.append(task["element"])
            case = client.get(f"/api/v1/cases/{case['id']}", headers=admin).get_json()
        if case["status"] == "completed":
            out.result = "ran-to-end"
        else:
            out.result = "stuck"
            out.messages = [
                f"status {case['status']}, open: {[t['element'] for t in case['tasks']]}"
            ]
        return out

    def _user(self, svc: Services, name: str, role: str, groups: list[str]) -> dict[str, str]:
        """The headers of the user `name`, made on first use (one database per entry)."""
        if name not in self._tokens:
            _, token = accounts.create_user(svc, name, role, groups)
            self._tokens[name] = {"Authorization": f"Bearer {token}"}
        return self._tokens[name]

    def _worker(self, svc: Services, task: dict[str, Any]) -> dict[str, str]:
        """Who works a task: its assignee, a member of its first group, or a candidate user."""
        if task.get("assignee"):
            return self._user(svc, task["assignee"], "clerk", [])
        if task.get("groups"):
            group = task["groups"][0]
            return self._user(svc, f"member_of_{group}"[:60], "clerk", [group])
        return self._user(svc, (task.get("candidate_users") or ["nobody"])[0], "clerk", [])

    _tokens: dict[str, dict[str, str]] = {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("list", type=Path)
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--json", type=Path, help="write every outcome here")
    args = parser.parse_args(argv)
    entries = []
    lines = args.list.read_text().splitlines()
    if args.list.suffix == ".md":  # the list in docs/interop.md: its ```corpus block
        start = lines.index("```corpus") + 1
        lines = lines[start : lines.index("```", start)]
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            repo, path = line.split(None, 1)
            entries.append((repo, path.strip()))
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        seeded = Services(engine, ROOT / "forms")
        calendar.seed(seeded)
        engine.dispose()
        runner = Runner(template, work)
        for repo, path in entries:
            try:
                name, content = read_entry(args.mirror, repo, path)
            except subprocess.CalledProcessError:
                print(f"missing  {repo} {path}", file=sys.stderr)
                continue
            Runner._tokens = {}
            outcome = runner.run(repo, path, name, content)
            outcomes.append(outcome)
            unclear = [m for m in outcome.messages if not _is_clear(m)]
            first = (unclear or outcome.messages or [""])[0][:160].replace("\n", " ")
            print(f"{outcome.result:18} {repo} {path}  {first}")
    counts = Counter(o.result for o in outcomes)
    accepted = sum(counts[k] for k in ("ran-to-end", "stuck", "step-refused"))
    print(
        f"\n{len(outcomes)} files: accepted {accepted} (ran to the end {counts['ran-to-end']}, "
        f"stuck {counts['stuck']}, a step refused {counts['step-refused']}), refused clearly "
        f"{counts['refused-clear']}, refused confusingly {counts['refused-confusing']}, "
        f"5xx {counts['5xx']}"
    )
    if args.json:
        args.json.write_text(
            json.dumps([asdict(o) for o in outcomes], ensure_ascii=False, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
