"""Where things are: the database URL and the shared forms folder, from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

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
