"""Where things are: the database URL and the shared forms folder, from the environment."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.domain.throttle import Limits

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def project_root() -> Path:
    """The source checkout when installed from one (editable install), else the working directory."""
    return PACKAGE_ROOT if (PACKAGE_ROOT / "pyproject.toml").exists() else Path.cwd()


def database_url() -> str:
    """`LIANBAN_DATABASE_URL`, else a SQLite file under the project's `var/` (created if missing)."""
    url = os.environ.get("LIANBAN_DATABASE_URL")
    if url:
        return url
    var = project_root() / "var"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'lianban.db'}"


def timezone() -> ZoneInfo:
    """`LIANBAN_TIMEZONE` (default Asia/Shanghai): the zone whose calendar days are counted."""
    return ZoneInfo(os.environ.get("LIANBAN_TIMEZONE", "Asia/Shanghai"))


def forms_dir() -> Path | None:
    """`LIANBAN_FORMS_DIR`, else the project's `forms/`: forms bundles may refer to by key."""
    configured = os.environ.get("LIANBAN_FORMS_DIR")
    if configured:
        return Path(configured)
    default = project_root() / "forms"
    return default if default.is_dir() else None


def secret_key() -> str:
    """`LIANBAN_SECRET_KEY`, else a random key kept in the project's `var/secret-key` (made on
    first use, readable by its owner only), so every server process, worker and restart shares it.

    It signs the sign-in session cookies and keys the hashes of the receipt codes (查询码): it
    lives outside the database, so a copy of the database alone cannot test codes offline. Keep
    it stable: a new key signs everyone out and makes every stored receipt code unusable."""
    configured = os.environ.get("LIANBAN_SECRET_KEY")
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"LIANBAN_SECRET_KEY is too short: at least {MIN_SECRET_LENGTH} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return configured
    path = project_root() / "var" / "secret-key"
    key = _read_or_create(path)
    if not key:
        raise ValueError(f"{path} is empty: set LIANBAN_SECRET_KEY, or restore the file's key")
    return key


MIN_SECRET_LENGTH = 16


def _read_or_create(path: Path) -> str:
    """The key in `path`, or a new one written there. The new file is complete before it
    appears (written aside, then hard-linked into place), so processes starting together all
    read the one key that won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text().strip()
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    return path.read_text().strip()


def throttle_limits() -> Limits:
    """The throttle's limits: the defaults, each replaced by its `LIANBAN_THROTTLE_<SCOPE>`
    (`failures/window/block/max_block`, e.g. `5/15m/5m/1h`) when set."""
    return Limits.from_env(os.environ)


@dataclass(frozen=True)
class EngineLimits:
    """What one case may make the engine do (docs/engine-guards.md §8).

    max_instances: instances one multi-instance activity may create, and iterations one loop
    activity may run (`LIANBAN_MAX_INSTANCES`, default 200).
    max_engine_tasks: engine tasks (gateways, events, business rule tasks...) one step may run
    (`LIANBAN_MAX_ENGINE_TASKS`, default 500).
    min_timer_seconds: the shortest time a timer waits after the step that starts it, and the
    shortest constant duration an upload may give one (`LIANBAN_MIN_TIMER_SECONDS`, default 1).
    timer_budget, timer_window_seconds: at most this many timer steps of one case within this
    many seconds; beyond it the case stops as an incident (`LIANBAN_TIMER_BUDGET`, `30/60`)."""

    max_instances: int = 200
    max_engine_tasks: int = 500
    min_timer_seconds: int = 1
    timer_budget: int = 30
    timer_window_seconds: int = 60


def _positive(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} 应为正整数, 不能是 {text!r}")
    return value


@cache
def engine_limits() -> EngineLimits:
    """The engine's limits from the environment, read once per process."""
    env = os.environ
    defaults = EngineLimits()
    budget, window = defaults.timer_budget, defaults.timer_window_seconds
    if env.get("LIANBAN_TIMER_BUDGET"):
        count, _, seconds = env["LIANBAN_TIMER_BUDGET"].partition("/")
        budget = _positive("LIANBAN_TIMER_BUDGET 的次数", count)
        window = _positive("LIANBAN_TIMER_BUDGET 的秒数", seconds or str(window))
    return EngineLimits(
        max_instances=_positive(
            "LIANBAN_MAX_INSTANCES", env.get("LIANBAN_MAX_INSTANCES", str(defaults.max_instances))
        ),
        max_engine_tasks=_positive(
            "LIANBAN_MAX_ENGINE_TASKS",
            env.get("LIANBAN_MAX_ENGINE_TASKS", str(defaults.max_engine_tasks)),
        ),
        min_timer_seconds=_positive(
            "LIANBAN_MIN_TIMER_SECONDS",
            env.get("LIANBAN_MIN_TIMER_SECONDS", str(defaults.min_timer_seconds)),
        ),
        timer_budget=budget,
        timer_window_seconds=window,
    )


@dataclass(frozen=True)
class LogSettings:
    """The transparency log (issue 20, docs/audit.md "The transparency log"); none of it is in
    the database.

    key_path: `LIANBAN_LOG_KEY`, the file of the log's signer key (`lianban log keygen`);
    without it events are still sequenced but no checkpoint is signed.
    origin: `LIANBAN_LOG_ORIGIN`, the checkpoints' first line (default "lianban/<host name>").
    publish_dir: `LIANBAN_LOG_DIR`, where each new checkpoint and its leaves are written: a
    directory the database's administrator cannot write.
    witnesses: `LIANBAN_LOG_WITNESSES`, comma-separated "BASE_URL TOKEN" of witnessing
    instances (the token of an account on each witness).
    witness_key_path, witness_logs, witness_dir: this instance as a witness:
    `LIANBAN_WITNESS_KEY` (its signer key file), `LIANBAN_WITNESS_LOGS` (comma-separated
    verifier keys of the logs it witnesses), `LIANBAN_WITNESS_DIR` (the last co-signed
    checkpoint of each log)."""

    key_path: Path | None
    origin: str
    publish_dir: Path | None
    witnesses: tuple[str, ...]
    witness_key_path: Path | None
    witness_logs: tuple[str, ...]
    witness_dir: Path | None


def log_settings() -> LogSettings:
    env = os.environ

    def path(name: str) -> Path | None:
        return Path(env[name]) if env.get(name) else None

    def items(name: str) -> tuple[str, ...]:
        return tuple(p.strip() for p in env.get(name, "").split(",") if p.strip())

    return LogSettings(
        key_path=path("LIANBAN_LOG_KEY"),
        origin=env.get("LIANBAN_LOG_ORIGIN") or f"lianban/{socket.gethostname()}",
        publish_dir=path("LIANBAN_LOG_DIR"),
        witnesses=items("LIANBAN_LOG_WITNESSES"),
        witness_key_path=path("LIANBAN_WITNESS_KEY"),
        witness_logs=items("LIANBAN_WITNESS_LOGS"),
        witness_dir=path("LIANBAN_WITNESS_DIR"),
    )
